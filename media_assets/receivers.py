"""Receivers of media_assets: none are connected here, by design.

The library sits below messaging (media are what messages carry), so it cannot import the inbound pipeline. Its
inbound effects (keep a follower's picture, voice or video; apply PUBLISHJOBFINISH) are registered from
``messaging/inbound/receivers.py``, which calls ``services.received.received_media_record`` and
``services.publish.publish_job_finished``. A receiver of a signal from a layer below (accounts, followers, wechat)
belongs here, connected in ``MediaAssetsConfig.ready()``.
"""
