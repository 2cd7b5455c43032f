"""Auto-reply rules (自动回复): validation, the compiled per-account matcher, and follow-up replies.

The callback asks ``match(account, data)`` for the rule that answers a message. Rules are compiled
once per account and version: exact keywords in a dict, "contains" keywords in one Aho-Corasick
automaton, regular expressions precompiled and run with a timeout. Every rule change bumps the
account's version (database row, mirrored in the Django cache), so every process rebuilds within
``VERSION_CHECK_INTERVAL`` seconds; the process that made the change rebuilds at once.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import time as dtime

import regex
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OfficialAccount
from sandbox.seeding import SEEDERS

from .models import AutoReplyContent, AutoReplyRule, AutoReplyVersion, InboundMessage
from .replies import Reply
from .services import inbound_received

logger = logging.getLogger(__name__)

VERSION_CHECK_INTERVAL = 1.0
# Each regex gets this long per message; all of a message's regexes together get REGEX_BUDGET.
REGEX_TIMEOUT = 0.02
REGEX_BUDGET = 0.3
# At save time a pattern must handle every adversarial string within this long.
REGEX_SAVE_TIMEOUT = 0.05
REGEX_MAX_LENGTH = 300
TEXT_MAX_BYTES = 2048
MEDIA_ID_RE = re.compile(r"^[A-Za-z0-9_\-=.]{1,128}$")
KF_ACCOUNT_RE = re.compile(r"^[\w.\-]+@[\w.\-]+$")
FOLLOWER_MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})


# ---------------------------------------------------------------------------------------------
# Validation


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


# ---------------------------------------------------------------------------------------------
# Reply building


def reply_from_content(content: AutoReplyContent) -> Reply:
    t = AutoReplyContent.Type
    if content.reply_type == t.TEXT:
        return Reply.text(content.text)
    if content.reply_type == t.IMAGE:
        return Reply.image(content.media_id)
    if content.reply_type == t.VOICE:
        return Reply.voice(content.media_id)
    if content.reply_type == t.VIDEO:
        return Reply.video(content.media_id, content.title, content.description)
    if content.reply_type == t.MUSIC:
        return Reply.music(
            title=content.title,
            description=content.description,
            music_url=content.music_url,
            hq_music_url=content.hq_music_url or content.music_url,
            thumb_media_id=content.thumb_media_id,
        )
    if content.reply_type == t.NEWS:
        return Reply.news(content.articles)
    return Reply.transfer_customer_service(content.kf_account)


def custom_payloads(reply: Reply) -> list[dict]:
    """The customer-service message bodies (without ``touser``) that carry ``reply``; news goes one article each."""
    f = reply.fields
    if reply.msg_type == "text":
        return [{"msgtype": "text", "text": {"content": f["content"]}}]
    if reply.msg_type in ("image", "voice"):
        return [{"msgtype": reply.msg_type, reply.msg_type: {"media_id": f["media_id"]}}]
    if reply.msg_type == "video":
        return [
            {
                "msgtype": "video",
                "video": {"media_id": f["media_id"], "title": f.get("title", ""), "description": f.get("description", "")},
            }
        ]
    if reply.msg_type == "music":
        return [
            {
                "msgtype": "music",
                "music": {
                    "title": f.get("title", ""),
                    "description": f.get("description", ""),
                    "musicurl": f.get("music_url", ""),
                    "hqmusicurl": f.get("hq_music_url", ""),
                    "thumb_media_id": f.get("thumb_media_id", ""),
                },
            }
        ]
    if reply.msg_type == "news":
        return [
            {
                "msgtype": "news",
                "news": {
                    "articles": [
                        {
                            "title": a.get("title", ""),
                            "description": a.get("description", ""),
                            "url": a.get("url", ""),
                            "picurl": a.get("picurl", ""),
                        }
                    ]
                },
            }
            for a in f["articles"]
        ]
    return []


# ---------------------------------------------------------------------------------------------
# Compiled rules


class _Automaton:
    """Aho-Corasick over casefolded keywords; each node keeps the ranks of the keywords ending there, best first."""

    def __init__(self, keywords: list[tuple[str, int]]):
        self.goto: list[dict[str, int]] = [{}]
        out: list[set[int]] = [set()]
        for word, rank in keywords:
            node = 0
            for ch in word:
                nxt = self.goto[node].get(ch)
                if nxt is None:
                    nxt = len(self.goto)
                    self.goto[node][ch] = nxt
                    self.goto.append({})
                    out.append(set())
                node = nxt
            out[node].add(rank)
        self.fail = [0] * len(self.goto)
        queue = list(self.goto[0].values())
        for node in queue:
            for ch, child in self.goto[node].items():
                queue.append(child)
                f = self.fail[node]
                while f and ch not in self.goto[f]:
                    f = self.fail[f]
                self.fail[child] = self.goto[f].get(ch, 0)
                out[child] |= out[self.fail[child]]
        self.out = [tuple(sorted(s)) for s in out]

    def best(self, text: str, inactive: frozenset, best: int) -> int:
        goto, fail, out = self.goto, self.fail, self.out
        node = 0
        for ch in text:
            while node and ch not in goto[node]:
                node = fail[node]
            node = goto[node].get(ch, 0)
            for rank in out[node]:
                if rank >= best:
                    break
                if rank not in inactive:
                    best = rank
                    break
        return best


@dataclass
class CompiledRule:
    id: int
    name: str
    mode: str
    replies: tuple[Reply, ...]
    window: tuple[dtime, dtime] | None


@dataclass
class RuleMatch:
    rule_id: int
    rule_name: str
    replies: tuple[Reply, ...]
    mode: str

    def passive(self) -> Reply | None:
        if not self.replies:
            return None
        if self.mode == AutoReplyRule.ReplyMode.RANDOM:
            return random.choice(self.replies)
        return self.replies[0]


@dataclass
class CompiledRules:
    version: str
    rules: list[CompiledRule] = field(default_factory=list)  # by rank
    exact: dict[str, tuple[int, ...]] = field(default_factory=dict)
    contains: _Automaton | None = None
    regexes: list[_RegexChunk] = field(default_factory=list)
    by_trigger: dict[str, tuple[int, ...]] = field(default_factory=dict)
    click: dict[str, tuple[int, ...]] = field(default_factory=dict)
    scan: dict[str, tuple[int, ...]] = field(default_factory=dict)
    events: dict[tuple[str, str], tuple[int, ...]] = field(default_factory=dict)
    windowed: tuple[int, ...] = ()

    def inactive_now(self) -> frozenset:
        if not self.windowed:
            return frozenset()
        now = timezone.localtime().time()
        return frozenset(r for r in self.windowed if not _in_window(self.rules[r].window, now))

    def first_active(self, ranks, inactive) -> int | None:
        for rank in ranks or ():
            if rank not in inactive:
                return rank
        return None

    def match_text(self, text: str, inactive: frozenset, account_id: int) -> int | None:
        folded = text.strip().casefold()
        best = self.first_active(self.exact.get(folded), inactive)
        best = len(self.rules) if best is None else best
        if self.contains is not None:
            best = self.contains.best(folded, inactive, best)
        if self.regexes:
            best = self._match_regexes(text, inactive, best, account_id)
        return best if best < len(self.rules) else None

    def _match_regexes(self, text: str, inactive: frozenset, best: int, account_id: int) -> int:
        deadline = time.monotonic() + REGEX_BUDGET
        for chunk in self.regexes:
            if chunk.first_rank >= best:
                break
            now = time.monotonic()
            if now >= deadline:
                logger.warning("autoreply.regex_budget_spent", extra={"account_id": account_id})
                break
            if chunk.combined is not None:
                try:
                    # A plain alternation answers "any of them?" fast; only then find which one ranks best.
                    found = chunk.any_of.search(text, timeout=min(REGEX_TIMEOUT, deadline - now))
                    if found is not None:
                        found = chunk.combined.match(text, timeout=min(REGEX_TIMEOUT, max(deadline - time.monotonic(), 0.001)))
                except TimeoutError:
                    found = False  # find the slow pattern one by one below
                if found is None:
                    continue
                if found:
                    rank = chunk.rank_by_group[found.lastgroup]
                    if rank not in inactive:
                        return min(best, rank)
            for rank, pattern in chunk.patterns:
                if rank >= best:
                    break
                if rank in inactive:
                    continue
                now = time.monotonic()
                if now >= deadline:
                    break
                try:
                    hit = pattern.search(text, timeout=min(REGEX_TIMEOUT, deadline - now))
                except Exception:  # a pattern that times out or fails is skipped; the next rule may still answer
                    logger.warning(
                        "autoreply.regex_failed", exc_info=True, extra={"account_id": account_id, "rule_id": self.rules[rank].id}
                    )
                    continue
                if hit is not None:
                    return rank
        return best


# Patterns that cannot share one combined expression: back-references, named groups, inline flags, conditionals.
_SOLO_PATTERN = re.compile(r"\\[1-9]|\\g|\(\?P?[<=>]|\(\?[a-zA-Z^]|\(\?\(|\(\?[|&~]")
REGEX_CHUNK = 64


@dataclass
class _RegexChunk:
    """Consecutive regex rules (by rank) tried with one combined expression that names the best one matching."""

    patterns: list[tuple[int, object]]
    first_rank: int = 0
    any_of: object | None = None
    combined: object | None = None
    rank_by_group: dict[str, int] = field(default_factory=dict)


def _regex_chunks(items: list[tuple[int, str, object]]) -> list[_RegexChunk]:
    """``items`` are (rank, source, compiled) by rank. Each alternative looks ahead from position 0, so the first
    alternative that succeeds is the best-ranked pattern matching anywhere in the text."""
    chunks: list[_RegexChunk] = []
    group: list[tuple[int, str, object]] = []

    def flush():
        if not group:
            return
        chunk = _RegexChunk([(rank, compiled) for rank, _, compiled in group], first_rank=group[0][0])
        if len(group) > 1:
            parts = []
            for rank, source, _ in group:
                name = f"autoreply_r{rank}"
                chunk.rank_by_group[name] = rank
                parts.append(f"(?=[\\s\\S]*?(?:{source}))(?P<{name}>)")
            try:
                chunk.any_of = regex.compile("|".join(f"(?:{source})" for _, source, _ in group), regex.IGNORECASE)
                chunk.combined = regex.compile("(?:" + "|".join(parts) + ")", regex.IGNORECASE)
            except (regex.error, ValueError, OverflowError):
                chunk.any_of = chunk.combined = None
        chunks.append(chunk)
        group.clear()

    for item in items:
        if _SOLO_PATTERN.search(item[1]):
            flush()
            group.append(item)
            flush()
            continue
        group.append(item)
        if len(group) >= REGEX_CHUNK:
            flush()
    flush()
    return chunks


def _in_window(window, now: dtime) -> bool:
    if window is None:
        return True
    start, end = window
    if start < end:
        return start <= now < end
    return now >= start or now < end


def compile_rules(account_id: int, version: str) -> CompiledRules:
    rules = list(
        AutoReplyRule.objects.filter(account_id=account_id, enabled=True).order_by("-priority", "id").prefetch_related("contents")
    )
    compiled = CompiledRules(version=version)
    exact: dict[str, list[int]] = {}
    contains: list[tuple[str, int]] = []
    grouped: dict[str, list[int]] = {}
    click: dict[str, list[int]] = {}
    scan: dict[str, list[int]] = {}
    events: dict[tuple[str, str], list[int]] = {}
    windowed = []
    regex_items: list[tuple[int, str, object]] = []
    for rule in rules:
        window = None
        if rule.active_from is not None and rule.active_until is not None and rule.active_from != rule.active_until:
            window = (rule.active_from, rule.active_until)
        replies = tuple(reply_from_content(c) for c in sorted(rule.contents.all(), key=lambda c: (c.position, c.id)))
        rank = len(compiled.rules)
        compiled.rules.append(CompiledRule(rule.id, rule.name, rule.reply_mode, replies, window))
        if window:
            windowed.append(rank)
        trigger = rule.trigger
        if trigger == AutoReplyRule.Trigger.KEYWORD:
            for keyword in rule.keyword_list:
                if rule.match_type == AutoReplyRule.MatchType.EXACT:
                    exact.setdefault(keyword.casefold(), []).append(rank)
                elif rule.match_type == AutoReplyRule.MatchType.CONTAINS:
                    contains.append((keyword.casefold(), rank))
                else:
                    try:
                        regex_items.append((rank, keyword, regex.compile(keyword, regex.IGNORECASE)))
                    except (regex.error, ValueError, OverflowError):
                        logger.warning("autoreply.regex_invalid", extra={"account_id": account_id, "rule_id": rule.id})
        elif trigger == AutoReplyRule.Trigger.CLICK:
            click.setdefault(rule.event_key.strip(), []).append(rank)
        elif trigger == AutoReplyRule.Trigger.SCAN:
            scan.setdefault(rule.event_key.strip(), []).append(rank)
        elif trigger == AutoReplyRule.Trigger.EVENT:
            events.setdefault((rule.event_name.strip().lower(), rule.event_key.strip()), []).append(rank)
        else:
            grouped.setdefault(trigger, []).append(rank)
    compiled.exact = {k: tuple(v) for k, v in exact.items()}
    compiled.contains = _Automaton(contains) if contains else None
    compiled.regexes = _regex_chunks(regex_items)
    compiled.by_trigger = {k: tuple(v) for k, v in grouped.items()}
    compiled.click = {k: tuple(v) for k, v in click.items()}
    compiled.scan = {k: tuple(v) for k, v in scan.items()}
    compiled.events = {k: tuple(v) for k, v in events.items()}
    compiled.windowed = tuple(windowed)
    return compiled


_compiled: dict[int, tuple[float, CompiledRules]] = {}
_compile_lock = threading.Lock()


def _version_key(account_id: int) -> str:
    return f"autoreply:version:{account_id}"


def current_version(account_id: int) -> str:
    key = _version_key(account_id)
    version = cache.get(key)
    if version is None:
        version = AutoReplyVersion.objects.filter(account_id=account_id).values_list("version", flat=True).first() or "0"
        # Only a committed value may be shared: inside a transaction the row may hold a version that never commits.
        if not connection.in_atomic_block:
            cache.set(key, version, timeout=None)
    return version


def compiled_for(account_id: int) -> CompiledRules:
    now = time.monotonic()
    hit = _compiled.get(account_id)
    if hit is not None and now - hit[0] < VERSION_CHECK_INTERVAL:
        return hit[1]
    version = current_version(account_id)
    if hit is not None and hit[1].version == version:
        _compiled[account_id] = (now, hit[1])
        return hit[1]
    with _compile_lock:
        compiled = compile_rules(account_id, version)
        _compiled[account_id] = (now, compiled)
    return compiled


def rules_changed(*, account_id: int, deleting: bool = False) -> None:
    """Give the account's rules a new version, so every process rebuilds its compiled matcher."""
    _compiled.pop(account_id, None)
    key = _version_key(account_id)
    new = uuid.uuid4().hex
    if not AutoReplyVersion.objects.filter(account_id=account_id).update(version=new) and not deleting:
        try:
            with transaction.atomic():
                AutoReplyVersion.objects.create(account_id=account_id, version=new)
        except IntegrityError:  # another save created it first
            AutoReplyVersion.objects.filter(account_id=account_id).update(version=new)
    cache.delete(key)

    def after_commit():
        cache.delete(key)
        _compiled.pop(account_id, None)

    transaction.on_commit(after_commit)


