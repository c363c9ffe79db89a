"""What one operation wrote across a debtor's chains, judged together.

Each case's chain verifies alone (`arrears.journal.verify_chain`, then
`arrears.events.replay`), but some operations write an entry on several
cases of one debtor in one unit of work, and whoever can seal a chain again
can forge or delete one case's part and leave the others standing.  A
`DebtorChains` is handed every chain that holds, with its debtor's id, once
(`add`); it keeps only the few facts of the entries that one operation writes
across cases and then judges them debtor by debtor (`problems`):

- a share of a payment to the debtor (a ``payment`` with ``debtor``): every
  share its whole lists is on its case, under the same reference, at the
  same moment, with the same whole, for the amount listed; the shares sum
  to the whole; no case holds a share the whole does not list;
- the reversal of such a share (``payment_reversed``): every share is
  reversed, at the same moment;
- an ``agreement_reopened``: the loan it names holds the reversal it names,
  at the same moment;
- a promise or a plan over several loans (``promise_made``, ``plan_started``
  whose agreement lists ``cases``): every case it lists holds it, with the
  same id and list of cases, made at the same moment;
- a hold on several cases (``hold_added``): a hold naming the case it was
  placed on (``origin``) finds it placed there, no later; a hold whose reach
  is the debtor, placed on a case, is on every case of the debtor opened by
  then, at the same moment; so is one reaching the debtor that a case was
  opened with (in its ``opened`` snapshot), from the opening's moment; and a
  case of the debtor opened later, while such a hold (placed, or held from an
  opening) had not ended, holds it from its own opening;
- a hold an ``opened`` snapshot holds as a copy of one placed on another case
  (``origin``): that case, one of the debtor's, holds it (placed, or held from its
  opening) by the opening's moment;
- a moratorium recorded on the debts its notice lists only (``reach: case``),
  placed by ``hold_added`` or held from a case's opening, is on that case
  alone: a copy of it on another case (a ``hold_added`` naming it, or a hold
  in an ``opened`` snapshot naming its case as ``origin``), or a copy in a
  snapshot that says it was recorded so itself, is not borne out;
- the release of such a hold (``hold_released``): every case holding it (placed,
  inherited, or opened with it) records its release at the same moment: a
  release lost or forged on one loan would leave the debtor held on one and
  free on another (one recorded again on a loan is that chain's own problem, a
  release of a hold no longer in force: `arrears.refigure`);
- a change of where the debtor is (``debtor_changed``) that lists the cases
  it was recorded on (``cases``, written since this check): each of them
  records it at the same moment with the same change.  One recorded before
  lists none and is judged as before, alone.

A problem is ``unmatched``, on the entry that the debtor's other chains do
not bear out, naming the cases and positions; never a reference, an amount's
owner or anything else about the person.  This module knows nothing of
stores: `arrears.operations.evidence.verify` hands it the chains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import orjson

from .errors import JournalProblem
from .holds import reaches_debtor
from .journal import JournalEntry

__all__ = ["UNMATCHED", "DebtorChains"]

#: The problem an entry written across a debtor's cases is reported as when the
#: other cases do not bear it out.
UNMATCHED: Final = "unmatched"

#: The kinds whose entries one operation may write on several cases of a debtor.
_KINDS: Final = frozenset(
    {
        "opened",
        "payment",
        "payment_reversed",
        "agreement_reopened",
        "promise_made",
        "plan_started",
        "hold_added",
        "hold_released",
        "debtor_changed",
    }
)


@dataclass(slots=True)
class _Share:
    """One case's share of a payment to the debtor, and its reversal if any."""

    case_id: str
    seq: int
    at: datetime
    amount: str
    currency: str
    whole: Any
    reversed: tuple[int, datetime] | None = None


