
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MODELS = ['kfaccount', 'conversation', 'outboundmessage']


def content_types_relabel(apps, schema_editor, old="messaging", new="kefu"):
    """Content types follow the models, so permissions, group grants and admin log entries keep pointing at them."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if ContentType.objects.filter(app_label=new, model=model).exists():
            continue
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_restore(apps, schema_editor):
    content_types_relabel(apps, schema_editor, old="kefu", new="messaging")


class Migration(migrations.Migration):
    """The tables were created by messaging.0001-0003 and keep their names: this migration only takes over their state."""

    initial = True

    dependencies = [
        ('messaging', '0003_mass_batch_outcome_unknown'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('accounts', '0003_account_administrators'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Conversation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('openid', models.CharField(max_length=64, verbose_name='follower OpenID')),
                        ('last_message_at', models.DateTimeField(db_index=True, verbose_name='last message')),
                        ('last_preview', models.CharField(blank=True, max_length=120, verbose_name='last message')),
                        ('last_from_follower', models.BooleanField(default=True, verbose_name='last message from the follower')),
                        ('last_interaction_at', models.DateTimeField(blank=True, null=True, verbose_name='last interaction')),
                        ('unread_count', models.PositiveIntegerField(default=0, verbose_name='unread')),
                        ('last_read_at', models.DateTimeField(blank=True, null=True, verbose_name='last read at')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='conversations', to='accounts.officialaccount', verbose_name='account')),
                    ],
                    options={
                        'verbose_name': 'conversation (客服消息)',
                        'verbose_name_plural': 'customer-service inbox (客服消息)',
                        'db_table': 'messaging_conversation',
                        'ordering': ['-last_message_at', '-id'],
                        'indexes': [models.Index(fields=['account', '-last_message_at'], name='conversation_inbox_idx')],
                        'constraints': [models.UniqueConstraint(fields=('account', 'openid'), name='uniq_conversation_per_follower')],
                    },
                ),
                migrations.CreateModel(
                    name='KfAccount',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sync_status', models.CharField(choices=[('pending', 'pending sync'), ('syncing', 'syncing'), ('synced', 'synced'), ('failed', 'sync failed')], db_index=True, default='pending', max_length=16, verbose_name='sync status')),
                        ('synced_at', models.DateTimeField(blank=True, null=True, verbose_name='synced at')),
                        ('last_error', models.CharField(blank=True, max_length=255, verbose_name='last WeChat error')),
                        ('kf_account', models.CharField(help_text='prefix@weixin-id of the official account, e.g. support1@gh_123 (prefix: up to 10 letters, digits or _).', max_length=64, verbose_name='kf account (客服帐号)')),
                        ('nickname', models.CharField(max_length=16, verbose_name='nickname (客服昵称)')),
                        ('kf_id', models.CharField(blank=True, max_length=32, verbose_name='kf id (工号)')),
                        ('headimg_url', models.URLField(blank=True, max_length=500, verbose_name='avatar URL')),
                        ('avatar', models.FileField(blank=True, help_text='A JPEG image, ideally 640×640. It is uploaded to WeChat on the next sync.', upload_to='kf_avatars/', verbose_name='avatar (头像)')),
                        ('avatar_pending', models.BooleanField(default=False, verbose_name='avatar waiting for upload')),
                        ('kf_wx', models.CharField(blank=True, max_length=64, verbose_name='bound WeChat ID (绑定微信号)')),
                        ('invite_wx', models.CharField(blank=True, help_text='The personal WeChat ID of the worker to invite; they confirm the invitation in WeChat.', max_length=64, verbose_name='invite WeChat ID (邀请绑定)')),
                        ('invite_pending', models.BooleanField(default=False, verbose_name='invitation waiting to be sent')),
                        ('invite_status', models.CharField(blank=True, choices=[('', 'not invited'), ('waiting', 'waiting for the worker (待确认)'), ('rejected', 'rejected (已拒绝)'), ('expired', 'expired (已过期)')], max_length=16, verbose_name='invitation status')),
                        ('invite_expire_time', models.DateTimeField(blank=True, null=True, verbose_name='invitation expires at')),
                        ('online_status', models.PositiveSmallIntegerField(default=0, help_text="0 offline, 1 web client online (WeChat's getonlinekflist).", verbose_name='online status')),
                        ('accepted_case', models.PositiveIntegerField(default=0, verbose_name='open sessions')),
                        ('exists_at_wechat', models.BooleanField(default=False, verbose_name='created at WeChat')),
                        ('delete_requested', models.BooleanField(default=False, verbose_name='deletion requested')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='kf_accounts', to='accounts.officialaccount', verbose_name='account')),
                    ],
                    options={
                        'verbose_name': 'KF account (客服帐号)',
                        'verbose_name_plural': 'KF accounts (客服帐号)',
                        'db_table': 'messaging_kfaccount',
                        'ordering': ['account', 'kf_account'],
                        'constraints': [models.UniqueConstraint(fields=('account', 'kf_account'), name='uniq_kf_account_per_account')],
                    },
                ),
                migrations.CreateModel(
                    name='OutboundMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('openid', models.CharField(max_length=64, verbose_name='follower OpenID')),
                        ('msgtype', models.CharField(max_length=32, verbose_name='message type')),
                        ('payload', models.JSONField(default=dict, help_text="WeChat's body without touser.", verbose_name='message body')),
                        ('kf_account', models.CharField(blank=True, max_length=64, verbose_name='kf account (客服帐号)')),
                        ('source', models.CharField(choices=[('operator', 'operator'), ('auto_reply', 'auto-reply')], default='auto_reply', max_length=16, verbose_name='source')),
                        ('status', models.CharField(choices=[('queued', 'queued'), ('sending', 'sending'), ('sent', 'sent'), ('failed', 'failed'), ('unknown', 'unknown (no answer from WeChat)')], db_index=True, default='queued', max_length=16, verbose_name='status')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                        ('task_id', models.CharField(blank=True, db_index=True, max_length=64, verbose_name='task id')),
                        ('errcode', models.IntegerField(blank=True, null=True, verbose_name='errcode')),
                        ('errmsg', models.CharField(blank=True, max_length=255, verbose_name='errmsg')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                        ('sent_at', models.DateTimeField(blank=True, null=True, verbose_name='sent at')),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='outbound_messages', to='accounts.officialaccount', verbose_name='account')),
                        ('operator', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='operator')),
                    ],
                    options={
                        'verbose_name': 'customer-service message (客服消息)',
                        'verbose_name_plural': 'customer-service message log (客服消息记录)',
                        'db_table': 'messaging_outboundmessage',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['account', 'openid', '-created_at'], name='outbound_thread_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_relabel, content_types_restore),
    ]