def local_cache_clear(account_id: int | None = None) -> None:
    if account_id is None:
        _compiled.clear()
    else:
        _compiled.pop(account_id, None)


# ---------------------------------------------------------------------------------------------
# Matching


def _text(value) -> str:
    return value if isinstance(value, str) else ("" if value is None or isinstance(value, dict) else str(value))


def match(account, data: dict) -> RuleMatch | None:
    """The enabled, currently active rule that answers ``data``, best priority first. No network calls."""
    compiled = compiled_for(account.pk)
    if not compiled.rules:
        return None
    inactive = compiled.inactive_now()
    msg_type = _text(data.get("MsgType")).lower()
    rank = None
    if msg_type == "event":
        event = _text(data.get("Event")).lower()
        key = _text(data.get("EventKey")).strip()
        if event == "subscribe":
            if key.startswith("qrscene_"):
                rank = compiled.first_active(compiled.scan.get(key[len("qrscene_") :]), inactive)
            if rank is None:
                rank = compiled.first_active(compiled.by_trigger.get("subscribe"), inactive)
        elif event == "scan":
            rank = compiled.first_active(compiled.scan.get(key), inactive)
        elif event == "click":
            rank = compiled.first_active(compiled.click.get(key), inactive)
        elif event in ("unsubscribe", "location"):
            rank = compiled.first_active(compiled.by_trigger.get(event), inactive)
        if rank is None and compiled.events:
            candidates = [
                r
                for r in (
                    compiled.first_active(compiled.events.get((event, key)), inactive),
                    compiled.first_active(compiled.events.get((event, "")), inactive),
                )
                if r is not None
            ]
            rank = min(candidates) if candidates else None
    elif msg_type in FOLLOWER_MESSAGE_TYPES:
        text = _text(data.get("Content")) if msg_type == "text" else _text(data.get("Recognition")) if msg_type == "voice" else ""
        if text and (compiled.exact or compiled.contains or compiled.regexes):
            rank = compiled.match_text(text, inactive, account.pk)
        if rank is None:
            rank = compiled.first_active(compiled.by_trigger.get("default"), inactive)
    if rank is None:
        return None
    rule = compiled.rules[rank]
    return RuleMatch(rule.id, rule.name, rule.replies, rule.mode)