@dataclass(slots=True)
class _Debtor:
    """What the chains of one debtor hold that other chains must bear out."""

    opened: dict[str, datetime] = field(default_factory=dict)
    #: case -> its ``opened`` entry, whose snapshot may hold holds of its own.
    openings: dict[str, JournalEntry] = field(default_factory=dict)
    #: (case, hold id) of each hold recorded on the debts its notice lists only
    #: (``reach: case``, `arrears.holds.HoldReach.listed`), placed by ``hold_added`` or
    #: held from the case's opening: never copied to another case.
    narrowed: set[tuple[str, str]] = field(default_factory=set)
    #: (case, seq, hold id, origin, narrowed) of each hold an ``opened`` snapshot holds
    #: as a copy of one placed on another case (``origin``).
    opening_copies: list[tuple[str, int, str, str, bool]] = field(default_factory=list)
    #: reference -> the shares of a payment to the debtor under it.
    shares: dict[str, list[_Share]] = field(default_factory=dict)
    #: (case, reference) -> when each payment under it on the case was reversed.
    reversals: dict[tuple[str, str], list[datetime]] = field(default_factory=dict)
    #: (case, seq, at, the case named, the reference named).
    reopened: list[tuple[str, int, datetime, Any, Any]] = field(default_factory=list)
    #: (kind, id, the cases listed) -> case -> (seq, at) of each entry.
    agreements: dict[tuple[str, str, tuple[str, ...]], dict[str, list[tuple[int, datetime]]]] = (
        field(default_factory=dict)
    )
    #: hold id -> case -> (seq, at, origin or None, reaches the debtor).
    holds: dict[str, list[tuple[str, int, datetime, Any, bool]]] = field(default_factory=dict)
    #: (case, hold id) -> the end (released, or ``ends_at``) of each hold reaching the
    #: debtor placed on the case (by ``hold_added``, or held from its opening), or ``None``.
    ends: dict[tuple[str, str], datetime | None] = field(default_factory=dict)
    #: (case, hold id) -> (seq, at, the release time recorded) of its first release.
    releases: dict[tuple[str, str], tuple[int, datetime, Any]] = field(default_factory=dict)
    #: (at, the cases listed) -> case -> (seq, the change recorded).
    moved: dict[tuple[datetime, tuple[str, ...]], dict[str, tuple[int, Any]]] = field(
        default_factory=dict
    )


