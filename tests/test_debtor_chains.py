"""`verify` across a debtor's chains: what one operation wrote on several cases must agree.

Each attack is what a writer with the database and the means to seal does: one case's
part of an operation over several of the debtor's loans deleted, edited or made up, and
that case's chain sealed again from there with its head and stored case moved to match
(so the chain verifies alone).  The forged journal is stored whole in each store (in
memory, SQLite and PostgreSQL) and a fresh engine's `verify` must name the entry that the
debtor's other chains do not bear out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _postgres import fresh_schema, postgres_url
from arrears import Engine, InvalidInput, MemoryStore, SettableClock
from arrears.cli import main
from arrears.events import replay
from arrears.guards import Actor
from arrears.journal import JournalEntry, seal
from arrears.plans import RepaymentPlan, instalment_schedule
from arrears.store import Store
from test_payments import cny
from test_reversal_due_dates import monthly_loan, shanghai

Chains = dict[str, list[JournalEntry]]

AGENT = Actor("agent-7", frozenset({"agent", "supervisor"}))
DAY = date(2027, 3, 2)
LOANS = ("LN-A", "LN-B", "LN-C")


def _engine() -> tuple[Engine, SettableClock]:
    clock = SettableClock(shanghai(DAY))
    engine = Engine(clock=clock)
    for loan_id in LOANS:
        engine.open_case(monthly_loan(id=loan_id))
    return engine, clock


def _chains(engine: Engine) -> Chains:
    return {case_id: list(entries) for case_id, entries in engine.store.chains()}


def debtor_payment_reversed() -> Chains:
    """2,500 paid to the debtor (1,000, 1,000 and 500 over the three loans), returned two
    days later."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 11))
    engine.record_debtor_payment("D-1", cny("2500.00"), reference="P-1")
    clock.set(shanghai(DAY + timedelta(days=2)))
    engine.reverse_debtor_payment("D-1", "P-1")
    return _chains(engine)


def debtor_paid() -> Chains:
    """2,500 paid to the debtor: 1,000, 1,000 and 500 over the three loans."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 11))
    engine.record_debtor_payment("D-1", cny("2500.00"), reference="P-1")
    return _chains(engine)


def plan_paid_and_reversed() -> Chains:
    """A plan over LN-A and LN-B paid by a payment to the debtor, which is returned: LN-B
    records ``agreement_reopened`` naming the reversal on LN-A."""
    engine, clock = _engine()
    parts = instalment_schedule(cny("2000.00"), DAY + timedelta(days=3), count=1)
    plan = RepaymentPlan(id="PLAN-AB", kind="extension", instalments=parts, required_documents=())
    engine.start_plan("LN-A", plan, actor=AGENT, covers=["LN-B"])
    clock.set(shanghai(DAY + timedelta(days=2)))
    engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1")
    clock.set(shanghai(DAY + timedelta(days=4)))
    engine.reverse_debtor_payment("D-1", "B-1")
    return _chains(engine)


def promised() -> Chains:
    """A promise of 9,000 over the three loans (each owes 4,000)."""
    engine, _ = _engine()
    engine.record_promise("LN-A", cny("9000.00"), DAY + timedelta(days=5), covers=["LN-B", "LN-C"])
    return _chains(engine)


def held() -> Chains:
    """A cease request about every loan, placed on LN-A."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 12))
    engine.add_hold("LN-A", "cease", "stop contacting me about all loans", reach="debtor")
    return _chains(engine)


def moratorium() -> Chains:
    """A breathing space placed on LN-A at its default reach: on every loan of the debtor."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 12))
    engine.add_hold("LN-A", "breathing_space", "moratorium")
    return _chains(engine)


def _narrowed(data: dict[str, Any]) -> None:
    """The hold made to say it was recorded on its own debt only."""
    data["hold"] = {**data["hold"], "reach": "case"}


def _both(*forges: Callable[[Chains], None]) -> Callable[[Chains], None]:
    def forge(chains: Chains) -> None:
        for each in forges:
            each(chains)

    return forge


def bankrupt_released() -> Chains:
    """A bankruptcy placed on LN-A, inherited by LN-D opened an hour later, released on
    LN-B the hour after: every loan records the release."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 12))
    hold = engine.add_hold("LN-A", "bankruptcy", "chapter 7 filed")
    clock.set(shanghai(DAY, 13))
    engine.open_case(monthly_loan(id="LN-D"))
    clock.set(shanghai(DAY, 14))
    engine.release_hold("LN-B", hold.id)
    return _chains(engine)


def bankrupt() -> Chains:
    """A bankruptcy placed on LN-A: on every loan, released on none."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 12))
    engine.add_hold("LN-A", "bankruptcy", "chapter 7 filed")
    return _chains(engine)


def opened_bankrupt() -> Chains:
    """LN-X opened at noon with a bankruptcy in its record: LN-A, LN-B and LN-C, open
    already, each record it, naming LN-X."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 12))
    engine.open_case(monthly_loan(id="LN-X", holds=[_BANKRUPTCY]))
    return _chains(engine)


_BANKRUPTCY = {
    "id": "bk-1",
    "kind": "bankruptcy",
    "reason": "chapter 7",
    "started_at": shanghai(DAY).isoformat(),
}


