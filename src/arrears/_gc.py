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

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[bool]:
    """Pause the collector for the block (as it was after); yields whether it was running."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield running
    finally:
        if running:
            gc.enable()
