"""Import a portfolio: open a case for every row of a CSV or JSON Lines file.

An import reads the file twice.  The first reading checks every row and
writes nothing: each bad row is reported with its line number and the field
at fault.  Unless every row is good, nothing is imported (``skip_bad=True``
imports the good rows and reports the bad).  The second reading opens the
good rows' cases, all of them in one store transaction: an import that is
killed or fails half-way leaves nothing of itself behind.

A row whose case is already in the store is not opened again: when its data
is the data the case was opened with, it counts as *already imported*; when
it differs, the row is reported with the names of the fields that differ.
Either way the other rows are imported, so running an import again is safe.

Reports never carry personal data: names, phone numbers, e-mail and postal
addresses and ids are never repeated, only what is wrong with them; a short
amount, currency, date, time zone or stage is quoted.

CSV (a header row, then one case a row; UTF-8, a byte-order mark allowed):

========================  ========  ==============================================
column                    required  meaning
========================  ========  ==============================================
``id``                    yes       the case id (the loan or account id)
``debtor_id``             yes       the debtor's id in the host system
``currency``              yes       ISO 4217 code, e.g. ``CNY``
``due_date``              yes       the first missed due date, ``YYYY-MM-DD``
``principal``                       overdue principal (``0`` when empty)
``interest``                        overdue interest
``fees``                            overdue fees
``penalty``                         penalty interest and late charges
``not_due``                         principal not yet due
``credit``                          an overpayment held for the debtor
``name``                            the debtor's name
``timezone``                        IANA time zone of a place, e.g. ``Asia/Shanghai``
``locale``                          BCP 47 tag, e.g. ``zh-CN`` (``en`` when empty)
``payday``                          an RFC 5545 rule, e.g. ``FREQ=MONTHLY;BYMONTHDAY=15``
``jurisdiction``                    where the debtor is for the law, an ISO 3166 code
                                    (``US-MA``, ``CN``); it picks the rules that judge
                                    contacts with them
``residence``                       the ISO 3166 code of the debtor's address of
                                    record (``US-MA``): the jurisdiction when
                                    ``jurisdiction`` is empty
``address``                         the debtor's home address, read for ``residence``
                                    when that is empty (`arrears.residence.residence_of`)
                                    and not kept: only the code is
``phone``                           the debtor's phone, E.164 (``+8613812345678``)
                                    or national in the debtor's country
                                    (``138 1234 5678`` in Shanghai), kept in E.164:
                                    contact point ``phone`` for calls
``sms``                             a number for text messages (contact point ``sms``);
                                    without it, SMS go to ``phone``
``email``                           the debtor's e-mail (contact point ``email``)
``postal_address``                  the debtor's postal address, for letters
``stage``                           the stage the case starts in (``pre_due``); one
                                    the workflow lets a case be opened in
``person_id``                       a person other than the debtor the case may
                                    contact (`arrears.case.Person`): their id
``relationship``                    required with ``person_id``: how they stand to the
                                    debtor (``spouse``, ``contact_person``…,
                                    `arrears.case.Relationship`)
``person_phone``                    the person's phone, as ``phone``: contact point
                                    ``person-phone`` for calls, theirs
``person_email``                    the person's e-mail: contact point ``person-email``
``student_loan_account``            the case is a student loan serviced under this
                                    account number when obtained (`arrears.case.StudentLoan`)
``aging``                           what is overdue by the date it fell due, oldest
                                    first (`arrears.Case.aging`): ``date:amount``
                                    items separated by ``;``, e.g.
                                    ``2027-01-01:1000.00;2027-02-01:1000.00``; the
                                    oldest date is ``due_date``, the amounts sum to
                                    the arrears (all under ``due_date`` when empty)
========================  ========  ==============================================

Amounts are plain decimals (``1000.00``): no exponent, no thousands
separator.  Any other column is refused (the whole file, before anything is
opened), so a misspelt column never silently drops data.

JSON Lines: one JSON object a line, either with the same flat fields as the
CSV columns (amounts as strings or integers, never floats), or a whole case
as `arrears.Case` takes it (an object with a ``debtor`` field).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from ._portfolio import (
    AMOUNTS,
    COLUMNS,
    CONTACTS,
    LINE_LIMIT,
    PERSON_CONTACTS,
    REQUIRED,
    SHOWN,
    Format,
    Lines,
    RowError,
    quoted,
    rows,
)
from .addresses import PHONE_CHANNELS, UNKNOWN, is_e164
from .case import (
    Case,
    check_debtor_zone,
    check_opening_sizes,
    checked_aging,
    debtor_region,
    opening_aging,
)
from .errors import (
    ArrearsError,
    ConcurrencyConflict,
    DuplicateCase,
    InvalidInput,
    PortfolioInvalid,
    expected_of,
)

if TYPE_CHECKING:
    from .engine import Engine

__all__ = [
    "COLUMNS",
    "LINE_LIMIT",
    "REQUIRED",
    "ImportReport",
    "PortfolioInvalid",
    "RowError",
    "import_portfolio",
]

#: Where a flat row's fields sit in a case, to name the column a problem is in.
_PATHS: Final = {
    ("debtor", "id"): "debtor_id",
    ("debtor", "name"): "name",
    ("debtor", "timezone"): "timezone",
    ("debtor", "locale"): "locale",
    ("debtor", "payday"): "payday",
    ("debtor", "jurisdiction"): "jurisdiction",
    ("debtor", "residence"): "residence",
    ("debtor", "address"): "address",
    **{("balance", name): name for name in (*AMOUNTS, "currency")},
    ("student_loan", "account"): "student_loan_account",
}
#: The most cases a store may hold for an import to read their ids at once (else one a row).
_KNOWN_IDS: Final = 200_000
#: What a refusal while a case is opened may be, besides `ArrearsError`: bad data, not a
#: failing store (whose errors end the import).
_ROW_FAULTS: Final = (ArrearsError, ValidationError, ValueError, ArithmeticError, LookupError)

_SUFFIXES: Final[dict[str, Format]] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        rows: Rows read (blank lines not counted).
        imported: Cases opened (and committed).
        already_imported: Rows whose case was already in the store with the same data.
        errors: Each problem of each bad row, in file order.
        conflicts: For each row whose case was already in the store with other
            data, each field that differs (nothing of such a row is imported).
        valid: Rows found good that were not in the store yet: what an import
            with no bad rows opens.
    """

    rows: int = 0
    imported: int = 0
    already_imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    conflicts: list[RowError] = field(default_factory=list)
    valid: int = 0

    @property
    def failed(self) -> int:
        """How many rows are bad."""
        return len({error.line for error in self.errors})

    @property
    def differing(self) -> int:
        """How many rows differ from the case already imported with their id."""
        return len({conflict.line for conflict in self.conflicts})

    @property
    def ok(self) -> bool:
        """True when every row was imported now or before, with the same data."""
        return not self.errors and not self.conflicts