_SPACE = {
    "id": "bs-1",
    "kind": "breathing_space",
    "reason": "the notice lists this loan",
    "started_at": shanghai(DAY).isoformat(),
}


def opened_in_space(reach: str | None) -> Callable[[], Chains]:
    """LN-X opened at noon with a breathing space in its record: at its default reach it
    holds LN-A, LN-B and LN-C too (each records it, naming LN-X); recorded on the debt
    its notice lists only (``reach: case``), on LN-X alone."""

    def build() -> Chains:
        engine, clock = _engine()
        clock.set(shanghai(DAY, 12))
        hold = _SPACE if reach is None else {**_SPACE, "reach": reach}
        engine.open_case(monthly_loan(id="LN-X", holds=[hold]))
        return _chains(engine)

    return build


def held_then_opened(record: bool) -> Callable[[], Chains]:
    """A breathing space at its default reach placed on LN-A at noon (or, with *record*,
    LN-X opened then with a bankruptcy on file), then LN-D opened an hour later: LN-D
    inherits it at its opening."""

    def build() -> Chains:
        engine, clock = _engine()
        clock.set(shanghai(DAY, 12))
        if record:
            engine.open_case(monthly_loan(id="LN-X", holds=[_BANKRUPTCY]))
        else:
            engine.add_hold("LN-A", "breathing_space", "moratorium")
        clock.set(shanghai(DAY, 13))
        engine.open_case(monthly_loan(id="LN-D"))
        assert [entry.kind for entry in engine.history("LN-D")] == ["opened", "hold_added"]
        return _chains(engine)

    return build


def space_then_opened() -> Chains:
    """A breathing space recorded on LN-A's debt only, then LN-X opened: it stays on LN-A."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 12))
    engine.add_hold("LN-A", "breathing_space", "the notice lists this loan", reach="case")
    clock.set(shanghai(DAY, 13))
    engine.open_case(monthly_loan(id="LN-X"))
    return _chains(engine)


def _snapshot(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """An ``opened`` entry's data with its case snapshot changed by *change*."""

    def edit(data: dict[str, Any]) -> None:
        snapshot = json.loads(data["case"])
        change(snapshot)
        data["case"] = json.dumps(snapshot, separators=(",", ":"), ensure_ascii=False)

    return edit


def _holding_copy(**fields: Any) -> Callable[[dict[str, Any]], None]:
    """The snapshot made to hold a copy of LN-A's breathing space (its id, naming LN-A)."""

    def change(snapshot: dict[str, Any]) -> None:
        snapshot["holds"].append({**_SPACE, "id": "breathing_space-1", "origin": "LN-A", **fields})

    return change


def another_held_then_opened() -> Chains:
    """D-2's loan LN-Z opened with a bankruptcy on file (``bk-1``), then D-1's LN-X opened
    at noon holding nothing."""
    engine, clock = _engine()
    engine.open_case(monthly_loan(id="LN-Z", debtor={"id": "D-2"}, holds=[_BANKRUPTCY]))
    clock.set(shanghai(DAY, 12))
    engine.open_case(monthly_loan(id="LN-X"))
    return _chains(engine)


def _copy_of_bankruptcy(origin: str) -> Callable[[dict[str, Any]], None]:
    """The snapshot made to hold a copy of a bankruptcy (``bk-1``) said to be placed on
    *origin*: held from the opening, as the engine passes a hold on."""

    def change(snapshot: dict[str, Any]) -> None:
        snapshot["holds"].append({**_BANKRUPTCY, "origin": origin})

    return change


def copied_to(case_id: str, origin: str) -> Callable[[Chains], None]:
    """A ``hold_added`` copy of *origin*'s breathing space sealed onto *case_id*'s chain,
    at *origin*'s opening."""

    def forge(chains: Chains) -> None:
        chain = chains[case_id]
        last = chain[-1]
        hold = {**_SPACE, "origin": origin}
        data = {"hold": hold, "actor": "system"}
        at = chains[origin][0].at
        chain.append(seal(case_id, last.seq + 1, at, "hold_added", data, last.hash))

    return forge


def _without_hold_added(*case_ids: str) -> Callable[[Chains], None]:
    """The ``hold_added`` entries of *case_ids* deleted, as an engine that did not pass a
    hold on at an opening wrote them."""

    def forge(chains: Chains) -> None:
        for case_id in case_ids:
            cut_before(case_id, "hold_added")(chains)

    return forge


