"""Reading a portfolio file for `arrears.importer`: its lines, its rows, and their faults.

Each line is decoded on its own, so a byte that is not UTF-8 is named by its
line and offset; each CSV row or JSON line becomes the mapping of a case (a
flat row's columns put where a `Case` has them) with the problems found on
the way, each a `RowError` naming the line and the column.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, BinaryIO, Final, Literal

import orjson

from .errors import PortfolioInvalid

__all__ = [
    "AMOUNTS",
    "COLUMNS",
    "CONTACTS",
    "LINE_LIMIT",
    "PERSON_CONTACTS",
    "REPEATED",
    "REQUIRED",
    "SHOWN",
    "Format",
    "Lines",
    "Row",
    "RowError",
    "quoted",
    "repeated_key",
    "rows",
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
    "jurisdiction",
    "residence",
    "address",
    "phone",
    "sms",
    "email",
    "postal_address",
    "stage",
    "person_id",
    "relationship",
    "person_phone",
    "person_email",
    "student_loan_account",
    "aging",
)
#: The longest line read, in bytes; a longer one is reported, not read.
LINE_LIMIT: Final = 1 << 20
AMOUNTS: Final = ("principal", "interest", "fees", "penalty", "not_due", "credit")
#: Columns whose values are not personal: a short one is quoted in a report.
SHOWN: Final = frozenset(
    {*AMOUNTS, "currency", "due_date", "timezone", "locale", "stage", "relationship", "aging"}
)
SHOWN_LENGTH: Final = 24
#: Contact columns: (column, contact point id, channel); their values are personal data.
CONTACTS: Final = (
    ("phone", "phone", "call"),
    ("sms", "sms", "sms"),
    ("email", "email", "email"),
    ("postal_address", "post", "letter"),
)
#: The contact columns of the row's person (``person_id``): whose they are is theirs.
PERSON_CONTACTS: Final = (
    ("person_phone", "person-phone", "call"),
    ("person_email", "person-email", "email"),
)
_DECIMAL: Final = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
#: One date and amount of an ``aging`` column: ``2027-01-01:1000.00``.
_AGED: Final = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})\s*:(.*)\Z")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
Format = Literal["csv", "jsonl"]


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row was not imported, or how it differs from the case already imported.

    Attributes:
        line: The row's line in the file, from 1 (a CSV's header is line 1; a
            row spread over several lines by a quoted value is named by its
            first, except a line that is not UTF-8, which is named itself).
        field: The column (or, for a whole case in JSON Lines, the dotted
            path); ``row`` for the row as a whole.
        message: What is wrong, without personal data.
    """

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def quoted(value: Any) -> str:
    """A short non-personal value as a report quotes it."""
    text = str(value)
    if len(text) > SHOWN_LENGTH:
        return f"a value of {len(text)} characters"
    return repr(text)


# -- reading rows ----------------------------------------------------------------------------
#: A row read: its line, the case mapping, problems found reading it, whether it was flat.
Row = tuple[int, dict[str, Any], list[RowError], bool]


