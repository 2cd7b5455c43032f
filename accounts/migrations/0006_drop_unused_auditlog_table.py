from django.db import migrations


class Migration(migrations.Migration):
    """django-auditlog's migrations create ``auditlog_logentry`` even though ``AUDITLOG_LOGENTRY_MODEL`` swaps its model
    for ``accounts.AuditEntry``. Nothing writes there, and the leftover table's foreign keys to content types and users
    make PostgreSQL refuse the TRUNCATE that flushes the database between tests. django-auditlog is pinned below 3.5:
    a later release whose migrations alter LogEntry needs those migrations faked (docs/architecture.md §7)."""

    dependencies = [
        ("accounts", "0005_audit_entry"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunSQL("DROP TABLE IF EXISTS auditlog_logentry", reverse_sql=migrations.RunSQL.noop)]