def moved() -> Chains:
    """The debtor moves to Hong Kong's time zone: recorded on every loan."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 12))
    engine.update_debtor("D-1", timezone="Asia/Hong_Kong", actor=AGENT)
    return _chains(engine)


def honest() -> Chains:
    """Every operation above on one debtor, in turn."""
    engine, clock = _engine()
    parts = instalment_schedule(cny("2000.00"), DAY + timedelta(days=3), count=1)
    plan = RepaymentPlan(id="PLAN-AB", kind="extension", instalments=parts, required_documents=())
    engine.start_plan("LN-A", plan, actor=AGENT, covers=["LN-B"])
    clock.set(shanghai(DAY + timedelta(days=2)))
    engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1")
    clock.set(shanghai(DAY + timedelta(days=4)))
    engine.reverse_debtor_payment("D-1", "B-1")
    clock.set(shanghai(DAY + timedelta(days=4), 11))
    engine.record_debtor_payment("D-1", cny("700.00"), reference="P-2")
    engine.record_promise(
        "LN-C", cny("6000.00"), DAY + timedelta(days=9), covers=["LN-A"], actor=AGENT
    )
    clock.set(shanghai(DAY + timedelta(days=4), 12))
    engine.add_hold("LN-B", "cease", "stop contacting me about all loans", reach="debtor")
    engine.update_debtor("D-1", timezone="Asia/Hong_Kong", actor=AGENT)
    engine.open_case(monthly_loan(id="LN-D"))  # inherits the hold, later
    clock.set(shanghai(DAY + timedelta(days=5)))
    engine.release_hold("LN-D", engine.case("LN-B").holds[0].id)  # released on every loan
    assert engine.verify() == []
    return _chains(engine)


# -- forging one chain ------------------------------------------------------------------------


def _last(chain: list[JournalEntry], kind: str) -> int:
    return max(index for index, entry in enumerate(chain) if entry.kind == kind)


def cut_before(case_id: str, kind: str) -> Callable[[Chains], None]:
    """The case's last entry of *kind* and everything after it deleted."""

    def forge(chains: Chains) -> None:
        chain = chains[case_id]
        del chain[_last(chain, kind) :]

    return forge


def edited(
    case_id: str, kind: str, change: Callable[[dict[str, Any]], None]
) -> Callable[..., None]:
    """The case's last entry of *kind* with its data changed, it and every later one re-sealed."""

    def forge(chains: Chains) -> None:
        chain = chains[case_id]
        start = _last(chain, kind)
        prev = chain[start].prev
        for index in range(start, len(chain)):
            entry = chain[index]
            data = dict(entry.data)
            if index == start:
                change(data)
            chain[index] = seal(entry.case_id, entry.seq, entry.at, entry.kind, data, prev)
            prev = chain[index].hash

    return forge


def later(case_id: str, kind: str) -> Callable[[Chains], None]:
    """The case's last entry of *kind* and every later one dated an hour later, re-sealed;
    a release released then, as the engine records it (at the entry's own moment), so the
    chain holds alone and only the other loans tell."""

    def forge(chains: Chains) -> None:
        chain = chains[case_id]
        start = _last(chain, kind)
        prev = chain[start].prev
        for index in range(start, len(chain)):
            entry = chain[index]
            at = entry.at + timedelta(hours=1)
            data = entry.data
            if entry.kind == "hold_released":
                data = {**data, "released_at": at.isoformat()}
            chain[index] = seal(entry.case_id, entry.seq, at, entry.kind, data, prev)
            prev = chain[index].hash

    return forge


def released_on(case_id: str) -> Callable[[Chains], None]:
    """A release of the case's first hold sealed onto its chain alone, an hour after its end."""

    def forge(chains: Chains) -> None:
        chain = chains[case_id]
        last = chain[-1]
        at = last.at + timedelta(hours=1)
        hold_id = next(e.data["hold"]["id"] for e in chain if e.kind == "hold_added")
        data = {"hold_id": hold_id, "released_at": at.isoformat(), "actor": "system"}
        chain.append(seal(case_id, last.seq + 1, at, "hold_released", data, last.hash))

    return forge


def _whole_shifted(data: dict[str, Any]) -> None:
    """The whole's first share one yuan more, so the shares no longer sum to it."""
    whole = dict(data["debtor"])
    shares = [dict(item) for item in whole["shares"]]
    shares[0]["amount"] = str(cny(shares[0]["amount"]).amount + 1)
    data["debtor"] = {**whole, "shares": shares}


def _names_other(data: dict[str, Any]) -> None:
    data["case_id"] = "LN-C"


