"""MassMessage.tag and TemplatePush.tag point at followers.Tag: same table, so state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("followers", "0001_initial"),
        ("messaging", "0003_mass_batch_outcome_unknown"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="massmessage",
                    name="tag",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="mass_messages",
                        to="followers.tag",
                        verbose_name="tag",
                    ),
                ),
                migrations.AlterField(
                    model_name="templatepush",
                    name="tag",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="template_pushes",
                        to="followers.tag",
                        verbose_name="tag",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