# ---------------------------------------------------------------------------------------------
# Follow-up replies: a rule in "reply all" mode with more replies than one passive reply can carry


def followup_payloads(rule: AutoReplyRule) -> list[dict]:
    if rule.reply_mode != AutoReplyRule.ReplyMode.ALL:
        return []
    contents = list(rule.contents.order_by("position", "id"))
    payloads = []
    for content in contents[1:]:
        payloads += custom_payloads(reply_from_content(content))
    return payloads


def followups_send(*, inbound) -> int:
    """Enqueue the customer-service sends of the matched rule's further replies, in order. Returns how many."""
    from celery import chain

    from wechat.errors import WeChatError

    from .tasks import custom_message_send

    rule = AutoReplyRule.objects.filter(pk=inbound.matched_rule_id).first() if inbound.matched_rule_id else None
    if rule is None:
        return 0
    payloads = followup_payloads(rule)
    if not payloads:
        return 0
    # A chain keeps the follower's order and stops at the first failure (45015: window closed, 45047: too many).
    sends = chain(*(custom_message_send.si(inbound.account_id, inbound.openid, p) for p in payloads))

    def enqueue():
        try:
            sends.apply_async(countdown=1)
        except WeChatError as exc:  # only when tasks run eagerly (CELERY_TASK_ALWAYS_EAGER)
            logger.warning(
                "autoreply.followup_failed",
                extra={"inbound_id": inbound.pk, "rule_id": rule.pk, "errcode": exc.errcode},
            )

    transaction.on_commit(enqueue)
    logger.info("autoreply.followups_enqueued", extra={"inbound_id": inbound.pk, "rule_id": rule.pk, "count": len(payloads)})
    return len(payloads)


