
import django.db.models.deletion
from django.db import migrations, models


MODELS = ['inboundmessage']


def content_types_relabel(apps, schema_editor, old="messaging", new="inbound"):
    """Content types follow the models, so permissions, group grants and admin log entries keep pointing at them."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if ContentType.objects.filter(app_label=new, model=model).exists():
            continue
        ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_restore(apps, schema_editor):
    content_types_relabel(apps, schema_editor, old="inbound", new="messaging")


class Migration(migrations.Migration):
    """The tables were created by messaging.0001-0003 and keep their names: this migration only takes over their state."""

    initial = True

    dependencies = [
        ('messaging', '0003_mass_batch_outcome_unknown'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('accounts', '0003_account_administrators'),
        ('autoreply', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='InboundMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('openid', models.CharField(max_length=64, verbose_name='follower OpenID')),
                        ('msg_type', models.CharField(max_length=32, verbose_name='message type')),
                        ('event', models.CharField(blank=True, max_length=64, verbose_name='event')),
                        ('event_key', models.CharField(blank=True, max_length=512, verbose_name='event key')),
                        ('content', models.TextField(blank=True, verbose_name='content')),
                        ('msg_id', models.CharField(blank=True, max_length=32, verbose_name='MsgId')),
                        ('dedupe_key', models.CharField(max_length=700, verbose_name='dedupe key')),
                        ('payload', models.JSONField(default=dict, verbose_name='fields')),
                        ('raw_xml', models.TextField(verbose_name='raw XML')),
                        ('create_time', models.DateTimeField(verbose_name='sent at (CreateTime)')),
                        ('received_at', models.DateTimeField(auto_now_add=True, verbose_name='received at')),
                        ('reply_xml', models.TextField(blank=True, help_text="Empty means 'success' (no reply).", verbose_name='reply')),
                        ('reply_sent', models.BooleanField(default=False, verbose_name='reply sent')),
                        ('handled_at', models.DateTimeField(blank=True, null=True, verbose_name='side effects done at')),
                        ('account', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='inbound_messages', to='accounts.officialaccount', verbose_name='account')),
                        ('matched_rule', models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='inbound_messages', to='autoreply.autoreplyrule', verbose_name='matched auto-reply rule')),
                    ],
                    options={
                        'verbose_name': 'inbound message',
                        'verbose_name_plural': 'inbound messages',
                        'db_table': 'messaging_inboundmessage',
                        'ordering': ['-received_at', '-id'],
                        'indexes': [models.Index(fields=['account', 'openid', '-received_at'], name='inbound_thread_idx'), models.Index(condition=models.Q(('handled_at__isnull', True)), fields=['account', 'id'], name='inbound_unhandled_idx')],
                        'constraints': [models.UniqueConstraint(fields=('account', 'dedupe_key'), name='uniq_inbound_dedupe_key')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_relabel, content_types_restore),
    ]
