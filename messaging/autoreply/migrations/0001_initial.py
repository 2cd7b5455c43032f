
import django.db.models.deletion
from django.db import migrations, models


MODELS = ['autoreplyrule', 'autoreplycontent', 'autoreplyversion']


def content_types_relabel(apps, schema_editor, old="messaging", new="autoreply"):
    """Content types follow the models, so permissions, group grants and admin log entries keep pointing at them."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if ContentType.objects.filter(app_label=new, model=model).exists():
            continue
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_restore(apps, schema_editor):
    content_types_relabel(apps, schema_editor, old="autoreply", new="messaging")


class Migration(migrations.Migration):
    """The tables were created by messaging.0001-0003 and keep their names: this migration only takes over their state."""

    initial = True

    dependencies = [
        ('messaging', '0003_mass_batch_outcome_unknown'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('accounts', '0003_account_administrators'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AutoReplyVersion',
                    fields=[
                        ('account', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='auto_reply_version', serialize=False, to='accounts.officialaccount')),
                        ('version', models.CharField(max_length=32)),
                    ],
                    options={
                        'verbose_name': 'auto-reply rules version',
                        'verbose_name_plural': 'auto-reply rules versions',
                        'db_table': 'messaging_autoreplyversion',
                    },
                ),
                migrations.CreateModel(
                    name='AutoReplyRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=60, verbose_name='rule name (规则名称)')),
                        ('trigger', models.CharField(choices=[('subscribe', 'Follow (被关注回复)'), ('keyword', 'Keyword (关键词回复)'), ('default', 'Any other message (收到消息回复)'), ('click', 'Menu click (菜单点击)'), ('scan', 'QR code scan (扫码)'), ('unsubscribe', 'Unfollow (取消关注), no reply'), ('location', 'Location report (上报地理位置), no reply'), ('event', 'Other event, no reply')], default='keyword', max_length=16, verbose_name='trigger')),
                        ('keywords', models.TextField(blank=True, help_text='One per line. Matching ignores case. For regular expressions, one pattern per line.', verbose_name='keywords (关键词)')),
                        ('match_type', models.CharField(choices=[('exact', 'Exact (全匹配)'), ('contains', 'Contains (半匹配)'), ('regex', 'Regular expression')], default='exact', max_length=16, verbose_name='match type')),
                        ('event_key', models.CharField(blank=True, help_text="Menu clicks: the button key (e.g. V1001_TODAY_MUSIC). QR scans: the scene id or string, without 'qrscene_'. Other events: optional EventKey to require.", max_length=128, verbose_name='event key')),
                        ('event_name', models.CharField(blank=True, help_text="Other events only: WeChat's event name, e.g. VIEW, scancode_push, location_select (any case).", max_length=64, verbose_name='event name')),
                        ('reply_mode', models.CharField(choices=[('all', 'Reply all (回复全部)'), ('random', 'Random one (随机回复一条)')], default='all', max_length=8, verbose_name='reply mode')),
                        ('priority', models.IntegerField(default=0, help_text='Higher numbers are tried first.', verbose_name='priority')),
                        ('enabled', models.BooleanField(db_index=True, default=True, verbose_name='enabled')),
                        ('active_from', models.TimeField(blank=True, null=True, verbose_name='active from')),
                        ('active_until', models.TimeField(blank=True, help_text='Leave both empty for all day. A window may wrap midnight (22:00 – 06:00). Server time zone.', null=True, verbose_name='active until')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='auto_reply_rules', to='accounts.officialaccount', verbose_name='account')),
                    ],
                    options={
                        'verbose_name': 'auto-reply rule (自动回复)',
                        'verbose_name_plural': 'auto-reply rules (自动回复)',
                        'db_table': 'messaging_autoreplyrule',
                        'ordering': ['account', '-priority', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='AutoReplyContent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveSmallIntegerField(default=0, verbose_name='order')),
                        ('reply_type', models.CharField(choices=[('text', 'Text (文字)'), ('image', 'Image (图片)'), ('voice', 'Voice (语音)'), ('video', 'Video (视频)'), ('music', 'Music (音乐)'), ('news', 'Link article (图文)'), ('transfer_customer_service', 'Transfer to customer service (转人工客服)')], default='text', max_length=32, verbose_name='reply type')),
                        ('text', models.TextField(blank=True, help_text='Text replies. Links are HTML a tags with an https href.', verbose_name='text')),
                        ('media_id', models.CharField(blank=True, max_length=128, verbose_name='media_id')),
                        ('title', models.CharField(blank=True, max_length=64, verbose_name='title')),
                        ('description', models.CharField(blank=True, max_length=512, verbose_name='description')),
                        ('music_url', models.URLField(blank=True, max_length=512, verbose_name='music URL')),
                        ('hq_music_url', models.URLField(blank=True, max_length=512, verbose_name='HQ music URL')),
                        ('thumb_media_id', models.CharField(blank=True, max_length=128, verbose_name='thumbnail media_id')),
                        ('articles', models.JSONField(blank=True, default=list, help_text='News only: [{"title": "…", "description": "…", "url": "https://…", "picurl": "https://…"}]', verbose_name='articles')),
                        ('kf_account', models.CharField(blank=True, help_text='Optional, e.g. test1@test; empty: any agent.', max_length=64, verbose_name='customer-service account')),
                        ('rule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='contents', to='autoreply.autoreplyrule', verbose_name='rule')),
                    ],
                    options={
                        'verbose_name': 'reply',
                        'verbose_name_plural': 'replies',
                        'db_table': 'messaging_autoreplycontent',
                        'ordering': ['rule', 'position', 'id'],
                    },
                ),
                migrations.AddIndex(
                    model_name='autoreplyrule',
                    index=models.Index(fields=['account', 'enabled'], name='autoreply_account_enabled_idx'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_relabel, content_types_restore),
    ]
