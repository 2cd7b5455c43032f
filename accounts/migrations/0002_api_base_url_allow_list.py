import accounts.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="officialaccount",
            name="api_base_url",
            field=models.URLField(
                blank=True,
                help_text="Leave empty for WeChat itself. The sandbox account points at the offline sandbox.",
                validators=[accounts.models.api_base_url_validator],
                verbose_name="API base URL",
            ),
        ),
    ]