class Lines:
    """The file's lines, each decoded on its own, so a bad byte is named by line and offset.

    A line that is not UTF-8, or longer than `LINE_LIMIT`, is read as text all
    the same (undecodable bytes replaced) and its problem kept in `bad` until
    the row it belongs to takes it.  `digest` is over every byte read.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.number = 0
        self.offset = 0
        self.bad: dict[int, str] = {}
        self.digest = hashlib.blake2b(digest_size=32)

    def __iter__(self) -> Iterator[str]:
        stream, digest = self.stream, self.digest
        while raw := stream.readline(LINE_LIMIT + 1):
            self.number += 1
            start, size = self.offset, len(raw)
            digest.update(raw)
            if size > LINE_LIMIT and not raw.endswith(b"\n"):
                rest = raw
                while rest and not rest.endswith(b"\n"):  # skipped, not held
                    rest = stream.readline(LINE_LIMIT)
                    digest.update(rest)
                    size += len(rest)
                self.bad[self.number] = f"the line is longer than {LINE_LIMIT:,} bytes"
                raw = b"\n"
            self.offset = start + size
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                self.bad[self.number] = (
                    f"not UTF-8: byte {err.start + 1} of the line (byte {start + err.start + 1} "
                    "of the file) cannot be read; save the file as UTF-8"
                )
                text = raw.decode("utf-8", "replace")
            if self.number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield text

    def take(self, first: int, last: int) -> list[tuple[int, str]]:
        """The problems of lines *first* to *last*, forgetting those of lines before *first*."""
        taken = [(number, message) for number, message in self.bad.items() if number <= last]
        for number, _ in taken:
            del self.bad[number]
        return [(number, message) for number, message in taken if number >= first]


def rows(lines: Lines, chosen: Format, name: str) -> Iterator[Row]:
    return _csv_rows(lines, name) if chosen == "csv" else _jsonl_rows(lines)


def _csv_rows(lines: Lines, name: str) -> Iterator[Row]:
    reader = csv.reader(lines, strict=True)
    try:
        header: list[str] = []
        while not header:
            header = next(reader)
    except StopIteration:
        raise PortfolioInvalid(name, "the file is empty: a header row is needed") from None
    except csv.Error as err:
        raise PortfolioInvalid(
            name, f"line {reader.line_num}: the header is not CSV ({err})"
        ) from None
    undecoded = lines.take(1, reader.line_num)
    if undecoded:
        number, message = undecoded[0]
        raise PortfolioInvalid(name, f"line {number}: the header is {message}")
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
    width = len(columns)
    while True:
        number = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            lines.take(number, reader.line_num)
            yield number, {}, [RowError(number, "row", f"not valid CSV ({err})")], True
            continue
        undecoded = lines.take(number, reader.line_num)
        if undecoded:
            at = next((c for c, v in zip(columns, values, strict=False) if "\ufffd" in v), "row")
            errors = [RowError(line, at, message) for line, message in undecoded]
            yield number, {}, errors, True
            continue
        if not any(value.strip() for value in values):
            continue  # a blank line
        if len(values) != width:
            if len(values) < width:
                problem = RowError(
                    number,
                    columns[len(values)],
                    f"missing: the row has {len(values)} values, the header {width} columns",
                )
            else:
                problem = RowError(
                    number, "row", f"the row has {len(values)} values, the header {width} columns"
                )
            yield number, {}, [problem], True
            continue
        cleaned = {key: value.strip() for key, value in zip(columns, values, strict=True)}
        yield number, *_from_flat(cleaned, number), True


def _jsonl_rows(lines: Lines) -> Iterator[Row]:
    for line in lines:
        number = lines.number
        undecoded = lines.take(number, number)
        if undecoded:
            yield number, {}, [RowError(number, _undecoded_key(line), undecoded[0][1])], False
            continue
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            yield number, {}, [RowError(number, "row", f"not valid JSON ({err})")], False
            continue
        if not isinstance(value, dict):
            yield number, {}, [RowError(number, "row", "not a JSON object")], False
            continue
        repeated = repeated_key(line)
        if repeated is not None:
            yield number, {}, [RowError(number, repeated, REPEATED)], False
            continue
        if "debtor" in value:
            yield number, value, [], False
            continue
        unknown = sorted(key for key in value if key not in COLUMNS)
        if unknown:
            yield number, {}, [RowError(number, key, "unknown field") for key in unknown], True
            continue
        yield number, *_from_flat(value, number), True


#: The problem of a key given twice in one JSON object of a row.
REPEATED: Final = "given twice in the row: which value is meant cannot be told"


class _Repeated(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _one_value_a_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Repeated(key)
            seen.add(key)
    return found


_ONE_VALUE_A_KEY: Final = json.JSONDecoder(object_pairs_hook=_one_value_a_key)


def repeated_key(text: str) -> str | None:
    """The first key given twice in one object of the JSON *text* (valid JSON), else ``None``.

    JSON readers differ on such an object (the first value, the last, an error), so
    the loan system that wrote the line and `arrears` could read two different cases.
    """
    try:
        _ONE_VALUE_A_KEY.decode(text)
    except _Repeated as repeated:
        return repeated.key
    return None


def _undecoded_key(line: str) -> str:
    """The field of a JSON line whose text holds what could not be decoded, else ``row``."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "row"
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and "\ufffd" in item:
                return str(key)
    return "row"