ATTACKS: dict[str, tuple[Callable[[], Chains], Callable[[Chains], None], tuple[str, ...]]] = {
    # One loan's share reversed while the others stand.
    "share reversed alone": (
        debtor_payment_reversed,
        cut_before("LN-B", "payment_reversed"),
        ("LN-B",),
    ),
    "share deleted": (
        debtor_payment_reversed,
        cut_before("LN-C", "payment"),
        ("LN-A",),
    ),
    "share reversed at another moment": (
        debtor_payment_reversed,
        later("LN-B", "payment_reversed"),
        ("LN-B",),
    ),
    "promise share made at another moment": (
        promised,
        later("LN-B", "promise_made"),
        ("LN-A", "LN-B", "LN-C"),
    ),
    "share's amount edited": (
        debtor_paid,
        # 100.00 more, kept as credit as the engine would: only the whole tells.
        edited("LN-B", "payment", lambda data: data.update(amount="1100.00", credit="100.00")),
        ("LN-B",),
    ),
    "whole edited": (
        debtor_payment_reversed,
        edited("LN-B", "payment", _whole_shifted),
        ("LN-B",),
    ),
    "reopening names no reversal": (
        plan_paid_and_reversed,
        edited("LN-B", "agreement_reopened", _names_other),
        ("LN-B",),
    ),
    "plan share deleted": (plan_paid_and_reversed, cut_before("LN-B", "plan_started"), ("LN-A",)),
    "promise share deleted": (promised, cut_before("LN-C", "promise_made"), ("LN-A", "LN-B")),
    "debtor hold deleted on one loan": (held, cut_before("LN-C", "hold_added"), ("LN-A",)),
    "debtor hold deleted where placed": (held, cut_before("LN-A", "hold_added"), ("LN-B", "LN-C")),
    "moratorium deleted on one loan": (moratorium, cut_before("LN-C", "hold_added"), ("LN-A",)),
    # The debtor-reach moratorium rewritten where placed as one on its listed debt, its
    # copy deleted on one loan: the copy left on the other is not borne out.
    "moratorium narrowed where placed": (
        moratorium,
        _both(edited("LN-A", "hold_added", _narrowed), cut_before("LN-C", "hold_added")),
        ("LN-B",),
    ),
    "moratorium copy says it is narrowed": (
        moratorium,
        edited("LN-C", "hold_added", _narrowed),
        ("LN-C",),
    ),
    "debtor hold release deleted on one loan": (
        bankrupt_released,
        cut_before("LN-C", "hold_released"),
        ("LN-C",),
    ),
    "debtor hold release deleted where inherited": (
        bankrupt_released,
        cut_before("LN-D", "hold_released"),
        ("LN-D",),
    ),
    "debtor hold release deleted where placed": (
        bankrupt_released,
        cut_before("LN-A", "hold_released"),
        ("LN-A",),
    ),
    "debtor hold released later on one loan": (
        bankrupt_released,
        later("LN-C", "hold_released"),
        ("LN-C",),
    ),
    "debtor hold release forged on one loan": (bankrupt, released_on("LN-B"), ("LN-A", "LN-C")),
    "hold at opening deleted on one loan": (
        opened_bankrupt,
        cut_before("LN-B", "hold_added"),
        ("LN-X",),
    ),
    "hold at opening on one loan later": (
        opened_bankrupt,
        later("LN-C", "hold_added"),
        ("LN-X",),
    ),
    "hold at opening on no other loan": (
        opened_bankrupt,
        _without_hold_added("LN-A", "LN-B", "LN-C"),
        ("LN-X",),
    ),
    # A loan opened while a hold reaching the debtor stood, its inherited copy deleted.
    "hold a loan inherited at its opening deleted": (
        held_then_opened(record=False),
        cut_before("LN-D", "hold_added"),
        ("LN-D",),
    ),
    "hold on file a loan inherited at its opening deleted": (
        held_then_opened(record=True),
        cut_before("LN-D", "hold_added"),
        ("LN-D",),
    ),
    # A moratorium on the debt its notice lists only, in an opening's record: never copied.
    "moratorium on file narrowed at the opening, copied to a loan": (
        opened_in_space("case"),
        copied_to("LN-A", "LN-X"),
        ("LN-A",),
    ),
    "moratorium on file at the opening narrowed in the record": (
        opened_in_space(None),
        edited("LN-X", "opened", _snapshot(lambda case: case["holds"][0].update(reach="case"))),
        ("LN-A", "LN-B", "LN-C"),
    ),
    "opening holds a copy of a moratorium on another loan's debt only": (
        space_then_opened,
        edited("LN-X", "opened", _snapshot(_holding_copy())),
        ("LN-X",),
    ),
    "opening holds a copy saying it is on its debt only": (
        space_then_opened,
        edited("LN-X", "opened", _snapshot(_holding_copy(reach="case"))),
        ("LN-X",),
    ),
    # A hold in an opening's record said to be copied from a loan that does not hold it.
    "opening holds a copy of a hold its origin does not hold": (
        another_held_then_opened,
        edited("LN-X", "opened", _snapshot(_copy_of_bankruptcy("LN-A"))),
        ("LN-X",),
    ),
    "opening holds a copy naming no loan at all": (
        another_held_then_opened,
        edited("LN-X", "opened", _snapshot(_copy_of_bankruptcy("LN-NOWHERE"))),
        ("LN-X",),
    ),
    "opening holds a copy of another debtor's hold": (
        another_held_then_opened,
        edited("LN-X", "opened", _snapshot(_copy_of_bankruptcy("LN-Z"))),
        ("LN-X",),
    ),
    "change of place deleted on one loan": (
        moved,
        cut_before("LN-B", "debtor_changed"),
        ("LN-A", "LN-C"),
    ),
}


# -- the stores -------------------------------------------------------------------------------


@contextmanager
def _store(backend: str, folder: Path) -> Iterator[Callable[[], Any]]:
    """A way to open the same empty store of *backend* again."""
    if backend == "memory":
        store = MemoryStore()
        yield lambda: _kept(store)
    elif backend == "sqlite":
        from arrears.stores import SQLiteStore

        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "arrears.db"
        yield lambda: SQLiteStore(path)
    else:
        from arrears.stores.postgres import PostgresStore

        url = postgres_url()
        with fresh_schema(url) as schema:
            yield lambda: PostgresStore(url, schema=schema, max_size=2)


@contextmanager
def _kept(store: Store) -> Iterator[Store]:
    yield store


def stored(backend: str, folder: Path, chains: Chains) -> Callable[[], Any]:
    """*chains* written whole into a store of *backend*: each case its chain's replay, the
    head its last entry (what a writer who re-sealed a chain leaves), reviewed next at its
    last entry's moment (a case with no review is `unscheduled`)."""
    context = _store(backend, folder)
    opener = context.__enter__()
    _OPEN.append(context)
    with opener() as store, store.transaction():
        for entries in chains.values():
            store.add(replay(entries), entries[0])
            for entry in entries[1:]:
                store.append(entry)
            store.schedule(entries[0].case_id, entries[-1].at)
    return opener