class DebtorChains:
    """Every debtor's chains, judged together (see the module's docstring).

    Memory and time are linear in the entries handed over: one pass per
    chain keeps a few facts of the entries above, and `problems` reads each
    of them a bounded number of times.
    """

    def __init__(self) -> None:
        self._debtors: dict[str, _Debtor] = {}
        self._skipped: set[str] = set()

    def skip(self, debtor_id: str) -> None:
        """Judge nothing of *debtor_id*: a chain of theirs does not hold (and is reported)."""
        self._skipped.add(debtor_id)

    def add(self, debtor_id: str, case_id: str, entries: Sequence[JournalEntry]) -> None:
        """Keep what *entries* (the chain of *case_id*, which holds) say across cases."""
        debtor = self._debtors.setdefault(debtor_id, _Debtor())
        mine: dict[int, _Share] = {}
        for entry in entries:
            kind = entry.kind
            if kind not in _KINDS:
                continue
            data = entry.data
            if kind == "opened":
                debtor.opened[case_id] = entry.at
                debtor.openings[case_id] = entry
                for held in _snapshot_holds(entry):
                    hold_id, origin = str(held.get("id")), held.get("origin")
                    narrowed = held.get("reach") == "case" and not _reaches_debtor(held)
                    if origin in (None, case_id):
                        if narrowed:
                            debtor.narrowed.add((case_id, hold_id))
                        elif _reaches_debtor(held):
                            debtor.ends[case_id, hold_id] = _ended(held)
                    else:
                        debtor.opening_copies.append(
                            (case_id, entry.seq, hold_id, str(origin), narrowed)
                        )
            elif kind == "payment":
                whole = data.get("debtor")
                reference = data.get("reference")
                if whole is not None and isinstance(reference, str):
                    share = _Share(
                        case_id,
                        entry.seq,
                        entry.at,
                        str(data.get("amount")),
                        str(data.get("currency")),
                        whole,
                    )
                    mine[entry.seq] = share
                    debtor.shares.setdefault(reference, []).append(share)
            elif kind == "payment_reversed":
                reference = data.get("reference")
                if isinstance(reference, str):
                    debtor.reversals.setdefault((case_id, reference), []).append(entry.at)
                paid = mine.get(data.get("payment_seq"))  # type: ignore[arg-type]
                if paid is not None:
                    paid.reversed = (entry.seq, entry.at)
            elif kind == "agreement_reopened":
                debtor.reopened.append(
                    (case_id, entry.seq, entry.at, data.get("case_id"), data.get("reference"))
                )
            elif kind in ("promise_made", "plan_started"):
                agreement = data.get("promise" if kind == "promise_made" else "plan")
                if isinstance(agreement, dict) and isinstance(agreement.get("cases"), list):
                    listed = tuple(map(str, agreement["cases"]))
                    made = debtor.agreements.setdefault(
                        (kind, str(agreement.get("id")), listed), {}
                    )
                    made.setdefault(case_id, []).append((entry.seq, entry.at))
            elif kind == "hold_added":
                hold = data.get("hold")
                if isinstance(hold, dict):
                    if hold.get("reach") == "case" and not _reaches_debtor(hold):
                        debtor.narrowed.add((case_id, str(hold.get("id"))))
                    elif not hold.get("origin") and _reaches_debtor(hold):
                        debtor.ends[case_id, str(hold.get("id"))] = _ended(hold)
                    debtor.holds.setdefault(str(hold.get("id")), []).append(
                        (case_id, entry.seq, entry.at, hold.get("origin"), _reaches_debtor(hold))
                    )
            elif kind == "hold_released":
                # A chain that replays releases a hold once: a release of one no longer in
                # force is ``forbidden`` on its own chain (`arrears.refigure`).
                released = (entry.seq, entry.at, data.get("released_at"))
                debtor.releases.setdefault((case_id, str(data.get("hold_id"))), released)
            elif kind == "debtor_changed":
                cases = data.get("cases")
                if isinstance(cases, list):
                    change = {name: data.get(name) for name in _PLACES if name in data}
                    moved = debtor.moved.setdefault((entry.at, tuple(map(str, cases))), {})
                    moved[case_id] = (entry.seq, change)

    def problems(self) -> list[JournalProblem]:
        """Every entry of a debtor's chains that the debtor's other chains do not bear out."""
        found: list[JournalProblem] = []
        for debtor_id in sorted(self._debtors):
            if debtor_id in self._skipped:
                continue
            debtor = self._debtors[debtor_id]
            for shares in debtor.shares.values():
                found.extend(_payment_problems(shares))
            found.extend(_reopening_problems(debtor))
            found.extend(_agreement_problems(debtor))
            found.extend(_hold_problems(debtor))
            found.extend(_opening_hold_problems(debtor))
            found.extend(_opening_copy_problems(debtor))
            found.extend(_inherited_problems(debtor))
            found.extend(_release_problems(debtor))
            found.extend(_move_problems(debtor))
        found.sort(key=lambda problem: (problem.case_id, problem.position, problem.detail))
        return found


_PLACES: Final = ("jurisdiction", "residence", "timezone")


def _reaches_debtor(hold: dict[str, Any]) -> bool:
    """True when the hold's JSON covers every debt of the person (`arrears.case.Hold`):
    a moratorium recorded on its listed debts only (``reach: case``) does not."""
    reach = hold.get("reach")
    return reaches_debtor(str(hold.get("kind")), reach if isinstance(reach, str) else None)


def _unmatched(case_id: str, seq: int, detail: str) -> JournalProblem:
    return JournalProblem(case_id, seq, UNMATCHED, detail)