def _from_flat(values: Mapping[str, Any], number: int) -> tuple[dict[str, Any], list[RowError]]:
    """A case mapping from one flat row; the row's problems that pydantic would not name."""
    problems: list[RowError] = []

    read: dict[str, str | None] = {}

    def text(column: str) -> str | None:
        """The column's text, its problem noted once however often it is asked for."""
        if column not in read:
            read[column] = _text(column)
        return read[column]

    def _text(column: str) -> str | None:
        value = values.get(column)
        if value is None or value == "":
            return None
        if isinstance(value, float):
            problems.append(RowError(number, column, "a decimal string, never a float"))
            return None
        if column in AMOUNTS and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            problems.append(RowError(number, column, f"expected text, got {type(value).__name__}"))
            return None
        value = value.strip()
        if column in AMOUNTS and not _DECIMAL.match(value):
            problems.append(RowError(number, column, _not_an_amount(value)))
            return None
        return value

    for column in REQUIRED:
        if text(column) is None and not any(p.field == column for p in problems):
            problems.append(RowError(number, column, "required"))
    debtor: dict[str, Any] = {"id": text("debtor_id")}
    for column in ("name", "timezone", "locale", "payday", "jurisdiction", "residence", "address"):
        value = text(column)
        if value is not None:
            debtor[column] = value
    balance: dict[str, Any] = {"currency": text("currency")}
    for column in AMOUNTS:
        value = text(column)
        if value is not None:
            balance[column] = value
    contacts: list[dict[str, Any]] = []
    for column, point_id, channel in CONTACTS:
        address = _address(text(column), column, channel, number, problems)
        if address is not None:
            contacts.append({"id": point_id, "channel": channel, "address": address})
    person = text("person_id")
    relationship = text("relationship")
    persons: list[dict[str, Any]] = []
    if person is None:
        for column in ("relationship", *(column for column, _, _ in PERSON_CONTACTS)):
            if text(column) is not None:
                problems.append(RowError(number, column, "given without person_id: whose it is"))
    elif relationship is None:
        problems.append(RowError(number, "relationship", "required with person_id"))
    else:
        persons.append({"id": person, "relationship": relationship})
        for column, point_id, channel in PERSON_CONTACTS:
            address = _address(text(column), column, channel, number, problems)
            if address is not None:
                contacts.append(
                    {"id": point_id, "channel": channel, "address": address, "person": person}
                )
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
    if persons:
        record["persons"] = persons
    account = text("student_loan_account")
    if account is not None:
        record["student_loan"] = {"account": account}
    aging = text("aging")
    if aging is not None:
        parsed = _aging(aging, number, problems)
        if parsed is not None:
            record["aging"] = parsed
    return record, problems


def _aging(value: str, number: int, problems: list[RowError]) -> list[list[str]] | None:
    """An ``aging`` column (``2027-01-01:1000.00;2027-02-01:1000.00``) as `Case.aging`
    takes it: ``[[date, amount], ...]``; ``None`` when it is not one (a problem is added).

    Whether the dates are oldest first and the amounts sum to the arrears is the
    case's to check (`arrears.case.checked_aging`), when it is opened.
    """
    pairs: list[list[str]] = []
    for index, part in enumerate(value.split(";"), 1):
        item = part.strip()
        found = _AGED.match(item)
        if found is None:
            why = f"item {index}: got {quoted(item)}, expected YYYY-MM-DD:amount"
        else:
            day, amount = found.group(1), found.group(2).strip()
            try:
                date.fromisoformat(day)
            except ValueError:
                why = f"item {index}: got {quoted(day)}, not a date"
            else:
                if _DECIMAL.match(amount):
                    pairs.append([day, amount])
                    continue
                why = f"item {index}: {_not_an_amount(amount)}"
        problems.append(
            RowError(
                number,
                "aging",
                f"{why}; dates and amounts as in 2027-01-01:900.00;2027-02-01:1000.00",
            )
        )
        return None
    return pairs


def _address(
    address: str | None, column: str, channel: str, number: int, problems: list[RowError]
) -> str | None:
    """*address* checked for its *channel* (an e-mail address); a phone number is taken as
    given, for the case to read as `Engine.open_case` does (in E.164, or as a national
    number of the debtor's country: `arrears.case.in_region`), and the importer to refuse
    when it cannot (`arrears.importer`).

    ``None`` when empty, or when it is not one (a problem of *column* is added).
    """
    if address is None:
        return None
    if channel == "email" and not _EMAIL.match(address):
        problems.append(RowError(number, column, "not an e-mail address"))
        return None
    return address


def _not_an_amount(value: str) -> str:
    """What is wrong with an amount that is not a plain decimal."""
    try:
        number = Decimal(value)
    except ArithmeticError:
        return f"got {quoted(value)}, expected a decimal number such as 1000.00"
    if number.is_nan():
        return f"got {quoted(value)}: not a number, expected an amount such as 1000.00"
    if number.is_infinite():
        return f"got {quoted(value)}: out of range, expected a finite amount such as 1000.00"
    return (
        f"got {quoted(value)}: written with an exponent or separators, expected a plain "
        "decimal such as 1000.00"
    )