class _Undo(Exception):
    """Raised inside the import's transaction to take back all of it."""


def import_portfolio(
    engine: Engine,
    path: str | Path,
    *,
    format: Format | None = None,
    at: datetime | None = None,
    skip_bad: bool = False,
    commit_every: int | None = None,
) -> ImportReport:
    """Open a case for every row of a CSV or JSON Lines portfolio, or for none.

    Every row is checked first.  Unless every row is good (or *skip_bad*),
    nothing is imported and the report names each bad row's problems.  Then
    the cases are opened in one store transaction: an import that is killed
    or fails part-way stores nothing.  A row refused while its case is opened
    (what the first reading could not see) is a bad row as well: nothing is
    imported (or, with *skip_bad*, that row is not).

    Args:
        engine: The engine whose store the cases go to.
        path: The file.
        format: ``"csv"`` or ``"jsonl"``; from the file's suffix when omitted
            (``.csv``, ``.jsonl``, ``.ndjson``).
        at: When the cases are opened (the engine's clock when omitted).
        skip_bad: Import the good rows even when some are bad.
        commit_every: Commit after this many cases instead of once at the
            end, for a portfolio too large to hold in one transaction (the
            store keeps every case of an open transaction in memory).  The
            rows are still all checked first, but an import killed part-way
            keeps the batches committed before; importing the file again
            skips them as already imported.

    Returns:
        How many rows were read, imported and already there, and each bad or
        differing row's problems.

    Raises:
        PortfolioInvalid: the format is unknown, the CSV header is not usable,
            or the file changed while it was imported; nothing was imported.
        InvalidInput: *commit_every* is not a positive number.
        OSError: the file cannot be read.
    """
    source = Path(path)
    chosen = format or _SUFFIXES.get(source.suffix.lower())
    if chosen not in ("csv", "jsonl"):
        raise PortfolioInvalid(
            str(source), "unknown format: name it with --format csv or --format jsonl"
        )
    if commit_every is not None and (
        not isinstance(commit_every, int) or isinstance(commit_every, bool) or commit_every < 1
    ):
        raise InvalidInput("commit_every", commit_every, "a positive number of cases")
    moment = engine.clock.now() if at is None else at
    report = ImportReport()
    skip: set[int] = set()
    debtors: set[str] = set()
    digest = _check(engine, source, chosen, report, skip, debtors)
    if (report.errors and not skip_bad) or not report.valid:
        return report
    plan = (skip, digest, debtors)
    _write(engine, source, chosen, moment, report, plan, skip_bad, commit_every)
    return report