@receiver(inbound_received, sender=InboundMessage)
def _inbound_followups(sender, inbound, **kwargs):
    if inbound.matched_rule_id:
        followups_send(inbound=inbound)


@receiver([post_save, post_delete], sender=AutoReplyRule)
def _rule_changed(sender, instance, **kwargs):
    rules_changed(account_id=instance.account_id, deleting="created" not in kwargs)


@receiver([post_save, post_delete], sender=AutoReplyContent)
def _content_changed(sender, instance, **kwargs):
    account_id = AutoReplyRule.objects.filter(pk=instance.rule_id).values_list("account_id", flat=True).first()
    if account_id is not None:
        rules_changed(account_id=account_id, deleting="created" not in kwargs)


@receiver([post_save, post_delete], sender=OfficialAccount)
def _account_changed(sender, instance, **kwargs):
    # A new or deleted account must never inherit compiled rules cached under a reused id.
    local_cache_clear(instance.pk)
    cache.delete(_version_key(instance.pk))


# ---------------------------------------------------------------------------------------------
# Services


def rule_save(*, rule: AutoReplyRule, contents: list[AutoReplyContent]) -> AutoReplyRule:
    """Validate a rule with its replies and save them together, or save nothing.

    ``contents`` replaces the rule's replies, in the order given.
    """
    rule.full_clean()
    for position, content in enumerate(contents):
        content.position = position
        content.full_clean(exclude=["rule"])
    rule_contents_clean(rule, contents)
    with transaction.atomic():
        rule.save()
        rule.contents.exclude(pk__in=[c.pk for c in contents if c.pk]).delete()
        for content in contents:
            content.rule = rule
            content.save()
    return rule