_OPEN: list[Any] = []


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param
    while _OPEN:
        _OPEN.pop().__exit__(None, None, None)


def verified(opener: Callable[[], Any]) -> list[Any]:
    with opener() as store:
        return Engine(store=store).verify()


# -- the tests --------------------------------------------------------------------------------


def test_an_honest_multi_loan_history_verifies(backend: str, tmp_path: Path) -> None:
    chains = honest()
    kinds = {entry.kind for chain in chains.values() for entry in chain}
    assert {"agreement_reopened", "promise_made", "hold_added", "debtor_changed"} <= kinds
    assert verified(stored(backend, tmp_path, chains)) == []


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_forged_share_is_found(backend: str, tmp_path: Path, attack: str) -> None:
    build, forge, named = ATTACKS[attack]
    chains = build()
    assert verified(stored("memory", tmp_path, chains)) == []
    forge(chains)
    for entries in chains.values():  # each chain holds alone
        replay(entries)
    problems = verified(stored(backend, tmp_path, chains))
    assert problems, attack
    assert {problem.problem for problem in problems} == {"unmatched"}
    assert {problem.case_id for problem in problems} == set(named)
    for word in ("D-1", "P-1", "B-1"):  # no debtor, no payment reference
        assert all(word not in problem.detail for problem in problems)


@pytest.mark.parametrize("hours", [0, 1])
def test_a_debtor_hold_released_again_on_one_loan_is_found(
    backend: str, tmp_path: Path, hours: int
) -> None:
    """Released again on one loan, later or at the moment of its first release (two
    releases racing before the debtor lock journaled this): that loan would stay held
    after the others were freed.  Its own chain shows it, and nothing else is needed (the
    checks across a debtor's chains have no case of their own for it): a release of a
    hold no longer in force (`arrears.refigure`)."""
    chains = bankrupt_released()
    chain = chains["LN-C"]
    last = chain[-1]
    assert last.kind == "hold_released"
    at = last.at + timedelta(hours=hours)
    again = {**last.data, "released_at": at.isoformat()}
    chain.append(seal("LN-C", last.seq + 1, at, "hold_released", again, last.hash))
    problems = verified(stored(backend, tmp_path, chains))
    assert [(problem.case_id, problem.position, problem.problem) for problem in problems] == [
        ("LN-C", 3, "forbidden")
    ]
    assert "which was not in force on the case" in problems[0].detail


def test_problems_name_the_entry_and_what_disagrees() -> None:
    """The share that stands, where it stands, and the reversal on the other loan."""
    chains = debtor_payment_reversed()
    cut_before("LN-B", "payment_reversed")(chains)
    problems = verified(stored("memory", Path("."), chains))
    assert [str(problem) for problem in problems] == [
        "case 'LN-B' at 1: unmatched (a share of a payment to the debtor stands, but the "
        "share on case 'LN-A' was reversed at seq 3)"
    ]


def test_a_hold_a_case_was_opened_with_is_found_where_placed(backend: str, tmp_path: Path) -> None:
    """A loan opened with a bankruptcy on file journals no ``hold_added``: a loan of the
    debtor opened later inherits the hold naming it, and that verifies."""
    engine, clock = _engine()
    started = shanghai(DAY).isoformat()
    hold = {"id": "bk-1", "kind": "bankruptcy", "reason": "chapter 7", "started_at": started}
    engine.open_case(monthly_loan(id="LN-X", holds=[hold]))
    clock.set(shanghai(DAY, 13))
    engine.open_case(monthly_loan(id="LN-Y"))
    chains = _chains(engine)
    assert chains["LN-Y"][-1].data["hold"]["origin"] == "LN-X"
    assert verified(stored(backend, tmp_path, chains)) == []
    edited("LN-Y", "hold_added", lambda data: data.update(hold={**hold, "origin": "LN-A"}))(chains)
    # The copy names a loan that does not hold it, and LN-X's hold is not on LN-Y.
    problems = verified(stored(backend, tmp_path / "b", chains))
    assert [(problem.case_id, problem.position) for problem in problems] == [
        ("LN-Y", 0),
        ("LN-Y", 1),
    ]


