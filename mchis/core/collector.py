"""Python's cyclic garbage collector, tuned for long-running processes that handle large requests.

Why (issue 20): a 1,000-record bulk register batch allocates some hundred thousand short-lived dicts, lists and
dates. With Python's default threshold (a young collection every 700 allocations) the collector ran ~150 times
a batch, and its full collections walked every object Django and the app created at start-up (modules,
URL patterns, model metadata, catalogs), none of which ever becomes garbage: measured in-process at 15–25 %
of a batch's CPU (`bench/registers_api_profile.py`). The same was found for the child import (issue 14).

The remedy is CPython's own (`gc.freeze`, made for forking servers): once start-up is over, its objects go to
a permanent generation the collector no longer walks, and the young generation is collected every
`young_threshold` allocations instead of 700. Reference counting still frees almost everything at once; only
objects in reference cycles wait for a collection, at most `young_threshold` of them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Young collections every 50,000 allocations: ~a few MB of cyclic garbage at most, collected ~70× less often.
DEFAULT_YOUNG_THRESHOLD = 50_000


def freeze_startup_objects(young_threshold: int = DEFAULT_YOUNG_THRESHOLD) -> bool:
    """Set aside what start-up built and collect the young generation less often, for the rest of the
    process (a web or background worker, after Django is set up). `young_threshold` 0 leaves Python's defaults
    (the operator's switch: `MCHIS_GC_YOUNG_THRESHOLD=0`). Returns whether anything changed."""
    if young_threshold <= 0:
        return False
    gc.collect()  # start-up's own garbage first: frozen objects are never collected
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, older, oldest)
    return True


@contextmanager
def few_collections(young_threshold: int = DEFAULT_YOUNG_THRESHOLD) -> Iterator[None]:
    """The same for one long command (an import), undone afterwards."""
    thresholds = gc.get_threshold()
    freeze_startup_objects(young_threshold)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
