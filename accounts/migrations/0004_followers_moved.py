"""Tag, Follower, FollowerOperation and SyncJob now belong to followers (followers 0001): state only, tables kept."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_account_administrators"),
        ("followers", "0001_initial"),
        ("messaging", "0004_tag_to_followers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="FollowerOperation"),
                migrations.DeleteModel(name="SyncJob"),
                migrations.DeleteModel(name="Follower"),
                migrations.DeleteModel(name="Tag"),
            ],
            database_operations=[],
        ),
    ]
