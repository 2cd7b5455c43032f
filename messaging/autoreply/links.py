"""What points at a rule from the apps above messaging (menus: the buttons whose click key the rule answers).

Those apps register a provider in their ``AppConfig.ready()``; the rule's admin page lists the links, so
messaging never imports them.
"""

from __future__ import annotations

from collections.abc import Callable

# A provider takes a rule and returns (label, admin URL) pairs.
RuleLinkProvider = Callable[[object], list[tuple[str, str]]]
_providers: list[RuleLinkProvider] = []


def rule_link_provider_add(provider: RuleLinkProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def rule_links(rule) -> list[tuple[str, str]]:
    return [link for provider in _providers for link in provider(rule)]