def test_a_moratorium_on_its_listed_debt_verifies(backend: str, tmp_path: Path) -> None:
    """A breathing space recorded on the debt its notice lists only (``reach: case``) is
    on that loan alone, and released there alone, and that verifies."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 12))
    space = engine.add_hold("LN-B", "breathing_space", "the notice lists this loan", reach="case")
    engine.add_hold("LN-C", "mental_health_crisis", "the notice lists this loan", reach="case")
    clock.set(shanghai(DAY, 13))
    engine.release_hold("LN-B", space.id)  # released on its loan alone
    chains = _chains(engine)
    assert [chains[loan_id][-1].kind for loan_id in LOANS] == [
        "opened",
        "hold_released",
        "hold_added",
    ]
    assert verified(stored(backend, tmp_path, chains)) == []


def test_a_change_of_place_recorded_by_an_older_engine_is_judged_alone() -> None:
    """No ``cases`` in the entries (as written before they were linked): one of them
    deleted is not found; nothing links them."""
    chains = moved()
    for case_id in LOANS:
        edited(case_id, "debtor_changed", lambda data: data.pop("cases"))(chains)
    cut_before("LN-B", "debtor_changed")(chains)
    assert verified(stored("memory", Path("."), chains)) == []


def test_the_command_reports_it(tmp_path: Path) -> None:
    chains = debtor_payment_reversed()
    cut_before("LN-B", "payment_reversed")(chains)
    stored("sqlite", tmp_path, chains)
    while _OPEN:
        _OPEN.pop().__exit__(None, None, None)
    result = CliRunner().invoke(main, ["journal", "verify", "--db", str(tmp_path / "arrears.db")])
    assert result.exit_code != 0
    assert result.stdout.startswith("TAMPERED: case 'LN-B' at 1: unmatched (")


@pytest.mark.parametrize("on", ["LN-A", "LN-C", "LN-D"])
def test_a_release_is_journaled_on_every_loan_the_hold_reaches(on: str) -> None:
    """A bankruptcy placed on LN-A reaches LN-B and LN-C, and LN-D opened later inherits
    it: released on any of them (where placed, a copy, the loan that inherited it), each
    of the four records the release at the same moment, and none of them is held."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 12))
    hold = engine.add_hold("LN-A", "bankruptcy", "chapter 7 filed")
    clock.set(shanghai(DAY, 13))
    engine.open_case(monthly_loan(id="LN-D"))
    released = shanghai(DAY, 14)
    clock.set(released)
    engine.release_hold(on, hold.id)
    chains = _chains(engine)
    for case_id in ("LN-A", "LN-B", "LN-C", "LN-D"):
        last = chains[case_id][-1]
        assert (last.kind, last.at, last.data["hold_id"]) == ("hold_released", released, hold.id)
        assert last.data["released_at"] == released.isoformat()
        assert not any(item.active_at(released) for item in engine.case(case_id).holds)
    assert engine.verify() == []


def test_a_release_reaches_the_loan_opened_holding_it() -> None:
    """LN-X opened with a bankruptcy on file; LN-Y opened later inherits it.  Released on
    LN-Y, LN-X records the release too (and the other way round verifies the same)."""
    engine, clock = _engine()
    started = shanghai(DAY).isoformat()
    hold = {"id": "bk-1", "kind": "bankruptcy", "reason": "chapter 7", "started_at": started}
    engine.open_case(monthly_loan(id="LN-X", holds=[hold]))
    clock.set(shanghai(DAY, 13))
    engine.open_case(monthly_loan(id="LN-Y"))
    clock.set(shanghai(DAY, 14))
    engine.release_hold("LN-Y", "bk-1")
    chains = _chains(engine)
    assert [chains[c][-1].kind for c in ("LN-X", "LN-Y")] == ["hold_released"] * 2
    assert engine.verify() == []
    cut_before("LN-X", "hold_released")(chains)
    problems = verified(stored("memory", Path("."), chains))
    assert [(p.case_id, p.position, p.problem) for p in problems] == [("LN-X", 0, "unmatched")]


_STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("hold"),
            st.sampled_from(("LN-A", "LN-B", "LN-C")),
            st.sampled_from(("bankruptcy", "breathing_space", "deceased", "dispute", "cease")),
            st.sampled_from((None, "debtor", "case")),  # "case": a moratorium's only
            st.sampled_from((None, 2, 30)),  # hours until it ends, if it ends
        ),
        st.tuples(st.just("open"), st.sampled_from((None, "bankruptcy", "breathing_space"))),
        st.tuples(st.just("release"), st.integers(0, 9), st.integers(0, 9)),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_STEPS)
def test_honest_holds_and_releases_across_loans_verify(steps: list[tuple[Any, ...]]) -> None:
    """Holds of every reach placed, lapsing, inherited by loans opened later and released
    on any loan holding them, an hour apart: whatever the engine records verifies."""
    engine, clock = _engine()
    now, opened = shanghai(DAY, 11), 0
    for step in steps:
        now += timedelta(hours=1)
        clock.set(now)
        if step[0] == "hold":
            _, case_id, kind, reach, hours = step
            until = None if hours is None else now + timedelta(hours=hours)
            if reach == "case" and kind not in ("breathing_space", "dispute", "cease"):
                reach = None  # narrowed only where the law's reach is the listed debts
            engine.add_hold(case_id, kind, "as told", until=until, reach=reach)
        elif step[0] == "open":
            opened += 1
            held = []
            if step[1] is not None:  # on file: a bankruptcy, or a moratorium on this debt only
                held = [{**_SPACE, "id": f"f-{opened}", "kind": step[1], "started_at": now}]
                if step[1] == "breathing_space":
                    held[0]["reach"] = "case"
            engine.open_case(monthly_loan(id=f"LN-N{opened}", holds=held))
        else:
            cases = sorted(case_id for case_id, _ in engine.store.chains())
            case_id = cases[step[1] % len(cases)]
            active = engine.case(case_id).active_holds(now)
            if active:
                engine.release_hold(case_id, active[step[2] % len(active)].id)
    assert engine.verify() == []


# -- a hold on file at an opening reaches the debtor's loans open already ---------------------


