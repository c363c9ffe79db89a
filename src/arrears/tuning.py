"""Process-wide tuning a host may opt into: Python's cyclic garbage collector around bulk work.

`arrears` never changes the collector itself: it belongs to the whole process,
and a host may have reasons of its own to run it, pause it or freeze objects
(a server about to fork).  Opening a portfolio, running a tick or a
simulation creates hundreds of thousands of objects that live on (cases,
journal entries, tasks) and almost no reference cycles; while such work runs
the collector makes pass after pass over the new objects only to promote
them, and full passes over everything the process holds.  A host that runs
such work in a process of its own (a batch job, a worker) can pause the
collector for it:

    >>> from arrears.tuning import collector_paused
    >>> with collector_paused():                    # doctest: +SKIP
    ...     engine.open_cases(records)
    ...     engine.tick(now)

See the performance page ("The garbage collector and your process") for what
it buys.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block, and collect the block's objects after it.

    When the collector is running, the objects that exist when the block
    starts are set aside (`gc.freeze`) and the collector is disabled; when the
    block ends, however it ends, one collection walks what the block made
    (freeing any garbage cycle made in it), the objects set aside are put back
    into the oldest generation (`gc.unfreeze`) and the collector runs again.
    Its thresholds are not changed.  A host that froze objects of its own
    keeps them frozen (nothing is set aside then, and the closing collection
    walks every object not frozen); a host that turned the collector off gets
    the block run as it is, with no collection at all.  Blocks nest: an inner
    one finds the collector paused and changes nothing.

    The collector is process-wide: while the block runs, no other thread's
    garbage cycles are collected either.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    aside = gc.get_freeze_count() == 0
    if aside:
        gc.freeze()
    try:
        yield
    finally:
        gc.collect()  # the block's objects: the host's are set aside
        if aside:
            gc.unfreeze()
        gc.enable()
