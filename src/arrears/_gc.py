"""Python's cyclic garbage collector, paused around bulk work.

Opening a portfolio or running a tick's batch creates hundreds of thousands
of objects that live on (cases, journal entries, tasks) and almost no
reference cycles.  While such work runs, the collector would make pass after
pass over the young objects only to promote them; pausing it for the block
and letting it run between blocks does the same work for less
(``bench/run.py`` tick_memory and load_and_fire).  Garbage cycles made inside
the block are collected by the first pass after it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "young_collection"]


@contextmanager
def collector_paused(*, aside: bool = False) -> Iterator[bool]:
    """Pause the collector for the block (as it was after); yields whether it was running.

    With *aside*, the objects that exist when the block starts are set aside
    (`gc.freeze`) while it runs, so a collection inside it walks only the
    objects the block made, and put back (`gc.unfreeze`) into the oldest
    generation after it: nothing stays frozen, and the host's objects are
    not walked again for a collection that is about the block's.  A host
    that froze objects of its own (a server about to fork) keeps them
    frozen: then nothing is set aside.
    """
    running = gc.isenabled()
    gc.disable()
    aside = aside and running and gc.get_freeze_count() == 0
    if aside:
        gc.freeze()
    try:
        yield running
    finally:
        if aside:
            gc.unfreeze()
        if running:
            gc.enable()


def young_collection() -> None:
    """Collect the two young generations now (inside `collector_paused`, for long work).

    A tick over a large portfolio keeps the collector paused from its first
    batch to its last and calls this every few thousand cases: objects that
    died in between (a store's working copies, a batch's rows) were freed by
    their reference counts and are never walked, where the collector running
    between batches walked each survivor twice (young, then middle-aged).
    Garbage cycles still go within a few thousand cases; the oldest
    generation is left to the collector once it runs again.
    """
    gc.collect(1)