def _check(
    engine: Engine,
    source: Path,
    chosen: Format,
    report: ImportReport,
    skip: set[int],
    debtors: set[str],
) -> bytes:
    """The first reading: every row checked, nothing written; the file's digest.

    The lines of the rows not to open go to *skip*, the debtors of the others to *debtors*.
    """
    seen: dict[str, int] = {}
    workflow = engine.workflow
    # The stages a case may be opened in (every live one, where the workflow names none).
    opening: frozenset[str] = frozenset(getattr(workflow, "opening", None) or workflow.live)
    store = engine.store
    # The ids in a store of moderate size are read at once (one query, not one a row).
    known = set(store.case_ids()) if len(store) <= _KNOWN_IDS else None
    with source.open("rb") as stream:
        lines = Lines(stream)
        for number, record, problems, flat in rows(lines, chosen, str(source)):
            report.rows += 1
            found = _validate(record, number, flat, problems)
            if isinstance(found, list):
                report.errors.extend(found)
                skip.add(number)
                continue
            case_id = found.id
            first = seen.setdefault(case_id, number)
            if first != number:
                report.errors.append(RowError(number, "id", f"the same id as line {first}"))
                skip.add(number)
                continue
            if found.stage not in opening:
                report.errors.append(
                    RowError(
                        number,
                        "stage",
                        f"{quoted(found.stage)} is not a stage a case may be opened in "
                        f"(one of {', '.join(sorted(opening))})",
                    )
                )
                skip.add(number)
                continue
            if found.version:
                report.errors.append(RowError(number, "version", "0 for a case not yet opened"))
                skip.add(number)
                continue
            if case_id in known if known is not None else case_id in store:
                skip.add(number)
                differ = _differences(engine, found, number, flat)
                if differ:
                    report.conflicts.extend(differ)
                else:
                    report.already_imported += 1
                continue
            report.valid += 1
            debtors.add(found.debtor.id)
        return lines.digest.digest()


def _write(
    engine: Engine,
    source: Path,
    chosen: Format,
    moment: datetime,
    report: ImportReport,
    plan: tuple[set[int], bytes, set[str]],
    skip_bad: bool,
    commit_every: int | None,
) -> None:
    """The second reading: the good rows' cases opened, in one transaction (or in batches).

    *plan* is what the first reading found: the lines of the rows not to open, the
    file's digest, and the debtors of the rows to open (a store that can read their
    other cases at once is asked once, when the import is one transaction).
    """
    skip, digest, debtors = plan
    read_debtors = getattr(engine.store, "read_debtors", None) if commit_every is None else None
    lock_every_debtor = getattr(engine.store, "lock_every_debtor", None)
    with source.open("rb") as stream:
        lines = Lines(stream)
        pending = (
            (number, record, problems)
            for number, record, problems, _ in rows(lines, chosen, str(source))
            if number not in skip
        )
        limit = commit_every or -1
        done = False
        while not done:
            opened = 0
            try:
                with engine.atomic():
                    if read_debtors is not None:
                        # Until the commit: one lock (each debtor's, in order, in a unit of
                        # work that holds a debtor already).
                        if lock_every_debtor is not None and not lock_every_debtor():
                            engine.store.lock_debtors(debtors)  # type: ignore[attr-defined]
                        read_debtors(debtors)
                    done, opened, refused = _open_some(engine, pending, moment, limit, skip_bad)
                    report.errors.extend(refused)
                    if done and lines.digest.digest() != digest:
                        raise PortfolioInvalid(
                            str(source), "the file changed while it was imported"
                        )
                    if refused and not skip_bad:
                        raise _Undo
            except _Undo:
                return
            report.imported += opened