def _decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _payment_problems(shares: list[_Share]) -> list[JournalProblem]:
    """The shares of one payment to the debtor (one reference) that do not agree."""
    found: list[JournalProblem] = []
    first = shares[0]
    by_case = {share.case_id: share for share in shares}
    listed = first.whole.get("shares") if isinstance(first.whole, dict) else None
    listed = listed if isinstance(listed, list) else []
    parts = {
        str(item.get("case_id")): item.get("amount") for item in listed if isinstance(item, dict)
    }
    for share in shares[1:]:
        if share.whole != first.whole or share.currency != first.currency:
            found.append(
                _unmatched(
                    share.case_id,
                    share.seq,
                    f"a share of a payment to the debtor records another whole than the "
                    f"share on case {first.case_id!r} at seq {first.seq}",
                )
            )
        if share.at != first.at:
            found.append(
                _unmatched(
                    share.case_id,
                    share.seq,
                    f"a share of a payment to the debtor recorded at {share.at.isoformat()}, "
                    f"the share on case {first.case_id!r} at {first.at.isoformat()}",
                )
            )
    total = sum((_decimal(amount) or Decimal(0) for amount in parts.values()), Decimal(0))
    whole = _decimal(first.whole.get("amount")) if isinstance(first.whole, dict) else None
    if whole is None or total != whole or len(parts) != len(listed):
        found.append(
            _unmatched(
                first.case_id,
                first.seq,
                f"a payment to the debtor of {whole} "
                f"lists shares summing to {total} over {len(listed)} entries",
            )
        )
    for case_id, amount in parts.items():
        named = by_case.get(case_id)
        if named is None:
            found.append(
                _unmatched(
                    first.case_id,
                    first.seq,
                    f"a payment to the debtor lists a share on case {case_id!r}, "
                    "which holds no share under its reference",
                )
            )
        elif _decimal(named.amount) != _decimal(amount):
            found.append(
                _unmatched(
                    named.case_id,
                    named.seq,
                    f"a share of a payment to the debtor is {named.amount}, "
                    f"its whole lists {amount} for case {case_id!r}",
                )
            )
    for share in shares:
        if share.case_id not in parts:
            found.append(
                _unmatched(
                    share.case_id,
                    share.seq,
                    "a share of a payment to the debtor that its whole does not list",
                )
            )
    reversed_ = [share for share in shares if share.reversed is not None]
    if reversed_:
        one = reversed_[0]
        assert one.reversed is not None
        for share in shares:
            if share.reversed is None:
                found.append(
                    _unmatched(
                        share.case_id,
                        share.seq,
                        f"a share of a payment to the debtor stands, but the share on case "
                        f"{one.case_id!r} was reversed at seq {one.reversed[0]}",
                    )
                )
            elif share.reversed[1] != one.reversed[1]:
                found.append(
                    _unmatched(
                        share.case_id,
                        share.reversed[0],
                        f"a share of a payment to the debtor reversed at "
                        f"{share.reversed[1].isoformat()}, the share on case {one.case_id!r} "
                        f"at {one.reversed[1].isoformat()}",
                    )
                )
    return found


def _reopening_problems(debtor: _Debtor) -> list[JournalProblem]:
    """``agreement_reopened`` entries naming a reversal their loan does not hold then."""
    found: list[JournalProblem] = []
    for case_id, seq, at, other, reference in debtor.reopened:
        if not isinstance(other, str) or not isinstance(reference, str):
            continue  # its data's schema is checked on replay
        moments = debtor.reversals.get((other, reference), [])
        if at not in moments:
            where = "another case of the debtor" if other not in debtor.opened else "it"
            found.append(
                _unmatched(
                    case_id,
                    seq,
                    f"a re-opened agreement names a reversed payment on case {other!r}, "
                    f"but {where} holds no such reversal at {at.isoformat()}",
                )
            )
    return found


def _agreement_problems(debtor: _Debtor) -> list[JournalProblem]:
    """The shares of a promise or plan over several loans that do not agree."""
    found: list[JournalProblem] = []
    for (kind, _, listed), held in debtor.agreements.items():
        what = "promise" if kind == "promise_made" else "plan"
        for case_id, made in sorted(held.items()):
            for seq, at in made:
                if case_id not in listed:
                    found.append(
                        _unmatched(
                            case_id,
                            seq,
                            f"a share of a {what} over several loans not listing its case",
                        )
                    )
                for other in listed:
                    if other != case_id and all(when != at for _, when in held.get(other, ())):
                        found.append(
                            _unmatched(
                                case_id,
                                seq,
                                f"a {what} over several loans lists case {other!r}, which "
                                f"records no share of it made at {at.isoformat()}",
                            )
                        )
    return found