@pytest.mark.parametrize("reach", [None, "debtor"])
def test_a_hold_on_file_at_an_opening_holds_the_loans_open_already(
    backend: str, tmp_path: Path, reach: str | None
) -> None:
    """LN-X opened with a bankruptcy (or a cease request over every debt) in its record:
    LN-A, LN-B and LN-C, open already, are held from that moment by the same hold, naming
    LN-X, in the opening's unit of work; released on LN-B, it ends on all four."""
    with _store(backend, tmp_path) as opener, opener() as store:
        clock = SettableClock(shanghai(DAY))
        engine = Engine(store=store, clock=clock)
        for loan_id in LOANS:
            engine.open_case(monthly_loan(id=loan_id))
        opened = shanghai(DAY, 12)
        clock.set(opened)
        hold = dict(_BANKRUPTCY) if reach is None else {**_BANKRUPTCY, "kind": "cease"}
        if reach is not None:
            hold["reach"] = reach
        engine.open_case(monthly_loan(id="LN-X", holds=[hold]))
        for case_id in LOANS:
            last = engine.history(case_id)[-1]
            assert (last.kind, last.at) == ("hold_added", opened)
            assert last.data["hold"]["id"] == "bk-1"
            assert last.data["hold"]["origin"] == "LN-X"
            assert datetime.fromisoformat(last.data["hold"]["started_at"]) == shanghai(DAY)
            (held,) = engine.case(case_id).holds
            assert held.active_at(opened)
            assert held.origin == "LN-X"
        assert [e.kind for e in engine.history("LN-X")] == ["opened"]
        assert engine.verify() == []
        released = shanghai(DAY, 14)
        clock.set(released)
        engine.release_hold("LN-B", "bk-1")
        for case_id in (*LOANS, "LN-X"):
            assert not any(item.active_at(released) for item in engine.case(case_id).holds)
            assert engine.history(case_id)[-1].kind == "hold_released"
        assert engine.verify() == []


def test_a_hold_reaching_one_debt_or_ended_is_not_passed_on(backend: str, tmp_path: Path) -> None:
    """A dispute (its debt only) and a bankruptcy released before the opening stay on the
    loan opened with them, and a loan opened later inherits neither."""
    with _store(backend, tmp_path) as opener, opener() as store:
        clock = SettableClock(shanghai(DAY, 12))
        engine = Engine(store=store, clock=clock)
        engine.open_case(monthly_loan(id="LN-A"))
        dispute = {**_BANKRUPTCY, "id": "d-1", "kind": "dispute"}
        ended = {**_BANKRUPTCY, "id": "bk-0", "released_at": shanghai(DAY, 11).isoformat()}
        engine.open_case(monthly_loan(id="LN-X", holds=[dispute, ended]))
        assert [e.kind for e in engine.history("LN-A")] == ["opened"]
        assert engine.verify() == []
        clock.set(shanghai(DAY, 13))
        engine.open_case(monthly_loan(id="LN-Y"))  # inherits neither, later
        assert [e.kind for e in engine.history("LN-Y")] == ["opened"]
        assert engine.verify() == []


def test_a_batch_opening_passes_the_hold_to_the_loans_before_it(
    backend: str, tmp_path: Path
) -> None:
    """`open_cases`: LN-A, then LN-X with a bankruptcy, then LN-B: LN-A records it at
    LN-X's opening, LN-B inherits it at its own; every loan is held, and it verifies."""
    with _store(backend, tmp_path) as opener, opener() as store:
        clock = SettableClock(shanghai(DAY, 12))
        engine = Engine(store=store, clock=clock)
        engine.open_cases(
            [
                monthly_loan(id="LN-A"),
                monthly_loan(id="LN-X", holds=[_BANKRUPTCY]),
                monthly_loan(id="LN-B"),
            ]
        )
        for case_id in ("LN-A", "LN-B"):
            assert [e.kind for e in engine.history(case_id)] == ["opened", "hold_added"]
            assert [(h.id, h.origin) for h in engine.case(case_id).holds] == [("bk-1", "LN-X")]
        assert engine.verify() == []


def test_a_hold_id_on_another_loan_is_refused_and_nothing_opens(
    backend: str, tmp_path: Path
) -> None:
    """A bankruptcy in the record with the id of a dispute on another loan of the debtor:
    the two could not be told apart, so the opening is refused, and nothing is written."""
    from arrears import InvalidInput

    with _store(backend, tmp_path) as opener, opener() as store:
        clock = SettableClock(shanghai(DAY, 12))
        engine = Engine(store=store, clock=clock)
        engine.open_case(monthly_loan(id="LN-A"))
        engine.add_hold("LN-A", "dispute", "not mine")
        taken = engine.case("LN-A").holds[0].id
        with pytest.raises(InvalidInput, match="holds"):
            engine.open_case(monthly_loan(id="LN-X", holds=[{**_BANKRUPTCY, "id": taken}]))
        assert "LN-X" not in engine.store
        assert [e.kind for e in engine.history("LN-A")] == ["opened", "hold_added"]
        assert engine.verify() == []