def _open_some(
    engine: Engine,
    rows: Iterator[tuple[int, dict[str, Any], list[RowError]]],
    moment: datetime,
    limit: int,
    skip_bad: bool,
) -> tuple[bool, int, list[RowError]]:
    """Open up to *limit* cases (all, when negative): whether the rows ran out, how many, refusals.

    Without *skip_bad*, a refusal means the batch will be undone: the rows after it are
    still opened (and undone with it), so that every refusal is reported, and no
    batch ends there.
    """
    opened = 0
    refused: list[RowError] = []
    for number, record, problems in rows:
        if problems:  # the file changed since it was checked: the digest tells
            refused.extend(problems)
        else:
            try:
                with engine.atomic():  # a savepoint: a refused row leaves nothing behind
                    engine.open_case(record, at=moment)
            except ConcurrencyConflict:
                raise
            except _ROW_FAULTS as err:
                refused.extend(_refusal(err, record, number, True))
            else:
                opened += 1
        if opened == limit and (skip_bad or not refused):
            return False, opened, refused
    return True, opened, refused


def _validate(
    record: dict[str, Any], number: int, flat: bool, problems: list[RowError]
) -> Case | list[RowError]:
    """The row's case as `open_case` would validate it, or every problem of the row."""
    if problems and not record:
        return problems
    try:
        check_opening_sizes(record)
        case = Case.model_validate(record)
        check_debtor_zone(case.debtor)  # as opening it checks it
        if (
            case.aging is not None
        ):  # as opening it checks it: dates in order, summing to the arrears
            case.aging = checked_aging(case)
    except _ROW_FAULTS as err:
        named = {problem.field for problem in problems}
        more = [p for p in _refusal(err, record, number, flat) if p.field not in named]
        return [*problems, *more]
    return [*problems, *_unread_numbers(case, number, flat)] or case


def _unread_numbers(case: Case, number: int, flat: bool) -> list[RowError]:
    """The row's phone numbers the case could not put in E.164, as `Engine.open_case`
    refuses them (`arrears.case.check_numbers`): each named by its column, with how many
    digits it has and the country it was read in, never the number."""
    found: list[RowError] = []
    region: str | None = None
    for index, point in enumerate(case.contacts):
        address = point.address
        if point.channel not in PHONE_CHANNELS or address == UNKNOWN or is_e164(address):
            continue
        region = region or debtor_region(case.debtor)
        column = _column(("contacts", point.id if flat else index, "address"), flat)
        digits = sum(char.isdigit() for char in address)
        if region is None:
            why = (
                f"got {digits} digits without '+', and no country to read them in: expected "
                "E.164 (+, country code, number), or the debtor's jurisdiction, residence, "
                "timezone or a locale with a region (en-US) for a national number"
            )
        else:
            why = (
                f"got {digits} digits, not a phone number of {region} (the debtor's country) "
                "nor one in E.164 (+, country code, number)"
            )
        found.append(RowError(number, column, why))
    return found


def _refusal(
    err: BaseException, record: Mapping[str, Any], number: int, flat: bool
) -> list[RowError]:
    """A row's refusal (a validation error, or whatever opening its case raised) as row errors."""
    if isinstance(err, ValidationError):
        return _problems(err, record, number, flat)
    if isinstance(err.__cause__, ValidationError):  # every problem of the row, each named
        return _problems(err.__cause__, record, number, flat)
    if isinstance(err, DuplicateCase):
        return [RowError(number, "id", "a case with this id was opened meanwhile")]
    if isinstance(err, InvalidInput):
        name = _column(tuple(err.field.replace("[", ".").replace("]", "").split(".")), flat)
        got = f"got {quoted(err.value)}, " if name in SHOWN else ""
        return [RowError(number, name, f"{got}expected {_one_line(err.expected)}")]
    if isinstance(err, ArithmeticError):
        return [RowError(number, "row", "a number is out of range")]
    # No message: it may quote the row.
    return [RowError(number, getattr(err, "field", "row"), f"refused ({type(err).__name__})")]


_NAMED: Final = re.compile(r"^(?:Value error, )?([\w.]+): (?:got .*?, )?(.*)$", re.DOTALL)


