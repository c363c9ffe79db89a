"""Import a portfolio: open a case for every row of a CSV or JSON Lines file.

Each row is checked and opened on its own: a bad row is reported with its row
number and the field at fault, and every good row is kept.  Reports never
carry personal data: names are never shown, phone numbers and e-mail
addresses only masked (``**********5678``).

CSV (a header row, then one case a row; UTF-8, a byte-order mark allowed):

=================  ========  ==============================================
column             required  meaning
=================  ========  ==============================================
``id``             yes       the case id (the loan or account id)
``debtor_id``      yes       the debtor's id in the host system
``currency``       yes       ISO 4217 code, e.g. ``CNY``
``due_date``       yes       the first missed due date, ``YYYY-MM-DD``
``principal``                overdue principal (``0`` when empty)
``interest``                 overdue interest
``fees``                     overdue fees
``penalty``                  penalty interest and late charges
``not_due``                  principal not yet due
``credit``                   an overpayment held for the debtor
``name``                     the debtor's name
``timezone``                 IANA time zone, e.g. ``Asia/Shanghai``
``locale``                   BCP 47 tag, e.g. ``zh-CN`` (``en`` when empty)
``payday``                   an RFC 5545 rule, e.g. ``FREQ=MONTHLY;BYMONTHDAY=15``
``phone``                    the debtor's phone, E.164 (``+8613812345678``):
                             contact point ``phone`` for calls
``sms``                      a number for text messages (contact point ``sms``);
                             without it, SMS go to ``phone``
``email``                    the debtor's e-mail (contact point ``email``)
``postal_address``           the debtor's postal address, for letters
``stage``                    the stage the case starts in (``pre_due``)
=================  ========  ==============================================

Any other column is refused (the whole file, before anything is opened), so
a misspelt column never silently drops data.

JSON Lines: one JSON object a line, either with the same flat fields as the
CSV columns (amounts as strings or integers, never floats), or a whole case
as `arrears.Case` takes it (an object with a ``debtor`` field).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import orjson
from pydantic import ValidationError

from .case import mask
from .errors import DuplicateCase, InvalidInput, PortfolioInvalid

if TYPE_CHECKING:
    from .engine import Engine

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "ImportReport",
    "PortfolioInvalid",
    "RowError",
    "import_portfolio",
]

#: The required CSV columns, and every column known.
REQUIRED: Final = ("id", "debtor_id", "currency", "due_date")
COLUMNS: Final = (
    *REQUIRED,
    "principal",
    "interest",
    "fees",
    "penalty",
    "not_due",
    "credit",
    "name",
    "timezone",
    "locale",
    "payday",
    "phone",
    "sms",
    "email",
    "postal_address",
    "stage",
)
_AMOUNTS: Final = ("principal", "interest", "fees", "penalty", "not_due", "credit")
#: Contact columns: (column, contact point id, channel); their values are personal data.
_CONTACTS: Final = (
    ("phone", "phone", "call"),
    ("sms", "sms", "sms"),
    ("email", "email", "email"),
    ("postal_address", "post", "letter"),
)
_PHONE: Final = re.compile(r"^\+[1-9][0-9]{6,14}$")
_PHONE_SEPARATORS: Final = re.compile(r"[\s().-]")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Where a flat row's fields sit in a case, to name the column a problem is in.
_PATHS: Final = {
    ("debtor", "id"): "debtor_id",
    ("debtor", "name"): "name",
    ("debtor", "timezone"): "timezone",
    ("debtor", "locale"): "locale",
    ("debtor", "payday"): "payday",
    **{("balance", name): name for name in (*_AMOUNTS, "currency")},
}

Format = Literal["csv", "jsonl"]
_SUFFIXES: Final[dict[str, Format]] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row was not imported.

    Attributes:
        row: The row's number in the file, from 1 (a CSV's header is row 1, as
            a spreadsheet numbers it; a JSON Lines file's first line is row 1).
        field: The column (or, for a whole case in JSON Lines, the dotted path).
        message: What is wrong, without personal data.
    """

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.message}"


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        rows: Rows read (blank lines not counted).
        imported: Cases opened.
        errors: One or more problems for each row not imported, in file order.
    """

    rows: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """How many rows were not imported."""
        return len({error.row for error in self.errors})

    @property
    def ok(self) -> bool:
        """True when every row was imported."""
        return not self.errors


def import_portfolio(
    engine: Engine,
    path: str | Path,
    *,
    format: Format | None = None,
    at: datetime | None = None,
    batch: int = 1000,
) -> ImportReport:
    """Open a case for every valid row of a CSV or JSON Lines portfolio.

    Args:
        engine: The engine whose store the cases go to.
        path: The file.
        format: ``"csv"`` or ``"jsonl"``; from the file's suffix when omitted
            (``.csv``, ``.jsonl``, ``.ndjson``).
        at: When the cases are opened (the engine's clock when omitted).
        batch: Rows opened per store transaction.

    Returns:
        How many rows were read and imported, and each bad row's problems.

    Raises:
        PortfolioInvalid: the format is unknown or the CSV header is not
            usable; nothing was imported.
        OSError: the file cannot be read.
    """
    source = Path(path)
    chosen = format or _SUFFIXES.get(source.suffix.lower())
    if chosen not in ("csv", "jsonl"):
        raise PortfolioInvalid(
            str(source), "unknown format: name it with --format csv or --format jsonl"
        )
    if not isinstance(batch, int) or batch < 1:
        raise InvalidInput("batch", batch, "a positive number of rows")
    moment = engine.clock.now() if at is None else at
    report = ImportReport()
    with source.open(encoding="utf-8-sig", newline="") as stream:
        rows = _csv_rows(stream, str(source)) if chosen == "csv" else _jsonl_rows(stream)
        pending = True
        while pending:
            pending = False
            with engine.atomic():
                for count, (number, record, problems, flat) in enumerate(rows, start=1):
                    report.rows += 1
                    if problems and record:
                        problems += _more_problems(record, moment, number, problems)
                    elif not problems:
                        problems = _open(engine, record, moment, number, flat)
                    if problems:
                        report.errors.extend(problems)
                    else:
                        report.imported += 1
                    if count >= batch:
                        pending = True
                        break
    return report


def _open(
    engine: Engine, record: Mapping[str, Any], moment: datetime, number: int, flat: bool
) -> list[RowError]:
    """Open one case; the problems if it could not be (nothing of it is kept then)."""
    try:
        with engine.atomic():  # a savepoint: a refused row leaves nothing behind
            engine.open_case(record, at=moment)
    except ValidationError as err:
        return _problems(err, record, number, flat)
    except InvalidInput as err:
        if isinstance(err.__cause__, ValidationError):  # every problem of the row, each named
            return _problems(err.__cause__, record, number, flat)
        return [RowError(number, err.field, f"expected {err.expected}")]
    except DuplicateCase:
        return [RowError(number, "id", "a case with this id is already open")]
    return []


def _more_problems(
    record: Mapping[str, Any], moment: datetime, number: int, known: list[RowError]
) -> list[RowError]:
    """The rest of a bad row's problems, so one report names them all."""
    from .case import Case

    try:
        Case.model_validate({**record, "opened_at": moment})
    except ValidationError as err:
        named = {problem.field for problem in known}
        return [p for p in _problems(err, record, number, True) if p.field not in named]
    return []


_NAMED: Final = re.compile(r"^(?:Value error, )?(\w+): (?:got .*?, )?(.*)$", re.DOTALL)


def _problems(
    err: ValidationError, record: Mapping[str, Any], number: int, flat: bool
) -> list[RowError]:
    """Pydantic's errors as row errors: the column named, the message without values."""
    found: list[RowError] = []
    for error in err.errors():
        location = tuple(error["loc"])
        message = " ".join(str(error["msg"]).split())
        named = _NAMED.match(message)
        if named is not None and (named.group(1) in COLUMNS or named.group(1) == "contacts"):
            # A model's own check names the field in its message (Balance: "principal: ...").
            location = (*location, named.group(1))
            message = named.group(2)
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        field_name = _field(location, record, flat)
        found.append(RowError(number, field_name, message))
    return found


def _field(location: tuple[Any, ...], record: Mapping[str, Any], flat: bool) -> str:
    """The column (flat rows) or dotted path (whole cases) a pydantic error points at."""
    if flat:
        if location[:2] in _PATHS:
            return _PATHS[location[:2]]
        if location[:1] == ("contacts",) and len(location) > 1 and isinstance(location[1], int):
            contacts = record.get("contacts", ())
            if location[1] < len(contacts):
                point = contacts[location[1]].get("id")
                for column, point_id, _ in _CONTACTS:
                    if point == point_id:
                        return column
        if location[:1] == ("balance",) or location[:1] == ("debtor",):
            return location[0] if len(location) == 1 else str(location[1])
    return ".".join(str(part) for part in location) or "row"


# -- reading rows ----------------------------------------------------------------------------
#: A row read: its number, the case mapping, problems found reading it, whether it was flat.
Row = tuple[int, dict[str, Any], list[RowError], bool]


def _csv_rows(stream: io.TextIOBase | Any, name: str) -> Iterator[Row]:
    reader = csv.DictReader(stream, strict=True)
    header = reader.fieldnames
    if header is None:
        raise PortfolioInvalid(name, "the file is empty: a header row is needed")
    columns = [column.strip() for column in header]
    unknown = [column for column in columns if column not in COLUMNS]
    missing = [column for column in REQUIRED if column not in columns]
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"unknown columns {unknown}")
        if missing:
            parts.append(f"missing columns {missing}")
        raise PortfolioInvalid(name, "; ".join(parts) + f" (the columns are {', '.join(COLUMNS)})")
    if len(set(columns)) != len(columns):
        raise PortfolioInvalid(name, "a column appears twice in the header")
    reader.fieldnames = columns
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            yield (
                reader.line_num,
                {},
                [RowError(reader.line_num, "row", f"not valid CSV ({err})")],
                True,
            )
            continue
        number = reader.line_num
        if None in values:
            yield number, {}, [RowError(number, "row", "more values than columns")], True
            continue
        cleaned = {key: (value or "").strip() for key, value in values.items()}
        if not any(cleaned.values()):
            continue  # a blank line
        yield number, *_from_flat(cleaned, number), True


