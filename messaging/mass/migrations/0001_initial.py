
import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MODELS = ['massmessage', 'massbatch', 'massmessageevent', 'idempotencykey']


def content_types_relabel(apps, schema_editor, old="messaging", new="mass"):
    """Content types follow the models, so permissions, group grants and admin log entries keep pointing at them."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if ContentType.objects.filter(app_label=new, model=model).exists():
            continue
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_restore(apps, schema_editor):
    content_types_relabel(apps, schema_editor, old="mass", new="messaging")


class Migration(migrations.Migration):
    """The tables were created by messaging.0001-0003 and keep their names: this migration only takes over their state."""

    initial = True

    dependencies = [
        ('messaging', '0004_tag_to_followers'),
        ('followers', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('accounts', '0003_account_administrators'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='MassMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(help_text='Only shown in this back office.', max_length=120, verbose_name='internal title')),
                        ('msgtype', models.CharField(choices=[('text', 'Text (文字)'), ('image', 'Image(s) (图片)'), ('voice', 'Voice (语音)'), ('mpvideo', 'Video (视频)'), ('mpnews', 'Article (图文)'), ('wxcard', 'Card (卡券)')], default='text', max_length=16, verbose_name='message type')),
                        ('content', models.TextField(blank=True, verbose_name='text')),
                        ('media_id', models.CharField(blank=True, help_text="Voice, video (mpvideo) or the article's draft media_id.", max_length=128, verbose_name='media_id')),
                        ('media_ids', models.JSONField(blank=True, default=list, verbose_name='image media_ids')),
                        ('recommend', models.CharField(blank=True, max_length=300, verbose_name='recommendation text')),
                        ('need_open_comment', models.BooleanField(default=False, verbose_name='open comments (打开评论)')),
                        ('only_fans_can_comment', models.BooleanField(default=False, verbose_name='only followers may comment')),
                        ('video_title', models.CharField(blank=True, max_length=64, verbose_name='video title')),
                        ('video_description', models.CharField(blank=True, max_length=120, verbose_name='video description')),
                        ('card_id', models.CharField(blank=True, max_length=64, verbose_name='card_id')),
                        ('send_ignore_reprint', models.BooleanField(default=False, help_text="WeChat's send_ignore_reprint: without it an article judged a reprint is not sent.", verbose_name='send even if judged a reprint (转载仍群发)')),
                        ('audience', models.CharField(choices=[('all', 'All followers (全部用户)'), ('tag', 'One tag (按标签)'), ('openids', 'OpenID list (按 OpenID)'), ('filter', 'Saved follower filter (粉丝筛选)')], default='all', max_length=16, verbose_name='audience')),
                        ('openids', models.JSONField(blank=True, default=list, help_text='Normalised: unique, in upload order.', verbose_name='OpenIDs')),
                        ('follower_filter', models.JSONField(blank=True, default=dict, help_text='Keys: tag (local tag id), subscribe_scene, subscribed_after, subscribed_before (YYYY-MM-DD).', verbose_name='follower filter')),
                        ('status', models.CharField(choices=[('draft', 'Draft (草稿)'), ('scheduled', 'Scheduled (定时)'), ('sending', 'Sending (发送中)'), ('sent', 'Sent (已发送)'), ('partially_failed', 'Partially failed (部分失败)'), ('failed', 'Failed (发送失败)'), ('cancelled', 'Cancelled (已取消)')], db_index=True, default='draft', max_length=20, verbose_name='status')),
                        ('scheduled_at', models.DateTimeField(blank=True, db_index=True, null=True, verbose_name='send at')),
                        ('version', models.PositiveIntegerField(default=1, verbose_name='version')),
                        ('errcode', models.IntegerField(blank=True, null=True, verbose_name='errcode')),
                        ('last_error', models.TextField(blank=True, verbose_name='last error')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='sending started at')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='mass_messages', to='accounts.officialaccount', verbose_name='account')),
                        ('cloned_from', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='runs', to='mass.massmessage', verbose_name='copied from')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                        ('recurring_task', models.OneToOneField(blank=True, help_text='Each run copies this message into a new mass send.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='mass_template', to='django_celery_beat.periodictask', verbose_name='recurrence (定期群发)')),
                        ('tag', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='mass_messages', to='followers.tag', verbose_name='tag')),
                    ],
                    options={
                        'verbose_name': 'mass message (群发消息)',
                        'verbose_name_plural': 'mass messages (群发消息)',
                        'db_table': 'messaging_massmessage',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='MassBatch',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('index', models.PositiveIntegerField(verbose_name='batch')),
                        ('clientmsgid', models.CharField(max_length=32, unique=True, verbose_name='clientmsgid')),
                        ('openids', models.JSONField(blank=True, default=list, verbose_name='OpenIDs')),
                        ('tag_wechat_id', models.IntegerField(blank=True, null=True, verbose_name='WeChat tag id')),
                        ('recipients', models.PositiveIntegerField(default=0, verbose_name='audience size')),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Calling WeChat'), ('submitted', 'Accepted by WeChat'), ('finished', 'Finished (任务完成)'), ('failed', 'Rejected by WeChat'), ('unknown', 'Outcome unknown'), ('cancelled', 'Cancelled')], db_index=True, default='pending', max_length=16, verbose_name='status')),
                        ('attempts', models.PositiveIntegerField(default=0, verbose_name='calls made')),
                        ('first_called_at', models.DateTimeField(blank=True, help_text='WeChat remembers a clientmsgid for 24 hours; a repeat within that window cannot send twice.', null=True, verbose_name='first call with this clientmsgid')),
                        ('outcome_unknown', models.BooleanField(default=False, help_text='A call with this clientmsgid timed out or was cut off, so WeChat may have sent it.', verbose_name='a call may have taken effect')),
                        ('lease_until', models.DateTimeField(blank=True, db_index=True, null=True, verbose_name='lease until')),
                        ('msg_id', models.CharField(blank=True, db_index=True, max_length=32, verbose_name='msg_id')),
                        ('msg_data_id', models.CharField(blank=True, max_length=32, verbose_name='msg_data_id')),
                        ('errcode', models.IntegerField(blank=True, null=True, verbose_name='errcode')),
                        ('errmsg', models.CharField(blank=True, max_length=255, verbose_name='errmsg')),
                        ('job_status', models.CharField(blank=True, help_text='Status of MASSSENDJOBFINISH.', max_length=64, verbose_name='job status')),
                        ('msg_status', models.CharField(blank=True, max_length=32, verbose_name='mass/get status')),
                        ('total_count', models.PositiveIntegerField(blank=True, null=True, verbose_name='TotalCount')),
                        ('filter_count', models.PositiveIntegerField(blank=True, null=True, verbose_name='FilterCount')),
                        ('sent_count', models.PositiveIntegerField(blank=True, null=True, verbose_name='SentCount')),
                        ('error_count', models.PositiveIntegerField(blank=True, null=True, verbose_name='ErrorCount')),
                        ('check_state', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='copyright CheckState')),
                        ('copyright_results', models.JSONField(blank=True, default=list, verbose_name='copyright check results')),
                        ('article_urls', models.JSONField(blank=True, default=list, verbose_name='article URLs')),
                        ('submitted_at', models.DateTimeField(blank=True, null=True, verbose_name='accepted at')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                        ('polled_at', models.DateTimeField(blank=True, null=True, verbose_name='last mass/get')),
                        ('deleted_at', models.DateTimeField(blank=True, null=True, verbose_name='article deleted at')),
                        ('message', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='batches', to='mass.massmessage', verbose_name='mass message')),
                    ],
                    options={
                        'verbose_name': 'mass send batch',
                        'verbose_name_plural': 'mass send batches',
                        'db_table': 'messaging_massbatch',
                        'ordering': ['message', 'index'],
                    },
                ),
                migrations.CreateModel(
                    name='MassMessageEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='at')),
                        ('old_status', models.CharField(blank=True, max_length=20, verbose_name='from')),
                        ('new_status', models.CharField(blank=True, max_length=20, verbose_name='to')),
                        ('actor_label', models.CharField(blank=True, max_length=32, verbose_name='by (system)')),
                        ('reason', models.TextField(blank=True, verbose_name='reason')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                        ('batch', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='mass.massbatch', verbose_name='batch')),
                        ('message', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='mass.massmessage', verbose_name='mass message')),
                    ],
                    options={
                        'verbose_name': 'mass message event',
                        'verbose_name_plural': 'mass message events',
                        'db_table': 'messaging_massmessageevent',
                        'ordering': ['at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='IdempotencyKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=255, verbose_name='idempotency key')),
                        ('endpoint', models.CharField(max_length=64, verbose_name='endpoint')),
                        ('request_hash', models.CharField(max_length=64, verbose_name='request fingerprint')),
                        ('status_code', models.PositiveSmallIntegerField(verbose_name='answer status')),
                        ('response_body', models.JSONField(encoder=django.core.serializers.json.DjangoJSONEncoder, verbose_name='answer body')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='idempotency_keys', to='accounts.officialaccount', verbose_name='account')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='API user')),
                    ],
                    options={
                        'verbose_name': 'idempotency key',
                        'verbose_name_plural': 'idempotency keys',
                        'db_table': 'messaging_idempotencykey',
                        'constraints': [models.UniqueConstraint(fields=('account', 'key'), name='uniq_idempotency_key_per_account')],
                    },
                ),
                migrations.AddIndex(
                    model_name='massmessage',
                    index=models.Index(fields=['status', 'scheduled_at'], name='mass_due_idx'),
                ),
                migrations.AddConstraint(
                    model_name='massbatch',
                    constraint=models.UniqueConstraint(fields=('message', 'index'), name='uniq_mass_batch_index'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_relabel, content_types_restore),
    ]