def _problems(
    err: ValidationError, record: Mapping[str, Any], number: int, flat: bool
) -> list[RowError]:
    """Pydantic's errors as row errors: the column named, the message without values."""
    found: list[RowError] = []
    for error in err.errors():
        location = tuple(error["loc"])
        message = _one_line(expected_of(error))
        named = _NAMED.match(message)
        if named is not None and named.group(1).startswith(("persons.", "contacts.")):
            # The case's check of its persons names the path: persons.0.id, contacts.1.person.
            location = tuple(
                int(part) if part.isdigit() else part for part in named.group(1).split(".")
            )
            message = named.group(2)
        elif named is not None and (named.group(1) in COLUMNS or named.group(1) == "contacts"):
            # A model's own check names the field in its message (Balance: "principal: ...").
            if location[-1:] != (named.group(1),):
                location = (*location, named.group(1))
            message = named.group(2)
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        name = _field(location, record, flat)
        given = _given(record, location)
        if name in SHOWN and given is not None and not message.startswith("got "):
            message = f"got {quoted(given)}: {message}"
        found.append(RowError(number, name, message))
    return found


def _given(record: Any, location: tuple[Any, ...]) -> str | int | None:
    """The plain value the row gave at *location*, if any."""
    for part in location:
        if isinstance(record, Mapping):
            record = record.get(part)
        elif isinstance(record, list | tuple) and isinstance(part, int) and part < len(record):
            record = record[part]
        else:
            return None
    return record if isinstance(record, str | int) and not isinstance(record, bool) else None


def _field(location: tuple[Any, ...], record: Mapping[str, Any], flat: bool) -> str:
    """The column (flat rows) or dotted path (whole cases) a pydantic error points at."""
    if flat and location[:1] == ("contacts",) and len(location) > 1:
        contacts = record.get("contacts", ())
        if isinstance(location[1], int) and location[1] < len(contacts):
            location = ("contacts", contacts[location[1]].get("id"), *location[2:])
    return _column(location, flat)


def _column(location: tuple[Any, ...], flat: bool) -> str:
    """The column of a flat row a case's field comes from, or the field's dotted path."""
    if flat:
        if location[:2] in _PATHS:
            return _PATHS[location[:2]]
        if location[:1] == ("contacts",) and len(location) > 1:
            for column, point_id, _ in (*CONTACTS, *PERSON_CONTACTS):
                if location[1] == point_id:
                    return "person_id" if location[2:] == ("person",) else column
        if location[:1] == ("persons",):
            return "relationship" if location[-1:] == ("relationship",) else "person_id"
        if location[:1] == ("student_loan",):
            return "student_loan_account"
        if location[:1] in (("balance",), ("debtor",)) and len(location) > 1:
            return str(location[1])
    return ".".join(str(part) for part in location) or "row"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# -- re-runs: the case already in the store ----------------------------------------------------
def _differences(engine: Engine, case: Case, number: int, flat: bool) -> list[RowError]:
    """How *case* differs from the case opened with its id before (nothing: the same)."""
    try:
        opened = engine.history(case.id)[0]
        data = opened.data.get("case")
        before = (
            Case.model_validate_json(data) if isinstance(data, str) else Case.model_validate(data)
        )
    except _ROW_FAULTS:
        return [RowError(number, "id", "a case with this id is open, and cannot be compared")]
    if case.opened_at != before.opened_at:
        case = case.model_copy(update={"opened_at": before.opened_at})
    if case.aging is None and before.aging == opening_aging(before.balance, before.due_date):
        # a row with no aging is opened with its arrears under its due date, compared already
        case = case.model_copy(update={"aging": before.aging})
    mine, theirs = case.model_dump(mode="json"), before.model_dump(mode="json")
    if mine == theirs:
        return []
    columns = dict.fromkeys(_column(path, flat) for path in _diff(mine, theirs, ()))
    return [
        RowError(number, column, "differs from the case already imported with this id")
        for column in columns
    ]


def _diff(mine: Any, theirs: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """The paths at which two dumped cases differ (contact points matched by their id)."""
    if mine == theirs:
        return
    if path == ("contacts",) and isinstance(mine, list) and isinstance(theirs, list):
        mine = {point.get("id"): point for point in mine}
        theirs = {point.get("id"): point for point in theirs}
        for point in dict.fromkeys([*mine, *theirs]):
            if mine.get(point) != theirs.get(point):
                yield (*path, point)
        return
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in dict.fromkeys([*mine, *theirs]):
            yield from _diff(mine.get(key), theirs.get(key), (*path, key))
        return
    yield path
