
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MODELS = ['messagetemplate', 'templatepush', 'templatemessage']


def content_types_relabel(apps, schema_editor, old="messaging", new="templatemsg"):
    """Content types follow the models, so permissions, group grants and admin log entries keep pointing at them."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if ContentType.objects.filter(app_label=new, model=model).exists():
            continue
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_restore(apps, schema_editor):
    content_types_relabel(apps, schema_editor, old="templatemsg", new="messaging")


class Migration(migrations.Migration):
    """The tables were created by messaging.0001-0003 and keep their names: this migration only takes over their state."""

    initial = True

    dependencies = [
        ('messaging', '0004_tag_to_followers'),
        ('followers', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('accounts', '0003_account_administrators'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='MessageTemplate',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sync_status', models.CharField(choices=[('pending', 'pending sync'), ('syncing', 'syncing'), ('synced', 'synced'), ('failed', 'sync failed')], db_index=True, default='pending', max_length=16, verbose_name='sync status')),
                        ('synced_at', models.DateTimeField(blank=True, null=True, verbose_name='synced at')),
                        ('last_error', models.CharField(blank=True, max_length=255, verbose_name='last WeChat error')),
                        ('template_id', models.CharField(max_length=64, verbose_name='template ID')),
                        ('template_id_short', models.CharField(blank=True, max_length=64, verbose_name='library number (编号)')),
                        ('title', models.CharField(blank=True, max_length=128, verbose_name='title')),
                        ('primary_industry', models.CharField(blank=True, max_length=64, verbose_name='primary industry')),
                        ('deputy_industry', models.CharField(blank=True, max_length=64, verbose_name='deputy industry')),
                        ('content', models.TextField(blank=True, verbose_name='content')),
                        ('example', models.TextField(blank=True, verbose_name='example')),
                        ('keywords', models.JSONField(blank=True, default=list, help_text='Keyword names parsed from the content, e.g. keyword1, thing2.', verbose_name='keywords')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='message_templates', to='accounts.officialaccount', verbose_name='account')),
                    ],
                    options={
                        'verbose_name': 'message template (模板)',
                        'verbose_name_plural': 'message templates (模板消息 · 我的模板)',
                        'db_table': 'messaging_messagetemplate',
                        'ordering': ['account', 'title', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='TemplatePush',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('data', models.JSONField(default=dict, help_text='{"keyword1": {"value": "…"}, …}', verbose_name='data')),
                        ('url', models.URLField(blank=True, max_length=1024, verbose_name='link URL')),
                        ('miniprogram_appid', models.CharField(blank=True, max_length=64, verbose_name='mini-program AppID')),
                        ('miniprogram_pagepath', models.CharField(blank=True, max_length=512, verbose_name='mini-program page path')),
                        ('name', models.CharField(max_length=100, verbose_name='name')),
                        ('audience', models.CharField(choices=[('tag', 'Followers with a tag (标签)'), ('all', 'All subscribed followers (全部粉丝)'), ('openids', 'An OpenID list')], default='tag', max_length=16, verbose_name='audience')),
                        ('openids', models.JSONField(blank=True, default=list, verbose_name='OpenIDs')),
                        ('scheduled_at', models.DateTimeField(db_index=True, verbose_name='send at')),
                        ('rate_limit', models.PositiveIntegerField(default=500, verbose_name='rate limit (messages/s)')),
                        ('status', models.CharField(choices=[('scheduled', 'scheduled (待发送)'), ('sending', 'sending (发送中)'), ('sent', 'sent (已发送)'), ('stopped', 'stopped (已暂停)'), ('cancelled', 'cancelled (已取消)')], db_index=True, default='scheduled', max_length=16, verbose_name='status')),
                        ('expanded', models.BooleanField(default=False, verbose_name='audience expanded')),
                        ('total', models.PositiveIntegerField(default=0, verbose_name='receivers')),
                        ('sent_count', models.PositiveIntegerField(default=0, verbose_name='sent')),
                        ('success_count', models.PositiveIntegerField(default=0, verbose_name='delivered')),
                        ('failed_count', models.PositiveIntegerField(default=0, verbose_name='failed')),
                        ('last_error', models.CharField(blank=True, max_length=255, verbose_name='last WeChat error')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started at')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True, verbose_name='last progress')),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='template_pushes', to='accounts.officialaccount', verbose_name='account')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                        ('tag', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='template_pushes', to='followers.tag', verbose_name='tag')),
                        ('template', models.ForeignKey(on_delete=django.db.models.deletion.RESTRICT, related_name='pushes', to='templatemsg.messagetemplate', verbose_name='template')),
                    ],
                    options={
                        'verbose_name': 'template push (模板消息群发)',
                        'verbose_name_plural': 'template pushes (定时模板消息推送)',
                        'db_table': 'messaging_templatepush',
                        'ordering': ['-scheduled_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='TemplateMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('data', models.JSONField(default=dict, help_text='{"keyword1": {"value": "…"}, …}', verbose_name='data')),
                        ('url', models.URLField(blank=True, max_length=1024, verbose_name='link URL')),
                        ('miniprogram_appid', models.CharField(blank=True, max_length=64, verbose_name='mini-program AppID')),
                        ('miniprogram_pagepath', models.CharField(blank=True, max_length=512, verbose_name='mini-program page path')),
                        ('openid', models.CharField(max_length=64, verbose_name='follower OpenID')),
                        ('wechat_template_id', models.CharField(max_length=64, verbose_name='template ID')),
                        ('client_msg_id', models.CharField(max_length=32, verbose_name='client_msg_id (防重入 id)')),
                        ('status', models.CharField(choices=[('queued', 'queued (排队中)'), ('sending', 'sending (发送中)'), ('sent', 'sent, awaiting result (已发送)'), ('success', 'delivered (送达成功)'), ('failed_user_block', 'blocked by the user (用户拒收)'), ('failed_system', 'failed at WeChat (系统原因失败)'), ('failed', 'failed (发送失败)')], default='queued', max_length=20, verbose_name='status')),
                        ('msgid', models.CharField(blank=True, max_length=32, verbose_name='MsgID')),
                        ('errcode', models.IntegerField(blank=True, null=True, verbose_name='errcode')),
                        ('error', models.CharField(blank=True, max_length=255, verbose_name='error')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='send attempts')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('claimed_at', models.DateTimeField(blank=True, null=True, verbose_name='claimed at')),
                        ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='result at')),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='template_messages', to='accounts.officialaccount', verbose_name='account')),
                        ('template', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to='templatemsg.messagetemplate', verbose_name='template')),
                        ('push', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='templatemsg.templatepush', verbose_name='push')),
                    ],
                    options={
                        'verbose_name': 'template message (模板消息)',
                        'verbose_name_plural': 'template messages (模板消息)',
                        'db_table': 'messaging_templatemessage',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='messagetemplate',
                    constraint=models.UniqueConstraint(fields=('account', 'template_id'), name='uniq_message_template_per_account'),
                ),
                migrations.AddIndex(
                    model_name='templatemessage',
                    index=models.Index(fields=['account', 'msgid'], name='template_msg_msgid_idx'),
                ),
                migrations.AddIndex(
                    model_name='templatemessage',
                    index=models.Index(fields=['push', 'status'], name='template_msg_push_status_idx'),
                ),
                migrations.AddIndex(
                    model_name='templatemessage',
                    index=models.Index(fields=['account', '-created_at'], name='template_msg_recent_idx'),
                ),
                migrations.AddConstraint(
                    model_name='templatemessage',
                    constraint=models.UniqueConstraint(fields=('account', 'client_msg_id'), name='uniq_template_client_msg_id'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_relabel, content_types_restore),
    ]
