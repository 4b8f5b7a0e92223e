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