def _jsonl_rows(stream: io.TextIOBase | Any) -> Iterator[Row]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            yield number, {}, [RowError(number, "row", "not a JSON object")], False
            continue
        if not isinstance(value, dict):
            yield number, {}, [RowError(number, "row", "not a JSON object")], False
            continue
        if "debtor" in value:
            yield number, value, [], False
            continue
        unknown = sorted(key for key in value if key not in COLUMNS)
        if unknown:
            yield number, {}, [RowError(number, key, "unknown field") for key in unknown], True
            continue
        yield number, *_from_flat(value, number), True


def _from_flat(values: Mapping[str, Any], number: int) -> tuple[dict[str, Any], list[RowError]]:
    """A case mapping from one flat row; the row's problems that pydantic would not name."""
    problems: list[RowError] = []

    def text(column: str) -> str | None:
        value = values.get(column)
        if value is None or value == "":
            return None
        if isinstance(value, float):
            problems.append(RowError(number, column, "a decimal string, never a float"))
            return None
        if column in _AMOUNTS and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            problems.append(RowError(number, column, f"expected text, got {type(value).__name__}"))
            return None
        return value.strip()

    for column in REQUIRED:
        if text(column) is None and not any(p.field == column for p in problems):
            problems.append(RowError(number, column, "required"))
    debtor: dict[str, Any] = {"id": text("debtor_id")}
    for column in ("name", "timezone", "locale", "payday"):
        value = text(column)
        if value is not None:
            debtor[column] = value
    balance: dict[str, Any] = {"currency": text("currency")}
    for column in _AMOUNTS:
        value = text(column)
        if value is not None:
            balance[column] = value
    contacts: list[dict[str, Any]] = []
    for column, point_id, channel in _CONTACTS:
        address = text(column)
        if address is None:
            continue
        if channel in ("call", "sms"):
            number_only = _PHONE_SEPARATORS.sub("", address)
            if not _PHONE.match(number_only):
                problems.append(
                    RowError(
                        number,
                        column,
                        f"got {mask(address)!r}, expected a phone number in E.164 form "
                        "(+, country code, number)",
                    )
                )
                continue
            address = number_only
        elif channel == "email" and not _EMAIL.match(address):
            problems.append(
                RowError(number, column, f"got {mask(address)!r}, expected an e-mail address")
            )
            continue
        contacts.append({"id": point_id, "channel": channel, "address": address})
    record: dict[str, Any] = {
        "id": text("id"),
        "debtor": debtor,
        "contacts": contacts,
        "balance": balance,
        "due_date": text("due_date"),
    }
    stage = text("stage")
    if stage is not None:
        record["stage"] = stage
    return record, problems
