"""The host's opt-in: the garbage collector paused around bulk work, and left as it was."""

from __future__ import annotations

import gc
import re
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from arrears.tuning import collector_paused


class Knot:
    """A reference cycle: only the collector frees one."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def running_collector() -> Iterator[None]:
    """Each test starts with the collector running, nothing frozen, and leaves it so."""
    gc.collect()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    thresholds = gc.get_threshold()
    yield
    gc.enable()
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.fixture
def collections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The arguments of every `gc.collect` call from now on (each still made)."""
    calls: list[tuple[Any, ...]] = []
    original = gc.collect

    def counted(*args: Any) -> int:
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(gc, "collect", counted)
    return calls


def test_paused_in_the_block_and_running_after_with_the_same_thresholds(
    collections: list[tuple[Any, ...]],
) -> None:
    gc.set_threshold(5_000, 20, 30)  # the host's own
    with collector_paused():
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0  # what existed is set aside for the block
    assert gc.isenabled()
    assert gc.get_threshold() == (5_000, 20, 30)
    assert gc.get_freeze_count() == 0  # and put back
    assert collections == [()]  # one full collection, after the block


def test_the_blocks_cycles_are_freed_after_it_and_the_hosts_are_left_to_the_host() -> None:
    before = Knot()
    host_knot = weakref.ref(before)
    del before  # the host's garbage: not the block's to collect
    with collector_paused():
        inside = Knot()
        block_knot = weakref.ref(inside)
        del inside
        assert block_knot() is not None  # nothing collected while the block runs
    assert block_knot() is None  # the closing collection freed the block's cycle
    assert host_knot() is not None  # it walked the block's objects only
    gc.collect()
    assert host_knot() is None


def test_a_host_that_turned_the_collector_off_gets_no_collection(
    collections: list[tuple[Any, ...]],
) -> None:
    gc.disable()
    with collector_paused():
        inside = Knot()
        block_knot = weakref.ref(inside)
        del inside
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert collections == []
    assert block_knot() is not None  # nothing collected behind the host's back


def test_a_hosts_frozen_objects_stay_frozen() -> None:
    gc.freeze()  # as a server does before it forks
    frozen = gc.get_freeze_count()
    assert frozen > 0
    with collector_paused():
        assert not gc.isenabled()
        assert gc.get_freeze_count() == frozen
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_an_error_in_the_block_leaves_the_collector_as_it_was() -> None:
    with pytest.raises(ZeroDivisionError), collector_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_blocks_nest(collections: list[tuple[Any, ...]]) -> None:
    with collector_paused():
        frozen = gc.get_freeze_count()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block changed nothing
        assert gc.get_freeze_count() == frozen
        assert collections == []
    assert gc.isenabled()
    assert collections == [()]


def test_only_the_opt_in_touches_the_collector() -> None:
    """No module of the library but `arrears.tuning` imports `gc`: the host owns the collector."""
    package = Path(__file__).resolve().parents[1] / "src" / "arrears"
    importing = sorted(
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(r"^\s*(import gc\b|from gc import)", path.read_text("utf-8"), re.MULTILINE)
    )
    assert importing == ["tuning.py"]