def rule_create(*, account, name: str, trigger: str, replies: list[dict], **fields) -> AutoReplyRule:
    """Create a rule from plain values; ``replies`` are AutoReplyContent field dicts (``reply_type`` plus its fields)."""
    rule = AutoReplyRule(account=account, name=name, trigger=trigger, **fields)
    return rule_save(rule=rule, contents=[AutoReplyContent(**r) for r in replies])


def sandbox_rules_seed(*, account, app) -> None:
    """Demo rules for the sandbox account (idempotent: rules are found by name)."""
    demo = [
        {
            "name": "关注欢迎语 Welcome",
            "trigger": AutoReplyRule.Trigger.SUBSCRIBE,
            "replies": [
                {"reply_type": "text", "text": "欢迎关注沙箱公众号！回复「help」查看帮助。Welcome! Send 'help' for help."}
            ],
        },
        {
            "name": "问候 Greeting",
            "trigger": AutoReplyRule.Trigger.KEYWORD,
            "keywords": "你好\nhello",
            "match_type": AutoReplyRule.MatchType.EXACT,
            "priority": 10,
            "replies": [{"reply_type": "text", "text": "你好！有什么可以帮您？Hello, how can we help?"}],
        },
        {
            "name": "帮助 Help",
            "trigger": AutoReplyRule.Trigger.KEYWORD,
            "keywords": "help\n帮助",
            "match_type": AutoReplyRule.MatchType.CONTAINS,
            "replies": [
                {
                    "reply_type": "news",
                    "articles": [
                        {
                            "title": "使用帮助 How to use this account",
                            "description": "菜单、关键词和人工客服。Menus, keywords and customer service.",
                            "url": "https://example.com/help",
                            "picurl": "https://example.com/help.png",
                        }
                    ],
                }
            ],
        },
        {
            "name": "今日歌曲 Today's music",
            "trigger": AutoReplyRule.Trigger.CLICK,
            "event_key": "V1001_TODAY_MUSIC",
            "replies": [
                {"reply_type": "text", "text": "今日歌曲：《月亮代表我的心》 Today's song: The Moon Represents My Heart"}
            ],
        },
    ]
    for spec in demo:
        if AutoReplyRule.objects.filter(account=account, name=spec["name"]).exists():
            continue
        spec = dict(spec)
        rule_create(account=account, name=spec.pop("name"), trigger=spec.pop("trigger"), replies=spec.pop("replies"), **spec)


SEEDERS.append(sandbox_rules_seed)
