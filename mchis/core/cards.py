"""Cards on each role's home page: the plug-in point. Domain apps contribute through `register_card` (in core, so
that apps below `web` can register without importing it); `mchis.web` renders them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Card:
    title: str
    value: Any
    url: str = ""


CardProvider = Callable[[Any], list[Card]]
_providers: list[CardProvider] = []


def register_card(provider: CardProvider) -> CardProvider:
    _providers.append(provider)
    return provider


def home_cards(user: Any) -> list[Card]:
    cards: list[Card] = []
    for provider in _providers:
        cards.extend(provider(user))
    return cards


@dataclass(frozen=True)
class ReturnedItem:
    """Work sent back to this person, with the reason first (change requests, reports)."""

    what: str
    reason: str
    url: str
    by: str = ""
    when: Any = None


ReturnedProvider = Callable[[Any], list[ReturnedItem]]
_returned: list[ReturnedProvider] = []


def register_returned(provider: ReturnedProvider) -> ReturnedProvider:
    _returned.append(provider)
    return provider


def returned_to_me(user: Any) -> list[ReturnedItem]:
    items: list[ReturnedItem] = []
    for provider in _returned:
        items.extend(provider(user))
    return sorted(items, key=lambda i: (i.when is None, i.when), reverse=False)