def test_an_opening_with_a_hold_dated_before_another_loans_last_entry_is_refused(
    backend: str, tmp_path: Path
) -> None:
    """The hold could not be journaled on LN-A at that moment (its chain runs forward in
    time): the opening is refused naming ``at``, and nothing is written."""
    from arrears import InvalidInput

    with _store(backend, tmp_path) as opener, opener() as store:
        clock = SettableClock(shanghai(DAY, 12))
        engine = Engine(store=store, clock=clock)
        engine.open_case(monthly_loan(id="LN-A"))
        with pytest.raises(InvalidInput, match=r"^at: "):
            engine.open_case(monthly_loan(id="LN-X", holds=[_BANKRUPTCY]), at=shanghai(DAY, 11))
        assert "LN-X" not in engine.store
        assert [e.kind for e in engine.history("LN-A")] == ["opened"]


def test_a_moratorium_on_its_listed_debt_at_an_opening_stays_there(
    backend: str, tmp_path: Path
) -> None:
    """LN-X opened with a breathing space recorded on the debt its notice lists only: no
    loan open already records it, LN-Y opened later does not inherit it, and that
    verifies; released on LN-X, it ends there alone."""
    with _store(backend, tmp_path) as opener, opener() as store:
        clock = SettableClock(shanghai(DAY, 12))
        engine = Engine(store=store, clock=clock)
        engine.open_case(monthly_loan(id="LN-A"))
        engine.open_case(monthly_loan(id="LN-X", holds=[{**_SPACE, "reach": "case"}]))
        clock.set(shanghai(DAY, 13))
        engine.open_case(monthly_loan(id="LN-Y"))
        assert [e.kind for e in engine.history("LN-A")] == ["opened"]
        assert [e.kind for e in engine.history("LN-Y")] == ["opened"]
        assert engine.case("LN-Y").holds == ()
        assert engine.verify() == []
        clock.set(shanghai(DAY, 14))
        engine.release_hold("LN-X", "bs-1")
        assert [e.kind for e in engine.history("LN-A")] == ["opened"]
        assert engine.verify() == []


@pytest.mark.parametrize("reach", [None, "case"])
def test_an_opening_with_a_copy_of_a_moratorium_on_another_debt_only_is_refused(
    backend: str, tmp_path: Path, reach: str | None
) -> None:
    """LN-A holds a breathing space recorded on its own debt only; LN-X's record holds a
    copy of it (its id, naming LN-A), at the debtor's reach or saying it is on its debt
    only: the moratorium reaches no other debt, so the opening is refused naming
    ``holds``, and nothing is written."""
    from arrears import InvalidInput

    with _store(backend, tmp_path) as opener, opener() as store:
        clock = SettableClock(shanghai(DAY, 12))
        engine = Engine(store=store, clock=clock)
        engine.open_case(monthly_loan(id="LN-A"))
        hold = engine.add_hold("LN-A", "breathing_space", "the notice lists it", reach="case")
        copy = {**_SPACE, "id": hold.id, "origin": "LN-A"}
        if reach is not None:
            copy["reach"] = reach
        with pytest.raises(InvalidInput, match=r"^holds: got 'breathing_space-1'"):
            engine.open_case(monthly_loan(id="LN-X", holds=[copy]))
        assert "LN-X" not in engine.store
        assert [e.kind for e in engine.history("LN-A")] == ["opened", "hold_added"]
        assert engine.verify() == []


def test_a_moratorium_on_its_debt_only_naming_another_case_is_refused_alone() -> None:
    """The first loan of a debtor, opened with a breathing space that says it is on the
    debt its notice lists only and names another case as where it was placed: refused."""
    from arrears import InvalidInput

    engine = Engine(clock=SettableClock(shanghai(DAY, 12)))
    copy = {**_SPACE, "reach": "case", "origin": "LN-Z"}
    with pytest.raises(InvalidInput, match=r"^holds: got 'bs-1'.*not on LN-Z"):
        engine.open_case(monthly_loan(id="LN-X", holds=[copy]))
    assert "LN-X" not in engine.store


def test_a_copy_in_an_opening_is_borne_out_where_it_names() -> None:
    """An opening holding a copy of a hold (ended) on another loan of the debtor that holds
    it verifies (the engine opens it); one naming a loan that does not hold it, no loan at
    all or another debtor's loan is refused at the opening, as `verify` reports it."""
    engine, clock = _engine()
    clock.set(shanghai(DAY, 12))
    hold = engine.add_hold("LN-A", "bankruptcy", "chapter 7 filed")
    clock.set(shanghai(DAY, 13))
    engine.release_hold("LN-A", hold.id)
    ended = engine.case("LN-A").holds[0]
    copy = {**ended.model_dump(mode="json", exclude_none=True), "origin": "LN-A"}
    engine.open_case(monthly_loan(id="LN-X", holds=[copy]))
    assert engine.verify() == []
    engine.open_case(monthly_loan(id="LN-Z", debtor={"id": "D-2"}, holds=[_BANKRUPTCY]))
    for origin in ("LN-B-NONE", "LN-Z"):
        forged = {**_BANKRUPTCY, "origin": origin}
        with pytest.raises(InvalidInput) as refused:
            engine.open_case(monthly_loan(id="LN-Y", holds=[forged]))
        assert refused.value.field == "holds"
        assert f"{origin}, which its origin names, does not hold it" in str(refused.value)
    assert "LN-Y" not in list(engine.store.case_ids())
