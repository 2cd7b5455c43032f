"""Tags, tag members and the blacklist (API.md §4)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from wechat import gateway
from wechat.errors import WeChatError

from .endpoints import Endpoint

# How many openids one call takes (the endpoint table's batch limits), for callers that split their lists.
TAG_MEMBERS_BATCH = Endpoint.TAGS_BATCHTAGGING.value.batch_limit
BLACKLIST_BATCH = Endpoint.BLACKLIST_ADD.value.batch_limit


@dataclass(frozen=True)
class RemoteTag:
    id: int
    name: str
    count: int = 0


def tags_list(*, account) -> list[RemoteTag]:
    result = gateway.call(account, Endpoint.TAGS_GET)
    return [RemoteTag(int(t["id"]), str(t.get("name", "")), int(t.get("count") or 0)) for t in result.get("tags") or []]


def tag_create(*, account, name: str) -> int:
    """The new tag's id. WeChat refuses a name in use with 45157."""
    return int(gateway.call(account, Endpoint.TAGS_CREATE, json={"tag": {"name": name}})["tag"]["id"])


def tag_update(*, account, tag_id: int, name: str) -> None:
    gateway.call(account, Endpoint.TAGS_UPDATE, json={"tag": {"id": int(tag_id), "name": name}})


def tag_delete(*, account, tag_id: int) -> None:
    """WeChat refuses tags with over 100,000 followers (45057) and the reserved tags 0-2 (45058)."""
    gateway.call(account, Endpoint.TAGS_DELETE, json={"tag": {"id": int(tag_id)}})


def user_tag_ids(*, account, openid: str) -> list[int]:
    return [int(i) for i in gateway.call(account, Endpoint.USER_TAG_IDS, json={"openid": openid}).get("tagid_list") or []]


def _pages(fetch: Callable[[str], dict]) -> Iterator[list[str]]:
    """Page through a next_openid-style listing until WeChat returns an empty page or no new next_openid."""
    cursor = ""
    while True:
        page = fetch(cursor)
        openids = list((page.get("data") or {}).get("openid") or [])
        if not openids:
            return
        yield openids
        following = str(page.get("next_openid") or "")
        if not following or following == cursor:
            return
        cursor = following


def tag_members_iter(*, account, tag_id: int) -> Iterator[list[str]]:
    """The openids of a tag's followers, a page (up to 10,000) at a time."""

    def fetch(cursor: str) -> dict:
        body = {"tagid": int(tag_id), **({"next_openid": cursor} if cursor else {})}
        return gateway.call(account, Endpoint.TAG_USERS, json=body)

    return _pages(fetch)


def blacklist_iter(*, account) -> Iterator[list[str]]:
    """The blacklisted openids, a page at a time (WeChat's page size varies: do not assume it)."""

    def fetch(cursor: str) -> dict:
        return gateway.call(account, Endpoint.BLACKLIST_GET, json={"begin_openid": cursor} if cursor else {})

    return _pages(fetch)


def _checked(endpoint: Endpoint, openids: Sequence[str]) -> list[str]:
    """The list, or WeChat's own refusal (40032) without making the call."""
    limit = endpoint.value.batch_limit
    if not openids or len(openids) > limit:
        raise WeChatError(40032, f"invalid openid list size: 1 to {limit} openids, got {len(openids)}", endpoint=endpoint.path)
    return list(openids)


def tag_members_add(*, account, tag_id: int, openids: Sequence[str]) -> None:
    """Tag up to 50 followers (40032 beyond, without a call)."""
    body = {"tagid": int(tag_id), "openid_list": _checked(Endpoint.TAGS_BATCHTAGGING, openids)}
    gateway.call(account, Endpoint.TAGS_BATCHTAGGING, json=body)


def tag_members_remove(*, account, tag_id: int, openids: Sequence[str]) -> None:
    """Untag up to 50 followers (40032 beyond, without a call)."""
    body = {"tagid": int(tag_id), "openid_list": _checked(Endpoint.TAGS_BATCHUNTAGGING, openids)}
    gateway.call(account, Endpoint.TAGS_BATCHUNTAGGING, json=body)


def blacklist_add(*, account, openids: Sequence[str]) -> None:
    """Blacklist up to 20 followers (40032 beyond, without a call)."""
    gateway.call(account, Endpoint.BLACKLIST_ADD, json={"openid_list": _checked(Endpoint.BLACKLIST_ADD, openids)})


def blacklist_remove(*, account, openids: Sequence[str]) -> None:
    """Take up to 20 followers off the blacklist (40032 beyond, without a call)."""
    gateway.call(account, Endpoint.BLACKLIST_REMOVE, json={"openid_list": _checked(Endpoint.BLACKLIST_REMOVE, openids)})
