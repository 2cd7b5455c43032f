"""Auto-reply rules: checks run when a rule or one of its replies is saved (regexes must be fast on adversarial input)."""

from __future__ import annotations

import re

import regex
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import AutoReplyContent, AutoReplyRule

# At save time a pattern must handle every adversarial string within this long.
REGEX_SAVE_TIMEOUT = 0.05


REGEX_MAX_LENGTH = 300


TEXT_MAX_BYTES = 2048


MEDIA_ID_RE = re.compile(r"^[A-Za-z0-9_\-=.]{1,128}$")


KF_ACCOUNT_RE = re.compile(r"^[\w.\-]+@[\w.\-]+$")


def _adversarial_strings(pattern: str) -> list[str]:
    chars = set("aA0 _-.!x中\n")
    chars.update(c for c in pattern if c.isalnum())
    runs = set(re.findall(r"[^\W_]{2,8}", pattern))
    strings = []
    for c in sorted(chars)[:40]:
        strings += [c * 30 + "!", c * 30 + "\x00", c * 3000 + "!"]
    for run in sorted(runs)[:10]:
        strings += [run * 20 + "!", (run + " ") * 20 + "!"]
    strings += ["a " * 30 + "!", "ab" * 30 + "!", "0a" * 30]
    return strings


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a keyword rule, or None when it is safe to run inside the callback."""
    if len(pattern) > REGEX_MAX_LENGTH:
        return _("the pattern is longer than %(n)d characters") % {"n": REGEX_MAX_LENGTH}
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE)
    except (regex.error, ValueError, OverflowError) as exc:
        return _("invalid regular expression: %(error)s") % {"error": exc}
    try:
        if compiled.search("", timeout=REGEX_SAVE_TIMEOUT) is not None:
            return _("it matches an empty message, so it would answer everything; use a default rule instead")
        for text in _adversarial_strings(pattern):
            compiled.search(text, timeout=REGEX_SAVE_TIMEOUT)
    except TimeoutError:
        return _("it is too slow on some inputs (catastrophic backtracking); simplify it")
    return None


def rule_clean(rule: AutoReplyRule) -> None:
    """Field checks of one rule; raises ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    if rule.trigger == AutoReplyRule.Trigger.KEYWORD:
        keywords = rule.keyword_list
        if not keywords:
            errors.setdefault("keywords", []).append(_("A keyword rule needs at least one keyword."))
        if rule.match_type == AutoReplyRule.MatchType.REGEX:
            for pattern in keywords:
                problem = regex_problem(pattern)
                if problem:
                    errors.setdefault("keywords", []).append(
                        _("Pattern %(pattern)s: %(problem)s.") % {"pattern": pattern, "problem": problem}
                    )
        for keyword in keywords:
            if len(keyword) > 100:
                errors.setdefault("keywords", []).append(_("Keywords are at most 100 characters."))
                break
    if rule.trigger in (AutoReplyRule.Trigger.CLICK, AutoReplyRule.Trigger.SCAN) and not rule.event_key.strip():
        errors.setdefault("event_key", []).append(_("Give the menu key or the QR scene this rule answers."))
    if rule.trigger == AutoReplyRule.Trigger.SCAN and rule.event_key.startswith("qrscene_"):
        errors.setdefault("event_key", []).append(_("Give the scene without the 'qrscene_' prefix."))
    if rule.trigger == AutoReplyRule.Trigger.EVENT and not rule.event_name.strip():
        errors.setdefault("event_name", []).append(_("Give the WeChat event name, e.g. VIEW."))
    if (rule.active_from is None) != (rule.active_until is None):
        errors.setdefault("active_until", []).append(_("Give both ends of the active hours, or neither."))
    if errors:
        raise ValidationError(errors)


def content_clean(content: AutoReplyContent) -> None:
    """Checks of one reply that do not depend on its rule."""
    t = AutoReplyContent.Type
    errors: dict[str, list[str]] = {}

    def need_media(field_name: str, label: str):
        value = getattr(content, field_name).strip()
        if not value:
            errors.setdefault(field_name, []).append(_("%(label)s is required for this reply type.") % {"label": label})
        elif not MEDIA_ID_RE.match(value):
            errors.setdefault(field_name, []).append(
                _("%(label)s looks wrong: letters, digits, '-', '_' and '=' only, at most 128.") % {"label": label}
            )

    if content.reply_type == t.TEXT:
        if not content.text.strip():
            errors.setdefault("text", []).append(_("The text reply is empty."))
        elif len(content.text.encode("utf-8")) > TEXT_MAX_BYTES:
            errors.setdefault("text", []).append(_("Text replies are at most 2048 bytes (about 680 Chinese characters)."))
    elif content.reply_type in (t.IMAGE, t.VOICE, t.VIDEO):
        need_media("media_id", "media_id")
    elif content.reply_type == t.MUSIC:
        need_media("thumb_media_id", _("thumbnail media_id"))
        if not (content.music_url or content.hq_music_url):
            errors.setdefault("music_url", []).append(_("Give the music URL."))
    elif content.reply_type == t.NEWS:
        problem = _articles_problem(content.articles)
        if problem:
            errors.setdefault("articles", []).append(problem)
    elif content.reply_type == t.TRANSFER and content.kf_account and not KF_ACCOUNT_RE.match(content.kf_account):
        errors.setdefault("kf_account", []).append(_("A customer-service account looks like name@account."))
    if errors:
        raise ValidationError(errors)


def _articles_problem(articles) -> str | None:
    if not isinstance(articles, list) or not articles:
        return _("Add at least one article: a list of {title, description, url, picurl}.")
    for i, article in enumerate(articles, start=1):
        if not isinstance(article, dict):
            return _("Article %(i)d is not an object.") % {"i": i}
        unknown = set(article) - {"title", "description", "url", "picurl"}
        if unknown:
            return _("Article %(i)d has unknown fields: %(fields)s.") % {"i": i, "fields": ", ".join(sorted(unknown))}
        if not str(article.get("title") or "").strip():
            return _("Article %(i)d needs a title.") % {"i": i}
        for name in ("url", "picurl"):
            value = str(article.get(name) or "")
            if (name == "url" or value) and not value.startswith(("http://", "https://")):
                return _("Article %(i)d: %(name)s must be an http(s) URL.") % {"i": i, "name": name}
    return None


def rule_contents_clean(rule: AutoReplyRule, contents: list[AutoReplyContent]) -> None:
    """Checks of a rule's replies taken together (count, news size for the trigger, transfer alone)."""
    if not rule.can_reply:
        if contents:
            raise ValidationError(_("This trigger is for side effects only: WeChat shows no reply to it. Remove the replies."))
        return
    if not contents:
        raise ValidationError(_("Add at least one reply."))
    limit = rule.max_news_articles
    for content in contents:
        if (
            content.reply_type == AutoReplyContent.Type.NEWS
            and isinstance(content.articles, list)
            and len(content.articles) > limit
        ):
            raise ValidationError(
                _("A reply to a follower's message carries one article; replies to events up to eight (this one has %(n)d).")
                % {"n": len(content.articles)}
                if limit == 1
                else _("A news reply carries at most eight articles (this one has %(n)d).") % {"n": len(content.articles)}
            )
    transfers = [c for c in contents if c.reply_type == AutoReplyContent.Type.TRANSFER]
    if transfers and rule.reply_mode == AutoReplyRule.ReplyMode.ALL and len(contents) > 1:
        raise ValidationError(_("A transfer to customer service cannot be combined with other replies in 'reply all' mode."))