def _hold_problems(debtor: _Debtor) -> list[JournalProblem]:
    """Holds on several cases of the debtor whose placements do not agree.

    A moratorium recorded on the debts its notice lists only (``reach: case``) is on
    the case it was placed on alone: a copy of it, or a copy that says so of itself,
    is a forged part of a hold that reached the debtor."""
    found: list[JournalProblem] = []
    for hold_id, placed in debtor.holds.items():
        origins = {
            case_id: (seq, at, reach) for case_id, seq, at, origin, reach in placed if not origin
        }
        copies = {case_id: (seq, at, origin) for case_id, seq, at, origin, _ in placed if origin}
        for case_id, (seq, at, origin) in sorted(copies.items()):
            if (case_id, hold_id) in debtor.narrowed or (origin, hold_id) in debtor.narrowed:
                found.append(
                    _unmatched(
                        case_id,
                        seq,
                        f"a hold recorded on the debts its notice lists only is copied from "
                        f"case {origin!r}",
                    )
                )
                continue
            source = origins.get(origin) if isinstance(origin, str) else None
            placed_at = None if source is None else source[1]
            if placed_at is None and isinstance(origin, str):
                placed_at = _opened_with(debtor, origin, hold_id)
            if placed_at is None or placed_at > at:
                found.append(
                    _unmatched(
                        case_id,
                        seq,
                        f"a hold placed on case {origin!r} is not there by {at.isoformat()}",
                    )
                )
        for case_id, (seq, at, reach) in sorted(origins.items()):
            if not reach:
                continue
            for other, opened in sorted(debtor.opened.items()):
                if other == case_id or opened > at:
                    continue
                copy = copies.get(other)
                if copy is None or copy[2] != case_id or copy[1] != at:
                    found.append(
                        _unmatched(
                            case_id,
                            seq,
                            f"a hold reaching the debtor is not on case {other!r} "
                            f"from {at.isoformat()}",
                        )
                    )
    return found


def _opening_hold_problems(debtor: _Debtor) -> list[JournalProblem]:
    """Holds reaching the debtor that a case was opened with, missing from a case of the
    debtor opened by then: each such case records it (``hold_added`` naming the case
    opened as its origin) at the opening's moment."""
    found: list[JournalProblem] = []
    if len(debtor.opened) < 2:
        return found
    for case_id, opening in sorted(debtor.openings.items()):
        at = opening.at
        for hold_id in _passed_at_opening(opening, case_id):
            copies = {
                other: (origin, placed_at)
                for other, _, placed_at, origin, _ in debtor.holds.get(hold_id, ())
                if other != case_id
            }
            for other, opened in sorted(debtor.opened.items()):
                if other == case_id or opened > at:
                    continue
                if copies.get(other) != (case_id, at):
                    found.append(
                        _unmatched(
                            case_id,
                            opening.seq,
                            f"a hold reaching the debtor, held from the opening, is not on "
                            f"case {other!r} from {at.isoformat()}",
                        )
                    )
    return found


def _holds_by(debtor: _Debtor, case_id: str, hold_id: str, at: datetime) -> bool:
    """Whether *case_id*, a case of the debtor, holds the hold *hold_id* as placed there (a
    ``hold_added`` naming no other case, or held from its opening) by *at*."""
    opened = _opened_with(debtor, case_id, hold_id)
    if opened is not None and opened <= at:
        return True
    return any(
        other == case_id and placed <= at and origin in (None, "", case_id)
        for other, _, placed, origin, _ in debtor.holds.get(hold_id, ())
    )


def _opening_copy_problems(debtor: _Debtor) -> list[JournalProblem]:
    """Holds an ``opened`` snapshot holds as copies of a hold placed on another case
    (``origin``) that the debtor's chains do not bear out: the case it names does not hold
    it by the opening (no such case of the debtor: none at all, or another person's; or one
    that never held it), or a moratorium recorded on the debts its notice lists only cannot
    be copied: one that says it was recorded so itself, or a copy of one recorded so on
    that case (placed there, or held from its opening).  Such a hold is on its own debt alone
    (SI 2020/1311 reg 6: a moratorium debt is one the notice lists); the engine refuses
    to open a case with either (`arrears.operations.holds.inherit_holds`)."""
    found: list[JournalProblem] = []
    for case_id, seq, hold_id, origin, narrowed in debtor.opening_copies:
        at = debtor.opened[case_id]
        if not _holds_by(debtor, origin, hold_id, at):
            found.append(
                _unmatched(
                    case_id,
                    seq,
                    f"a hold held from the opening names case {origin!r} as where it was "
                    f"placed, which does not hold it by {at.isoformat()}",
                )
            )
        elif narrowed:
            found.append(
                _unmatched(
                    case_id,
                    seq,
                    f"a hold recorded on the debts its notice lists only, held from the "
                    f"opening, names case {origin!r} as where it was placed",
                )
            )
        elif (origin, hold_id) in debtor.narrowed:
            found.append(
                _unmatched(
                    case_id,
                    seq,
                    f"a hold held from the opening is copied from case {origin!r}, where it "
                    "was recorded on the debts its notice lists only",
                )
            )
    return found


