from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_base_url_allow_list"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="officialaccount",
            name="administrators",
            field=models.ManyToManyField(
                blank=True,
                help_text="Operators of this account who may also change its operators. Only superusers appoint them.",
                related_name="administered_accounts",
                to=settings.AUTH_USER_MODEL,
                verbose_name="administrators",
            ),
        ),
    ]
