"""Task names are persisted (beat rows, operators' recurring mass sends, messages in the broker): they never change."""

from django.conf import settings

from wxsite.celery import app

REGISTERED = {
    "accounts.tasks.audit_entries_prune",
    "accounts.tasks.blacklist_pull",
    "accounts.tasks.blacklists_pull_nightly",
    "accounts.tasks.follower_info_fetch",
    "accounts.tasks.follower_operation_run",
    "accounts.tasks.follower_sync_all",
    "accounts.tasks.follower_sync_run",
    "accounts.tasks.followers_sync_nightly",
    "accounts.tasks.tag_members_pull",
    "accounts.tasks.tag_sync",
    "accounts.tasks.tags_pull_all",
    "followers.tasks.follower_stats_pull",
    "followers.tasks.follower_stats_pull_nightly",
    "media_assets.tasks.comments_pull_recent",
    "media_assets.tasks.draft_sync",
    "media_assets.tasks.drafts_pull",
    "media_assets.tasks.material_file_fetch",
    "media_assets.tasks.material_pull_run",
    "media_assets.tasks.material_pulls_resume_stale",
    "media_assets.tasks.material_sync",
    "media_assets.tasks.publish_jobs_poll",
    "media_assets.tasks.publish_submit",
    "media_assets.tasks.received_media_download",
    "menus.tasks.menu_conditional_unpublish",
    "menus.tasks.menu_publish",
    "messaging.inbound.tasks.callback_signatures_prune",
    "messaging.inbound.tasks.inbound_effects_retry_due",
    "messaging.mass_tasks.idempotency_keys_prune",
    "messaging.mass_tasks.mass_batch_send",
    "messaging.mass_tasks.mass_batches_poll",
    "messaging.mass_tasks.mass_dispatch_due",
    "messaging.mass_tasks.mass_message_dispatch",
    "messaging.mass_tasks.mass_message_recur",
    "messaging.tasks.custom_message_send",
    "messaging.tasks.customer_service_send",
    "messaging.tasks.customer_service_typing",
    "messaging.tasks.inbound_dispatch_pending",
    "messaging.tasks.inbound_dispatch_stale",
    "messaging.tasks.kf_account_sync",
    "messaging.template_messages.tasks.template_message_send",
    "messaging.template_messages.tasks.template_messages_dispatch_stale",
    "messaging.template_messages.tasks.template_push_resume",
    "messaging.template_messages.tasks.template_push_send_batch",
    "messaging.template_messages.tasks.template_push_start",
    "messaging.template_messages.tasks.template_pushes_dispatch_due",
    "qrcodes.tasks.qr_scene_sync",
    "sandbox.endpoints.drafts.publish_job_finish",
    "sandbox.endpoints.mass.mass_job_finish",
    "sandbox.endpoints.template.template_job_finish",
    "wechat.tasks.api_call_log_prune",
    "wechat.tasks.tokens_refresh_due",
}

BEAT_KEYS = {
    "accounts.audit_entries_prune",
    "accounts.blacklists_pull_nightly",
    "accounts.followers_sync_nightly",
    "followers.stats_pull_nightly",
    "media_assets.comments_pull_recent",
    "media_assets.material_pulls_resume_stale",
    "media_assets.publish_jobs_poll",
    "messaging.callback_signatures_prune",
    "messaging.idempotency_keys_prune",
    "messaging.inbound_dispatch_stale",
    "messaging.inbound_effects_retry_due",
    "messaging.mass_batches_poll",
    "messaging.mass_dispatch_due",
    "messaging.template_messages_dispatch_stale",
    "messaging.template_pushes_dispatch_due",
    "wechat.api_call_log_prune",
    "wechat.tokens_refresh_due",
}


def test_registered_task_names_are_unchanged():
    app.loader.import_default_modules()
    assert {name for name in app.tasks if not name.startswith("celery.")} == REGISTERED


def test_beat_schedule_keys_and_their_tasks_are_unchanged():
    assert set(settings.CELERY_BEAT_SCHEDULE) == BEAT_KEYS
    assert {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} <= REGISTERED