def _inherited_problems(debtor: _Debtor) -> list[JournalProblem]:
    """Cases of the debtor opened while a hold reaching the debtor stood on another of their
    cases that do not hold it from their opening.

    A hold placed on a case (``hold_added`` naming no origin, or held from the case's
    opening) that has not ended when another case of the debtor is opened later (not
    released on any case holding it, not past its ``ends_at``) is journaled on that
    case at its opening, naming the case it was placed on
    (`arrears.operations.holds.inherit_holds`): a case opened without it is collected
    on while the person is held on their other debts."""
    found: list[JournalProblem] = []
    if len(debtor.opened) < 2 or not debtor.ends:
        return found
    for (placed_on, hold_id), ends in sorted(debtor.ends.items(), key=_by_case_and_id):
        placed = debtor.holds.get(hold_id, [])
        starts = [at for case_id, _, at, origin, _ in placed if case_id == placed_on and not origin]
        since = min(starts) if starts else _opened_with(debtor, placed_on, hold_id)
        if since is None:
            continue  # not there where it says it was placed: `_hold_problems` names it
        holding = {placed_on} | {
            case_id for case_id, _, _, origin, _ in placed if origin == placed_on
        }
        over = [
            moment
            for case_id in holding
            if (released := debtor.releases.get((case_id, hold_id))) is not None
            and (moment := _moment(released[2])) is not None
        ]
        if ends is not None:
            over.append(ends)
        until = min(over) if over else None
        copies = {(case_id, at) for case_id, _, at, origin, _ in placed if origin == placed_on}
        for other, opened in sorted(debtor.opened.items()):
            if other == placed_on or opened <= since:
                continue  # open already: `_hold_problems`, `_opening_hold_problems`
            if until is not None and until <= opened:
                continue  # ended by then: not inherited
            if (other, opened) not in copies:
                found.append(
                    _unmatched(
                        other,
                        debtor.openings[other].seq if other in debtor.openings else 0,
                        f"a hold reaching the debtor placed on case {placed_on!r} stood when "
                        f"this case was opened, and is not on it from {opened.isoformat()}",
                    )
                )
    return found


def _by_case_and_id(item: tuple[tuple[str, str], Any]) -> tuple[str, str]:
    return item[0]


def _snapshot_holds(opening: JournalEntry) -> list[dict[str, Any]]:
    """The holds (as JSON objects) an ``opened`` entry's snapshot holds."""
    text = opening.data.get("case")
    if not isinstance(text, str) or '"holds":[]' in text:
        return []  # the usual opening: no hold at all (pydantic's JSON has no spaces)
    try:
        snapshot = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    holds = snapshot.get("holds") if isinstance(snapshot, dict) else None
    if not isinstance(holds, list):
        return []
    return [hold for hold in holds if isinstance(hold, dict)]


def _passed_at_opening(opening: JournalEntry, case_id: str) -> list[str]:
    """The ids of the holds a case's ``opened`` entry holds that reach the debtor, placed on
    it (no ``origin``, or itself), not ended at the opening: those its opening passes on."""
    at = opening.at
    passed: list[str] = []
    for hold in _snapshot_holds(opening):
        if hold.get("origin") not in (None, case_id):
            continue
        if not _reaches_debtor(hold):
            continue
        ended = [_moment(hold.get(name)) for name in ("released_at", "ends_at")]
        if any(moment is not None and moment <= at for moment in ended):
            continue
        passed.append(str(hold.get("id")))
    return passed


