"""Unit pickers grouped by the tree (issue 13 item 7): each unit under its parent's name, full names, so that
type-to-search (web/widgets.js, tom-select) finds "Trạm Y tế phường Hà Giang 2" under "TTYT khu vực Hà Giang".

Only units of the list name groups: the top of someone's scope is a plain option (its parent, outside the
scope, is not shown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Choice = tuple[str, Any]  # (value, label) or (group title, [(value, label), ...])


def grouped_unit_choices(
    units: Iterable[Any], *, key: Callable[[Any], Any] = lambda u: u.code
) -> list[Choice]:
    """Plain options for units whose parent is not in the list, then one group per parent, in tree order."""
    rows = sorted(units, key=lambda u: u.path)
    names = {u.pk: u.name for u in rows}
    tops: list[Choice] = []
    groups: dict[int, list[tuple[str, str]]] = {}
    for unit in rows:
        option = (str(key(unit)), unit.name)
        if unit.parent_id in names:
            groups.setdefault(unit.parent_id, []).append(option)
        else:
            tops.append(option)
    return tops + [(names[parent], options) for parent, options in groups.items()]
