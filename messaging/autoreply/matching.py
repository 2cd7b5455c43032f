"""Auto-reply rules (自动回复): the compiled per-account matcher.

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
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from messaging.inbound.replies import Match
from wechat.outgoing import OutgoingMessage, Text

from .models import AutoReplyRule, AutoReplyVersion
from .replies import content_message
from .selectors import rules_for_matching, rules_version

logger = logging.getLogger(__name__)


VERSION_CHECK_INTERVAL = 1.0


# Each regex gets this long per message; all of a message's regexes together get REGEX_BUDGET of this thread's CPU
# time (a thread that waits for the GIL or a core, on a busy machine, has not spent its budget matching).
REGEX_TIMEOUT = 0.02


# A chunk's combined searches keep the GIL (``concurrent=False``), for at most HELD_TIMEOUT each: by default ``regex``
# releases it around every search of a str, and taking it back among a web process's busy threads cost five times
# the search itself. A chunk that needs longer is searched again pattern by pattern, with the GIL released.
HELD_TIMEOUT = 0.002


REGEX_BUDGET = 0.3


FOLLOWER_MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})


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
    replies: tuple[OutgoingMessage, ...]
    window: tuple[dtime, dtime] | None


@dataclass
class RuleMatch:
    rule_id: int
    rule_name: str
    replies: tuple[OutgoingMessage, ...]
    mode: str

    def passive(self) -> OutgoingMessage | None:
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
        deadline = time.thread_time() + REGEX_BUDGET
        for chunk in self.regexes:
            if chunk.first_rank >= best:
                break
            now = time.thread_time()
            if now >= deadline:
                logger.warning("autoreply.regex_budget_spent", extra={"account_id": account_id})
                break
            if chunk.combined is not None:
                try:
                    # A plain alternation answers "any of them?" fast; only then find which one ranks best.
                    found = chunk.any_of.search(text, timeout=min(HELD_TIMEOUT, deadline - now), concurrent=False)
                    if found is not None:
                        found = chunk.combined.match(
                            text, timeout=min(HELD_TIMEOUT, max(deadline - time.thread_time(), 0.001)), concurrent=False
                        )
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
                now = time.thread_time()
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
    rules = list(rules_for_matching(account_id=account_id))
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
        replies = tuple(content_message(c) for c in sorted(rule.contents.all(), key=lambda c: (c.position, c.id)))
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
        version = rules_version(account_id=account_id) or "0"
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


def reply_for(account, data: dict) -> Match:
    """The account's auto-reply rule for ``data``; with no rule, the account's default text for follower messages."""
    try:
        found = match(account, data)
    except Exception:  # a broken rule set must not cost the follower the default reply
        logger.exception("autoreply.match_failed", extra={"appid": account.appid})
        found = None
    if found is not None:
        return Match(found.passive(), found.rule_id)
    if str(data.get("MsgType", "")).lower() in FOLLOWER_MESSAGE_TYPES and account.default_reply_text:
        return Match(Text(account.default_reply_text))
    return Match(None)
