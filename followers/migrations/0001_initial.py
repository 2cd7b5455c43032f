"""Tag, Follower, FollowerOperation and SyncJob move from accounts to followers.

The tables keep their names (accounts_*), so the move changes the migration state only; the content types
are relabelled so that permissions, user and group grants and admin log entries follow the models.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ("tag", "follower", "followeroperation", "syncjob")


def relabel_content_types(apps, schema_editor, old="accounts", new="followers"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if not ContentType.objects.using(db).filter(app_label=new, model=model).exists():
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)
    ContentType.objects.clear_cache()


def relabel_content_types_back(apps, schema_editor):
    relabel_content_types(apps, schema_editor, old="followers", new="accounts")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0003_account_administrators'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Tag',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sync_status', models.CharField(choices=[('pending', 'pending sync'), ('syncing', 'syncing'), ('synced', 'synced'), ('failed', 'sync failed')], db_index=True, default='pending', max_length=16, verbose_name='sync status')),
                        ('synced_at', models.DateTimeField(blank=True, null=True, verbose_name='synced at')),
                        ('last_error', models.CharField(blank=True, max_length=255, verbose_name='last WeChat error')),
                        ('wechat_id', models.IntegerField(blank=True, null=True, verbose_name='WeChat tag id')),
                        ('name', models.CharField(max_length=30, verbose_name='name')),
                        ('follower_count', models.PositiveIntegerField(default=0, verbose_name='followers (per WeChat)')),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tags', to='accounts.officialaccount', verbose_name='account')),
                    ],
                    options={
                        'verbose_name': 'tag (用户标签)',
                        'verbose_name_plural': 'tags (用户标签)',
                        'db_table': 'accounts_tag',
                        'ordering': ['account', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='FollowerOperation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sync_status', models.CharField(choices=[('pending', 'pending sync'), ('syncing', 'syncing'), ('synced', 'synced'), ('failed', 'sync failed')], db_index=True, default='pending', max_length=16, verbose_name='sync status')),
                        ('synced_at', models.DateTimeField(blank=True, null=True, verbose_name='synced at')),
                        ('last_error', models.CharField(blank=True, max_length=255, verbose_name='last WeChat error')),
                        ('kind', models.CharField(choices=[('tag', 'add to tag (打标签)'), ('untag', 'remove from tag (取消标签)'), ('blacklist', 'add to blacklist (拉黑)'), ('unblacklist', 'remove from blacklist (取消拉黑)'), ('remark', 'set remark (备注名)')], max_length=16, verbose_name='kind')),
                        ('openids', models.JSONField(default=list, verbose_name='OpenIDs')),
                        ('remark', models.CharField(blank=True, max_length=30, verbose_name='remark')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='requested at')),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='follower_operations', to='accounts.officialaccount', verbose_name='account')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='requested by')),
                        ('tag', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='operations', to='followers.tag', verbose_name='tag')),
                    ],
                    options={
                        'verbose_name': 'follower change (粉丝操作记录)',
                        'verbose_name_plural': 'follower changes (粉丝操作记录)',
                        'db_table': 'accounts_followeroperation',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Follower',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('openid', models.CharField(max_length=64, verbose_name='OpenID')),
                        ('unionid', models.CharField(blank=True, db_index=True, max_length=64, verbose_name='UnionID')),
                        ('subscribed', models.BooleanField(db_index=True, default=True, verbose_name='subscribed')),
                        ('subscribe_time', models.DateTimeField(blank=True, db_index=True, null=True, verbose_name='subscribed at')),
                        ('unsubscribed_at', models.DateTimeField(blank=True, null=True, verbose_name='unsubscribed at')),
                        ('subscribe_scene', models.CharField(blank=True, db_index=True, max_length=32, verbose_name='subscribe scene')),
                        ('qr_scene', models.CharField(blank=True, max_length=64, verbose_name='QR scene')),
                        ('language', models.CharField(blank=True, max_length=16, verbose_name='language')),
                        ('remark', models.CharField(blank=True, max_length=30, verbose_name='remark (备注名)')),
                        ('blacklisted', models.BooleanField(db_index=True, default=False, verbose_name='blacklisted')),
                        ('latitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True, verbose_name='latitude')),
                        ('longitude', models.DecimalField(blank=True, decimal_places=6, max_digits=9, null=True, verbose_name='longitude')),
                        ('location_precision', models.FloatField(blank=True, null=True, verbose_name='location precision')),
                        ('location_at', models.DateTimeField(blank=True, null=True, verbose_name='location reported at')),
                        ('last_interaction_at', models.DateTimeField(blank=True, db_index=True, null=True, verbose_name='last interaction')),
                        ('synced_at', models.DateTimeField(blank=True, null=True, verbose_name='synced at')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='followers', to='accounts.officialaccount', verbose_name='account')),
                        ('tags', models.ManyToManyField(blank=True, related_name='followers', to='followers.tag', verbose_name='tags')),
                    ],
                    options={
                        'verbose_name': 'follower (粉丝)',
                        'verbose_name_plural': 'followers (粉丝)',
                        'db_table': 'accounts_follower',
                        'ordering': ['-subscribe_time', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='SyncJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('followers', 'followers (粉丝)')], default='followers', max_length=16, verbose_name='kind')),
                        ('status', models.CharField(choices=[('queued', 'queued'), ('running', 'running'), ('succeeded', 'succeeded'), ('failed', 'failed')], db_index=True, default='queued', max_length=16, verbose_name='status')),
                        ('total', models.PositiveIntegerField(default=0, verbose_name='total (per WeChat)')),
                        ('done', models.PositiveIntegerField(default=0, verbose_name='done')),
                        ('failed', models.PositiveIntegerField(default=0, verbose_name='failed')),
                        ('page_token', models.CharField(blank=True, max_length=64, verbose_name='page token (next_openid)')),
                        ('page_offset', models.PositiveIntegerField(default=0, verbose_name='offset in page')),
                        ('attempt', models.PositiveIntegerField(default=0, verbose_name='attempt')),
                        ('errcode', models.IntegerField(blank=True, null=True, verbose_name='errcode')),
                        ('error', models.CharField(blank=True, max_length=255, verbose_name='error')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='queued at')),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='started at')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                        ('lease_until', models.DateTimeField(blank=True, null=True, verbose_name='lease until')),
                        ('account', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sync_jobs', to='accounts.officialaccount', verbose_name='account')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='started by')),
                    ],
                    options={
                        'verbose_name': 'sync job (同步任务)',
                        'verbose_name_plural': 'sync jobs (同步任务)',
                        'db_table': 'accounts_syncjob',
                        'ordering': ['-created_at', '-id'],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('status__in', ['queued', 'running'])), fields=('account', 'kind'), name='uniq_active_sync_job')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='tag',
                    constraint=models.UniqueConstraint(fields=('account', 'name'), name='uniq_tag_name_per_account'),
                ),
                migrations.AddConstraint(
                    model_name='tag',
                    constraint=models.UniqueConstraint(fields=('account', 'wechat_id'), name='uniq_tag_wechat_id_per_account'),
                ),
                migrations.AddConstraint(
                    model_name='follower',
                    constraint=models.UniqueConstraint(fields=('account', 'openid'), name='uniq_follower_openid_per_account'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(relabel_content_types, relabel_content_types_back),
    ]