def _release_problems(debtor: _Debtor) -> list[JournalProblem]:
    """Holds on several cases of the debtor released on some of them and not on others,
    or at another moment.

    The cases holding one hold are those it was placed on and copied to (the
    ``hold_added`` entries of one id naming one case placed on, or none on that
    case itself) and the case it was placed on when that case was opened holding
    it.  Once any of them records its release, each records one, at the same
    moment and with the same time of release: a problem is named on the entry
    that placed the hold on a case that records no release (its ``hold_added``,
    or the opening), and on a release recorded at another moment.  A release
    after a case's first is its own chain's problem: the hold was no longer in
    force there (`arrears.refigure`, ``forbidden``), and a debtor with a chain
    that does not hold is not judged here.
    """
    found: list[JournalProblem] = []
    releases = debtor.releases
    if not releases:
        return found
    for hold_id, placed in debtor.holds.items():
        groups: dict[str, dict[str, int]] = {}
        for case_id, seq, _, origin, _ in placed:
            placed_on = origin if isinstance(origin, str) and origin else case_id
            groups.setdefault(placed_on, {}).setdefault(case_id, seq)
        for placed_on, holding in groups.items():
            if placed_on not in holding and _opened_with(debtor, placed_on, hold_id) is not None:
                holding[placed_on] = 0  # opened holding it: its opening placed it
            if len(holding) < 2:
                continue
            released = sorted(
                (case_id, releases[case_id, hold_id])
                for case_id in holding
                if (case_id, hold_id) in releases
            )
            if not released:
                continue
            first, (first_seq, first_at, first_when) = released[0]
            for case_id, seq in sorted(holding.items()):
                mine = releases.get((case_id, hold_id))
                if mine is None:
                    found.append(
                        _unmatched(
                            case_id,
                            seq,
                            f"a hold reaching the debtor stands, but it was released on case "
                            f"{first!r} at seq {first_seq}",
                        )
                    )
                    continue
                if (mine[1], _moment(mine[2])) != (first_at, _moment(first_when)):
                    found.append(
                        _unmatched(
                            case_id,
                            mine[0],
                            f"a hold reaching the debtor released at {mine[2]} (recorded at "
                            f"{mine[1].isoformat()}), on case {first!r} at {first_when} "
                            f"(recorded at {first_at.isoformat()})",
                        )
                    )
    return found


def _ended(hold: dict[str, Any]) -> datetime | None:
    """When the hold's JSON says it ends: released (a hold on file may have been) or past
    its ``ends_at``, the earlier; ``None`` when neither."""
    ends = [_moment(hold.get(name)) for name in ("released_at", "ends_at")]
    known = [moment for moment in ends if moment is not None]
    return min(known) if known else None


def _moment(value: object) -> datetime | None:
    """*value* (a recorded time of release) as a time; ``None`` when it is not one."""
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _opened_with(debtor: _Debtor, case_id: str, hold_id: str) -> datetime | None:
    """When *case_id* was opened, if it was opened holding the hold *hold_id* (a case
    opened with a bankruptcy on file passes it to the debtor's cases opened later)."""
    opening = debtor.openings.get(case_id)
    if opening is None:
        return None
    try:
        snapshot = orjson.loads(opening.data["case"])
    except (KeyError, TypeError, orjson.JSONDecodeError):
        return None
    holds = snapshot.get("holds") if isinstance(snapshot, dict) else None
    if isinstance(holds, list) and any(
        isinstance(hold, dict) and hold.get("id") == hold_id for hold in holds
    ):
        return opening.at
    return None


def _move_problems(debtor: _Debtor) -> list[JournalProblem]:
    """Changes of where the debtor is whose entries across cases do not agree.

    Each case records only the fields that changed on it, from what it held,
    so the entries agree on where each field changed *to*."""
    found: list[JournalProblem] = []
    for (at, listed), recorded in debtor.moved.items():
        to: dict[str, Any] = {}
        differ = False
        for _, change in recorded.values():
            for name, value in change.items():
                after = value.get("to") if isinstance(value, dict) else value
                differ = differ or to.setdefault(name, after) != after
        for case_id, (seq, _) in sorted(recorded.items()):
            if case_id not in listed:
                found.append(
                    _unmatched(case_id, seq, "a change of the debtor not listing its own case")
                )
            if differ:
                found.append(
                    _unmatched(
                        case_id,
                        seq,
                        "a change of the debtor moves them elsewhere on another case it lists",
                    )
                )
            for other in listed:
                if other not in recorded:
                    found.append(
                        _unmatched(
                            case_id,
                            seq,
                            f"a change of the debtor lists case {other!r}, which records no "
                            f"such change at {at.isoformat()}",
                        )
                    )
    return found
