"""Importing a portfolio: every bad row named by line and field, all of it or nothing, re-runs.

The rows are checked first and opened in one transaction: a file with a bad
row imports nothing (``skip_bad`` imports the good ones), whatever the fault
(a byte that is not UTF-8, an amount out of range, a missing column, a stage
a case may not be opened in, a refusal only the open path sees), and nothing
of it repeats personal data.  A file imported again opens nothing twice.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _postgres import Database
from arrears import Engine, InvalidInput, SettableClock
from arrears.cli import main
from arrears.importer import COLUMNS, ImportReport, PortfolioInvalid, RowError, import_portfolio
from arrears.stores import SQLiteStore

AT = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
HEADER = (
    "id,debtor_id,name,timezone,locale,currency,principal,interest,fees,penalty,due_date,"
    "phone,email"
)
GOOD = (
    "L-1,D-1,王小明,Asia/Shanghai,zh-CN,CNY,1000.00,52.10,0,0,2026-09-01,"
    "+86 138 1234 5678,xm@example.com"
)
#: Personal data in the rows below: none of it may reach a report, not even masked.
SECRETS = ("王小明", "李四", "1390000111", "1111", "lisi@example", "Jane Roe", "20255501", "0123")
ROWS = [
    GOOD,
    "L-2,D-2,李四,Asia/Shanghai,zh-CN,CNY,10.001,0,0,0,2026-09-01,13900001111,lisi@example",
    "L-3,D-3,Jane Roe,Mars/Base,en-US,USD,100.00,0,0,0,2026-13-01,+12025550123,",
    "L-4,D-4,,Asia/Shanghai,zh-CN,CNY,500.00,,,,2026-09-15,,",
    GOOD,  # the same id again
    ",D-6,,,,,1.00,,,,2026-09-01,,",
]
#: Every problem of `ROWS`, by line and column.
ROW_PROBLEMS = {
    (3, "email"),
    (3, "principal"),
    (4, "timezone"),
    (4, "due_date"),
    (6, "id"),
    (7, "id"),
    (7, "currency"),
}


def good(number: int, principal: str = "1000.00", name: str = "王小明") -> str:
    """A good row for case ``L-<number>``."""
    return (
        f"L-{number},D-{number},{name},Asia/Shanghai,zh-CN,CNY,{principal},0,0,0,2026-09-01,"
        f"+86138{number:08d},"
    )


@pytest.fixture
def engine() -> Engine:
    return Engine(clock=SettableClock(AT))


@pytest.fixture
def stored(sql_database: Database) -> Engine:
    """An engine on an SQLite file, then on a PostgreSQL schema of its own."""
    return Engine(store=sql_database.open(), clock=SettableClock(AT))


def write_csv(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "portfolio.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def named(report: ImportReport) -> set[tuple[int, str]]:
    return {(error.line, error.field) for error in report.errors}


def ids(engine: Engine) -> list[str]:
    return sorted(engine.store.case_ids())


class TestAllOrNothing:
    def test_bad_rows_named_and_nothing_imported(self, engine: Engine, tmp_path: Path) -> None:
        """Each bad row is named by line and field; with one bad row, no row is imported."""
        report = import_portfolio(engine, write_csv(tmp_path, ROWS))
        assert (report.rows, report.imported, report.failed, report.valid) == (6, 0, 4, 2)
        assert not report.ok
        assert named(report) == ROW_PROBLEMS
        assert ids(engine) == []

    def test_skip_bad_imports_the_good_rows(self, engine: Engine, tmp_path: Path) -> None:
        """``skip_bad`` opens the good rows and reports the same problems for the bad."""
        report = import_portfolio(engine, write_csv(tmp_path, ROWS), skip_bad=True)
        assert (report.rows, report.imported, report.failed) == (6, 2, 4)
        assert named(report) == ROW_PROBLEMS
        assert ids(engine) == ["L-1", "L-4"]
        case = engine.case("L-1")
        assert [(p.id, p.channel, p.address) for p in case.contacts] == [
            ("phone", "call", "+8613812345678"),
            ("email", "email", "xm@example.com"),
        ]
        assert str(case.balance.arrears) == "1052.10 CNY"
        assert engine.store.due(AT) == ["L-1", "L-4"]  # due for review at once

    def test_ten_thousand_good_rows_and_two_bad(self, stored: Engine, tmp_path: Path) -> None:
        """10,000 good rows, ``1e400`` on line 3 and a latin-1 byte on the last line: the
        store is left as it was, both lines are named; ``skip_bad`` imports the 10,000."""
        stored.open_case(_case("EARLIER"), at=AT)
        rows = [good(n) for n in range(10_000)]
        rows.insert(1, good(90_001, principal="1e400"))
        path = write_csv(tmp_path, rows)
        with path.open("ab") as stream:
            stream.write(good(90_002, name="José").encode("latin-1") + b"\n")
        last = 1 + len(rows) + 1
        report = import_portfolio(stored, path)
        assert named(report) == {(3, "principal"), (last, "name")}
        assert (report.rows, report.valid, report.imported) == (10_002, 10_000, 0)
        assert ids(stored) == ["EARLIER"]
        report = import_portfolio(stored, path, skip_bad=True)
        assert (report.imported, report.failed) == (10_000, 2)
        assert len(stored.store) == 10_001
        assert stored.verify() == []

    def test_a_refusal_when_opened_undoes_everything(
        self, stored: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """What only the open path refuses (here: the last row's stage) is a row error with
        its line: the rows opened before it are taken back, or kept with ``skip_bad``."""
        path = write_csv(tmp_path, [good(n) for n in range(300)])
        opened = Engine.open_case

        def refusing(self: Engine, case: Any, **options: Any) -> Any:
            if case["id"] in ("L-150", "L-299"):
                raise InvalidInput("stage", "pre_due", "a stage a case may be opened in")
            return opened(self, case, **options)

        monkeypatch.setattr(Engine, "open_case", refusing)
        report = import_portfolio(stored, path)
        assert [(e.line, e.field) for e in report.errors] == [(152, "stage"), (301, "stage")]
        assert report.errors[0].message == "got 'pre_due', expected a stage a case may be opened in"
        assert (report.imported, ids(stored)) == (0, [])
        report = import_portfolio(stored, path, skip_bad=True)
        assert (report.imported, report.failed) == (298, 2)
        assert "L-150" not in ids(stored)
        assert len(stored.store) == 298

    @pytest.mark.parametrize(
        "fault", [KeyError("x"), ArithmeticError(), ValueError("王小明 +8613812345678")]
    )
    def test_whatever_the_open_path_raises(
        self, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: Exception
    ) -> None:
        """A bare Python error while a case is opened is a row error too, quoting nothing."""
        opened = Engine.open_case

        def failing(self: Engine, case: Any, **options: Any) -> Any:
            if case["id"] == "L-2":
                raise fault
            return opened(self, case, **options)

        monkeypatch.setattr(Engine, "open_case", failing)
        report = import_portfolio(engine, write_csv(tmp_path, [good(n) for n in range(4)]))
        assert [(error.line, error.field) for error in report.errors] == [(4, "row")]
        assert "王小明" not in str(report.errors)
        assert "1234" not in str(report.errors)
        assert ids(engine) == []

    def test_a_failing_store_raises_and_stores_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A store that fails mid-import is not a bad row: the error is raised, nothing kept."""
        db = tmp_path / "arrears.db"
        opened = Engine.open_case

        def failing(self: Engine, case: Any, **options: Any) -> Any:
            if case["id"] == "L-40":
                raise sqlite3.OperationalError("disk I/O error")
            return opened(self, case, **options)

        monkeypatch.setattr(Engine, "open_case", failing)
        with SQLiteStore(db) as store:
            engine = Engine(store=store, clock=SettableClock(AT))
            with pytest.raises(sqlite3.OperationalError):
                import_portfolio(engine, write_csv(tmp_path, [good(n) for n in range(50)]))
        with SQLiteStore(db) as store:
            assert list(store.case_ids()) == []

    def test_new_loans_of_a_held_debtor_inherit_the_hold(
        self, stored: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A portfolio with two more loans of a debtor in bankruptcy: both are opened holding
        the stay, in the import's transaction; a loan of another debtor holds nothing."""
        stored.open_case(
            {
                "id": "OLD-1",
                "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
                "balance": {"currency": "CNY", "principal": "300.00"},
                "due_date": "2026-08-01",
            }
        )
        hold = stored.add_hold("OLD-1", "bankruptcy", "chapter 13 petition")
        rows = [good(1), good(2), good(1).replace("L-1,", "L-11,", 1)]
        asked: list[str] = []
        reading = type(stored.store)._read_cases_of

        def counted(self: Any, debtor_id: str) -> list[str]:
            asked.append(debtor_id)
            return reading(self, debtor_id)

        monkeypatch.setattr(type(stored.store), "_read_cases_of", counted)
        report = import_portfolio(stored, write_csv(tmp_path, rows))
        monkeypatch.undo()
        assert asked == []  # the debtors' cases were read at once, not one query a row
        assert (report.imported, report.errors) == (3, [])
        held = {case_id: stored.case(case_id).holds for case_id in ("L-1", "L-11", "L-2")}
        assert [(h.id, h.origin) for h in held["L-1"]] == [(hold.id, "OLD-1")]
        assert [(h.id, h.origin) for h in held["L-11"]] == [(hold.id, "OLD-1")]
        assert held["L-2"] == ()
        assert stored.verify() == []

    def test_commit_every(self, engine: Engine, tmp_path: Path) -> None:
        """``commit_every`` commits in batches; every row is still checked first."""
        rows = [good(n) for n in range(7)]
        report = import_portfolio(engine, write_csv(tmp_path, rows), commit_every=3)
        assert (report.imported, report.ok) == (7, True)
        rows.append(good(8, principal="NaN"))
        report = import_portfolio(engine, write_csv(tmp_path, rows), commit_every=3)
        assert (report.imported, report.already_imported, named(report)) == (
            0,
            7,
            {(9, "principal")},
        )
        with pytest.raises(InvalidInput, match="commit_every"):
            import_portfolio(engine, write_csv(tmp_path, rows), commit_every=0)

    @settings(
        max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        faults=st.lists(
            st.sampled_from(
                [None, None, "principal", "due_date", "timezone", "phone", "currency", "bytes"]
            ),
            min_size=1,
            max_size=8,
        ),
        skip_bad=st.booleans(),
    )
    def test_imported_exactly_the_good_rows_or_none(
        self, tmp_path: Path, faults: list[str | None], skip_bad: bool
    ) -> None:
        """Whatever rows are bad: each is named by its line, and the store holds every good
        row (``skip_bad``, or no bad row) or none."""
        bad_values = {
            "principal": "1e400",
            "due_date": "2026-02-30",
            "timezone": "Mars/Base",
            "phone": "n/a",
            "currency": "XXY",
        }
        lines = [HEADER.encode()]
        for number, fault in enumerate(faults):
            row = good(number).split(",")
            if fault == "bytes":
                row[2] = "Zoë"
            elif fault is not None:
                row[HEADER.split(",").index(fault)] = bad_values[fault]
            lines.append(",".join(row).encode("latin-1" if fault == "bytes" else "utf-8"))
        path = tmp_path / "random.csv"
        path.write_bytes(b"\n".join(lines) + b"\n")
        engine = Engine(clock=SettableClock(AT))
        report = import_portfolio(engine, path, skip_bad=skip_bad)
        bad = {number + 2 for number, fault in enumerate(faults) if fault is not None}
        assert {error.line for error in report.errors} == bad
        for error in report.errors:
            fault = faults[error.line - 2]
            assert error.field == ("name" if fault == "bytes" else fault)
        good_ids = {f"L-{n}" for n, fault in enumerate(faults) if fault is None}
        expected = good_ids if skip_bad or not bad else set()
        assert set(engine.store.case_ids()) == expected
        assert report.imported == len(expected)


class TestEveryFault:
    def test_a_line_not_in_utf8(self, engine: Engine, tmp_path: Path) -> None:
        """Latin-1 bytes on line 7: the line, the column and the byte offsets, not the bytes."""
        rows = [good(n).encode() for n in range(5)]
        rows.append(good(5, name="Zoë Müller").encode("latin-1"))
        rows.append(good(6).encode())
        path = tmp_path / "latin1.csv"
        path.write_bytes(b"\n".join([HEADER.encode(), *rows]) + b"\n")
        report = import_portfolio(engine, path)
        offset = len(HEADER) + 1 + sum(len(row) + 1 for row in rows[:5])
        column = len("L-5,D-5,Zo") + 1
        assert report.errors == [
            RowError(
                7,
                "name",
                f"not UTF-8: byte {column} of the line (byte {offset + column} of the file) "
                "cannot be read; save the file as UTF-8",
            )
        ]
        assert "Zo" not in str(report.errors)
        assert "\\x" not in str(report.errors)
        assert ids(engine) == []

    def test_a_header_not_in_utf8(self, engine: Engine, tmp_path: Path) -> None:
        path = tmp_path / "p.csv"
        path.write_bytes(HEADER.encode() + b",\xe9\n" + good(1).encode() + b"\n")
        with pytest.raises(PortfolioInvalid, match="line 1: the header is not UTF-8: byte"):
            import_portfolio(engine, path)

    @pytest.mark.parametrize(
        ("amount", "says"),
        [
            ("1e400", "got '1e400'"),
            ("1E+400", "got '1E+400'"),
            ("NaN", "not a number"),
            ("Infinity", "out of range"),
            ("-Infinity", "out of range"),
            ("1" + "0" * 400, "got a value of 401 characters"),
            ("99999999999999999999999999999999.00", ""),
            ("-5.00", ""),
            ("1,000.00", "got '1,000.00'"),
            ("ten", "got 'ten'"),
        ],
    )
    def test_amounts_out_of_range(
        self, engine: Engine, tmp_path: Path, amount: str, says: str
    ) -> None:
        """An amount out of range or not a number is named on its line, never a traceback."""
        rows = [good(1), good(2, principal=f'"{amount}"'), good(3)]
        report = import_portfolio(engine, write_csv(tmp_path, rows))
        assert named(report) == {(3, "principal")}
        assert says in report.errors[0].message
        assert ids(engine) == []

    def test_json_amounts_out_of_range(self, engine: Engine, tmp_path: Path) -> None:
        base = {"id": "L-1", "debtor_id": "D-1", "currency": "CNY", "due_date": "2026-09-01"}
        lines = [
            json.dumps({**base, "principal": "1e400"}),
            json.dumps({**base, "id": "L-2", "principal": "NaN"}),
            '{"id": "L-3", "debtor_id": "D-3", "currency": "CNY", "principal": 1e400}',
            json.dumps({**base, "id": "L-4", "principal": 10**30}),
            json.dumps({**base, "id": "L-5", "principal": 12}),
        ]
        path = tmp_path / "p.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        report = import_portfolio(engine, path)
        assert named(report) == {(1, "principal"), (2, "principal"), (3, "row"), (4, "principal")}
        assert ids(engine) == []

    def test_missing_and_extra_values(self, engine: Engine, tmp_path: Path) -> None:
        """A row with fewer values than columns names the first missing column; more, the row."""
        rows = [good(1), "L-2,D-2,,Asia/Shanghai,zh-CN,CNY,1.00", good(3) + ",extra", good(4)]
        report = import_portfolio(engine, write_csv(tmp_path, rows))
        assert report.errors == [
            RowError(3, "interest", "missing: the row has 7 values, the header 13 columns"),
            RowError(4, "row", "the row has 14 values, the header 13 columns"),
        ]

    def test_dates_and_zones(self, engine: Engine, tmp_path: Path) -> None:
        rows = [
            good(1).replace("2026-09-01", "2026-02-30"),
            good(2).replace("Asia/Shanghai", "Mars/Base"),
            good(3).replace("2026-09-01", "01/09/2026"),
        ]
        report = import_portfolio(engine, write_csv(tmp_path, rows))
        assert named(report) == {(2, "due_date"), (3, "timezone"), (4, "due_date")}
        assert report.errors[0].message.startswith("got '2026-02-30'")

    @pytest.mark.parametrize("stage", ["resolved", "legal.litigation", "no_such_stage", "promise"])
    def test_a_stage_a_case_may_not_open_in(
        self, engine: Engine, tmp_path: Path, stage: str
    ) -> None:
        """A terminal, far-on or unknown stage is named on its line; ``pre_due`` opens."""
        header = HEADER + ",stage"
        rows = [good(1) + ",pre_due", good(2) + f",{stage}", good(3) + ","]
        report = import_portfolio(engine, write_csv(tmp_path, rows, header=header))
        assert named(report) == {(3, "stage")}
        assert f"'{stage}'" in report.errors[0].message
        report = import_portfolio(engine, write_csv(tmp_path, rows, header=header), skip_bad=True)
        assert ids(engine) == ["L-1", "L-3"]
        assert engine.case("L-1").stage == "pre_due"

    def test_a_row_over_several_lines(self, engine: Engine, tmp_path: Path) -> None:
        """A quoted value holding a line break: the rows after it keep their own line numbers."""
        header = HEADER + ",postal_address"
        rows = [
            good(1) + ',"Room 1\nBuilding 2"',
            good(2) + ",",
            good(3).replace("CNY", "XXY") + ",",
        ]
        report = import_portfolio(engine, write_csv(tmp_path, rows, header=header))
        assert named(report) == {(5, "currency")}

    def test_a_line_too_long(self, engine: Engine, tmp_path: Path) -> None:
        from arrears.importer import LINE_LIMIT

        rows = [good(1), good(2, name="x" * (LINE_LIMIT + 10)), good(3)]
        report = import_portfolio(engine, write_csv(tmp_path, rows))
        assert named(report) == {(3, "row")}
        assert "longer than" in report.errors[0].message

    def test_no_personal_data_in_errors(self, engine: Engine, tmp_path: Path) -> None:
        """Names, phone numbers and e-mail addresses never appear, not even masked."""
        report = import_portfolio(engine, write_csv(tmp_path, ROWS))
        text = "\n".join(str(error) for error in report.errors)
        for secret in SECRETS:
            assert secret not in text
        too_long = good(9, name="张" * 300)
        report = import_portfolio(engine, write_csv(tmp_path, [too_long]))
        assert named(report) == {(2, "name")}
        assert "张" not in str(report.errors)

    def test_every_column_is_documented(self) -> None:
        """The module's table lists every column the importer knows."""
        import arrears.importer

        doc = arrears.importer.__doc__ or ""
        assert all(f"``{column}``" in doc for column in COLUMNS)

    @pytest.mark.parametrize(
        ("header", "reason"),
        [
            (HEADER + ",colour", "unknown columns ['colour']"),
            ("id,debtor_id,currency", "missing columns ['due_date']"),
        ],
    )
    def test_a_bad_header_imports_nothing(
        self, engine: Engine, tmp_path: Path, header: str, reason: str
    ) -> None:
        """An unknown or a missing column refuses the whole file."""
        with pytest.raises(PortfolioInvalid, match=reason.replace("[", r"\[")):
            import_portfolio(engine, write_csv(tmp_path, [GOOD], header=header))
        assert len(engine.store) == 0

    def test_blank_lines_and_a_byte_order_mark(self, engine: Engine, tmp_path: Path) -> None:
        """Blank lines are skipped; a UTF-8 byte-order mark (spreadsheet exports) is fine."""
        path = tmp_path / "p.csv"
        path.write_text("\ufeff" + HEADER + "\n\n" + GOOD + "\n,,,,,,,,,,,,\n", encoding="utf-8")
        report = import_portfolio(engine, path)
        assert (report.rows, report.imported, report.errors) == (1, 1, [])


class TestRerun:
    def test_importing_again_imports_nothing_new(self, stored: Engine, tmp_path: Path) -> None:
        """The same file again: every row already imported, nothing opened twice."""
        path = write_csv(tmp_path, [good(n) for n in range(20)])
        assert import_portfolio(stored, path).imported == 20
        heads = {case_id: stored.store.head(case_id) for case_id in stored.store.case_ids()}
        report = import_portfolio(stored, path, at=AT.replace(day=2))
        assert (report.imported, report.already_imported, report.ok) == (0, 20, True)
        assert {case_id: stored.store.head(case_id) for case_id in heads} == heads

    def test_a_changed_row_reported_by_field(self, stored: Engine, tmp_path: Path) -> None:
        """A row that differs from its case is named by field, no value shown; the new rows
        of the file are imported all the same."""
        import_portfolio(stored, write_csv(tmp_path, [good(1), good(2), good(3)]))
        changed = good(2, principal="2000.00", name="李四").replace("+86138", "+86139")
        rows = [good(1), changed, good(3), good(4)]
        report = import_portfolio(stored, write_csv(tmp_path, rows))
        assert [(c.line, c.field) for c in report.conflicts] == [
            (3, "name"),
            (3, "phone"),
            (3, "principal"),
        ]
        assert {c.message for c in report.conflicts} == {
            "differs from the case already imported with this id"
        }
        assert (report.imported, report.already_imported, report.errors) == (1, 2, [])
        assert not report.ok
        assert ids(stored) == ["L-1", "L-2", "L-3", "L-4"]
        assert str(stored.case("L-2").balance.principal) == "1000.00"

    def test_a_case_moved_on_since_is_still_the_same_row(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        """A re-run compares with the case as it was opened, not as the engine has moved it."""
        from arrears import Money

        path = write_csv(tmp_path, [good(1)])
        import_portfolio(engine, path)
        engine.record_payment("L-1", Money("100.00", "CNY"), reference="P-1", at=AT)
        report = import_portfolio(engine, path)
        assert (report.already_imported, report.conflicts) == (1, [])

    def test_the_same_id_twice_in_a_file(self, engine: Engine, tmp_path: Path) -> None:
        report = import_portfolio(engine, write_csv(tmp_path, [good(1), good(2), good(1)]))
        assert report.errors == [RowError(4, "id", "the same id as line 2")]


class TestJsonLines:
    def test_flat_and_whole_cases(self, engine: Engine, tmp_path: Path) -> None:
        """A line is a flat row (the CSV's columns) or a whole case; bad lines are named."""
        whole: dict[str, Any] = {
            "id": "L-9",
            "debtor": {"id": "D-9", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
            "balance": {"currency": "CNY", "principal": "10.00"},
            "due_date": "2026-09-01",
        }
        flat = {
            "id": "L-1",
            "debtor_id": "D-1",
            "currency": "CNY",
            "principal": 1000,
            "due_date": "2026-09-01",
            "phone": "+8613812345678",
        }
        lines = [
            json.dumps(flat),
            json.dumps(whole),
            json.dumps({**whole, "id": "L-10", "balance": {"currency": "CNY", "principal": 1.5}}),
            json.dumps({**flat, "id": "L-2", "principal": 1.5}),
            "[1, 2]",
            "{not json",
            json.dumps({"id": "L-3", "colour": "red"}),
        ]
        path = tmp_path / "portfolio.jsonl"
        path.write_bytes("\n".join(lines).encode() + b'\n{"id": "L-4", "name": "Jos\xe9"}\n')
        report = import_portfolio(engine, path)
        assert named(report) == {
            (3, "balance.principal"),
            (4, "principal"),
            (5, "row"),
            (6, "row"),
            (7, "colour"),
            (8, "name"),
        }
        assert report.errors[-1].message.startswith("not UTF-8: byte 27 of the line")
        assert ids(engine) == []
        assert import_portfolio(engine, path, skip_bad=True).imported == 2
        assert ids(engine) == ["L-1", "L-9"]

    def test_format_from_the_suffix_or_named(self, engine: Engine, tmp_path: Path) -> None:
        """The format comes from the suffix; another suffix needs it named."""
        path = tmp_path / "portfolio.txt"
        path.write_text(HEADER + "\n" + GOOD + "\n", encoding="utf-8")
        with pytest.raises(PortfolioInvalid, match="--format"):
            import_portfolio(engine, path)
        assert import_portfolio(engine, path, format="csv").imported == 1


class TestCommand:
    def run(self, *args: str) -> Any:
        return CliRunner().invoke(main, ["import", *args])

    def test_all_imported_then_already_imported(self, tmp_path: Path) -> None:
        """Exit 0; run again, exit 0 with every row already imported."""
        db = tmp_path / "arrears.db"
        path = write_csv(tmp_path, [good(1), good(2)])
        result = self.run("--db", str(db), str(path))
        assert (result.exit_code, result.stdout) == (0, "imported 2 of 2 rows\n")
        result = self.run("--db", str(db), str(path))
        assert (result.exit_code, result.stdout) == (
            0,
            "imported 0 of 2 rows; 2 rows already imported\n",
        )
        with SQLiteStore(db) as store:
            assert sorted(store.case_ids()) == ["L-1", "L-2"]
            assert Engine(store=store).verify() == []

    def test_bad_rows_one_line_each(self, tmp_path: Path) -> None:
        """Exit 1, nothing imported: each problem on standard error as file:line: field."""
        db = tmp_path / "a.db"
        path = tmp_path / "bad.csv"
        rows = [good(1).encode(), good(2, principal="1e400").encode()]
        rows += [good(n).encode() for n in range(3, 7)]
        rows.append(good(7, name="José").encode("latin-1"))
        path.write_bytes(b"\n".join([HEADER.encode(), *rows]) + b"\n")
        result = CliRunner().invoke(main, ["import", "--db", str(db), str(path)])
        assert result.exit_code == 1
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.stderr.splitlines() == [
            f"{path}:3: principal: got '1e400': written with an exponent or separators, "
            "expected a plain decimal such as 1000.00",
            f"{path}:8: name: not UTF-8: byte 12 of the line (byte 604 of the file) cannot be "
            "read; save the file as UTF-8",
        ]
        assert result.stdout == (
            "imported 0 of 7 rows; 2 rows bad, so nothing was imported "
            "(--skip-bad imports the other 5 rows)\n"
        )
        with SQLiteStore(db) as store:
            assert list(store.case_ids()) == []
        result = CliRunner().invoke(main, ["import", "--db", str(db), "--skip-bad", str(path)])
        assert result.exit_code == 1
        assert result.stdout == "imported 5 of 7 rows; 2 rows bad, skipped\n"

    def test_problems_capped(self, tmp_path: Path) -> None:
        rows = [good(n, principal="NaN") for n in range(30)]
        path = write_csv(tmp_path, rows)
        result = self.run("--db", str(tmp_path / "a.db"), "--max-errors", "5", str(path))
        lines = result.stderr.splitlines()
        assert len(lines) == 6
        assert lines[-1] == f"{path}: 25 more problems (--max-errors 0 prints them all)"
        result = self.run("--db", str(tmp_path / "a.db"), "--max-errors", "0", str(path))
        assert len(result.stderr.splitlines()) == 30

    def test_a_changed_row(self, tmp_path: Path) -> None:
        db = str(tmp_path / "a.db")
        self.run("--db", db, str(write_csv(tmp_path, [good(1)])))
        path = write_csv(tmp_path, [good(1, name="李四"), good(2)])
        result = self.run("--db", db, str(path))
        assert result.exit_code == 1
        assert result.stderr == (
            f"{path}:2: name: differs from the case already imported with this id\n"
        )
        assert result.stdout == (
            "imported 1 of 2 rows; 1 row differing from the cases already imported\n"
        )
        assert "李四" not in result.output

    def test_a_failing_store(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Exit 3 when the store fails: one line, no traceback, no row data."""

        def failing(*args: Any, **options: Any) -> Any:
            raise sqlite3.OperationalError("UNIQUE constraint failed: 王小明")

        monkeypatch.setattr("arrears.importer.import_portfolio", failing)
        result = self.run("--db", str(tmp_path / "a.db"), str(write_csv(tmp_path, [GOOD])))
        assert result.exit_code == 3
        assert result.stderr == (
            "Error: the import failed: OperationalError; nothing of it was stored\n"
        )

    @pytest.mark.parametrize("problem", ["no-file", "bad-format", "bad-header", "no-db"])
    def test_usage_errors(self, tmp_path: Path, problem: str) -> None:
        """Exit 2 for a usage error: no such file, an unknown format or column, no --db."""
        ok = write_csv(tmp_path, [GOOD])
        db = ["--db", str(tmp_path / "a.db")]
        args = {
            "no-file": [*db, str(tmp_path / "missing.csv")],
            "bad-format": [*db, "--format", "xml", str(ok)],
            "bad-header": [*db, str(write_csv(tmp_path, [GOOD], header=HEADER + ",x"))],
            "no-db": [str(ok)],
        }[problem]
        assert self.run(*args).exit_code == 2


def _case(case_id: str) -> dict[str, Any]:
    return {
        "id": case_id,
        "debtor": {"id": "D-0", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "balance": {"currency": "CNY", "principal": "1.00"},
        "due_date": "2026-09-01",
    }


class TestPersonsAndStudentLoans:
    """The row's person (``person_id``, ``relationship``, ``person_phone``, ``person_email``)
    and ``student_loan_account``: opened on the case, each problem named by its column."""

    HEADER = (
        "id,debtor_id,timezone,currency,principal,due_date,phone,"
        "person_id,relationship,person_phone,person_email,student_loan_account"
    )

    def test_a_spouse_and_a_student_loan(self, engine: Engine, tmp_path: Path) -> None:
        rows = [
            "SL-1,D-1,America/New_York,USD,900.00,2026-09-01,+16175550100,"
            "pat,spouse,+1 617 555 0101,pat@example.com,ACCT-77",
            "SL-2,D-1,America/New_York,USD,400.00,2026-09-01,+16175550100,,,,,ACCT-77",
        ]
        report = import_portfolio(engine, write_csv(tmp_path, rows, self.HEADER))
        assert (report.imported, report.errors) == (2, [])
        case = engine.case("SL-1")
        assert [(p.id, p.relationship) for p in case.persons] == [("pat", "spouse")]
        assert [(p.id, p.channel, p.address, p.person, p.party) for p in case.contacts] == [
            ("phone", "call", "+16175550100", None, "debtor"),
            ("person-phone", "call", "+16175550101", "pat", "third_party"),
            ("person-email", "email", "pat@example.com", "pat", "third_party"),
        ]
        assert case.student_loan is not None
        assert case.student_loan.account == "ACCT-77"
        assert engine.case("SL-2").persons == ()
        again = import_portfolio(engine, write_csv(tmp_path, rows, self.HEADER))
        assert (again.imported, again.already_imported) == (0, 2)

    def test_each_problem_names_its_row_column_and_value(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        rows = [
            # line 2: a relationship that is none
            "SL-1,D-1,,USD,1.00,2026-09-01,,pat,cousin,,,",
            # line 3: a person without a relationship
            "SL-2,D-2,,USD,1.00,2026-09-01,,pat,,,,",
            # line 4: a relationship and a phone with no person
            "SL-3,D-3,,USD,1.00,2026-09-01,,,spouse,+16175550101,,",
            # line 5: the person has the debtor's id
            "SL-4,D-4,,USD,1.00,2026-09-01,,D-4,spouse,,,",
            # line 6: an e-mail that is none
            "SL-5,D-5,,USD,1.00,2026-09-01,,pat,spouse,,pat-at-example,",
        ]
        report = import_portfolio(engine, write_csv(tmp_path, rows, self.HEADER))
        found = {(error.line, error.field, error.message) for error in report.errors}
        assert found == {
            (
                2,
                "relationship",
                "got 'cousin': Input should be 'spouse', 'parent', 'child', 'sibling', "
                "'relative', 'household', 'guardian', 'attorney', 'executor', "
                "'administrator', 'debt_adviser', 'employer', 'contact_person' or 'other'",
            ),
            (3, "relationship", "required with person_id"),
            (4, "relationship", "given without person_id: whose it is"),
            (4, "person_phone", "given without person_id: whose it is"),
            (5, "person_id", "expected a new id, not the debtor's"),
            (6, "person_email", "not an e-mail address"),
        }
        assert ids(engine) == []

    def test_a_student_loan_account_too_long(self, engine: Engine, tmp_path: Path) -> None:
        row = "SL-1,D-1,,USD,1.00,2026-09-01,,,,,," + "9" * 300
        report = import_portfolio(engine, write_csv(tmp_path, [row], self.HEADER))
        assert [(error.line, error.field) for error in report.errors] == [
            (2, "student_loan_account")
        ]
        assert "9999" not in str(report.errors[0])


class TestNationalNumbers:
    """A phone column holds what `Engine.open_case` takes: a number in E.164, or a national
    one of the debtor's country (jurisdiction, residence, time zone, locale), kept in E.164."""

    HEADER = "id,debtor_id,timezone,locale,jurisdiction,currency,principal,due_date,phone,sms"

    def test_read_in_the_debtors_country_and_kept_in_e164(
        self, engine: Engine, tmp_path: Path
    ) -> None:
        rows = [
            "N-1,D-1,Asia/Shanghai,,,CNY,10.00,2026-09-01,138-1234-5678,139 0000 1111",
            "N-2,D-2,America/New_York,,,USD,10.00,2026-09-01,(617) 555-0100,",
            "N-3,D-3,,en-US,,USD,10.00,2026-09-01,617.555.0101,",
            "N-4,D-4,,,GB,GBP,10.00,2026-09-01,020 7946 0018,",
            "N-5,D-5,,,,USD,10.00,2026-09-01,+1 617 555 0102,",
        ]
        path = write_csv(tmp_path, rows, self.HEADER)
        report = import_portfolio(engine, path)
        assert (report.imported, report.errors) == (5, [])
        assert {
            case_id: [(point.id, point.address) for point in engine.case(case_id).contacts]
            for case_id in ids(engine)
        } == {
            "N-1": [("phone", "+8613812345678"), ("sms", "+8613900001111")],
            "N-2": [("phone", "+16175550100")],
            "N-3": [("phone", "+16175550101")],
            "N-4": [("phone", "+442079460018")],
            "N-5": [("phone", "+16175550102")],
        }
        again = import_portfolio(engine, path)
        assert (again.imported, again.already_imported, again.conflicts) == (0, 5, [])

    def test_the_same_numbers_as_open_case(self, tmp_path: Path) -> None:
        """Whatever the number, the import accepts it when `open_case` does, and keeps
        the address `open_case` keeps."""
        numbers = ["138-1234-5678", "+86 138 1234 5678", "n/a", "(617) 555-0100", "1", "+12"]
        for zone in ("Asia/Shanghai", ""):
            for index, phone in enumerate(numbers):
                opened = Engine(clock=SettableClock(AT))
                debtor: dict[str, Any] = {"id": "D-1"}
                if zone:
                    debtor["timezone"] = zone
                record = {
                    "id": "N-1",
                    "debtor": debtor,
                    "balance": {"currency": "CNY", "principal": "10.00"},
                    "due_date": "2026-09-01",
                    "contacts": [{"id": "phone", "channel": "call", "address": phone}],
                }
                try:
                    opened.open_case(record)
                except InvalidInput:
                    kept = None
                else:
                    kept = opened.case("N-1").contacts[0].address
                imported = Engine(clock=SettableClock(AT))
                row = f"N-1,D-1,{zone},,,CNY,10.00,2026-09-01,{phone},"
                path = tmp_path / f"p{index}{bool(zone)}.csv"
                path.write_text(f"{self.HEADER}\n{row}\n", encoding="utf-8")
                report = import_portfolio(imported, path)
                if kept is None:
                    assert [(e.line, e.field) for e in report.errors] == [(2, "phone")], phone
                else:
                    assert report.errors == [], (phone, report.errors)
                    assert imported.case("N-1").contacts[0].address == kept

    def test_a_number_it_cannot_read(self, engine: Engine, tmp_path: Path) -> None:
        """Named by row and column, with its digit count and the country it was read in,
        never the number; the other rows' numbers are fine."""
        rows = [
            "N-1,D-1,Asia/Shanghai,,,CNY,10.00,2026-09-01,n/a,138-1234-5678",
            "N-2,D-2,,,,USD,10.00,2026-09-01,(617) 555-0199,",
            "N-3,D-3,America/New_York,,,USD,10.00,2026-09-01,+16175550100,",
        ]
        report = import_portfolio(engine, write_csv(tmp_path, rows, self.HEADER))
        assert [(error.line, error.field, error.message) for error in report.errors] == [
            (
                2,
                "phone",
                "got 0 digits, not a phone number of CN (the debtor's country) nor one in "
                "E.164 (+, country code, number)",
            ),
            (
                3,
                "phone",
                "got 10 digits without '+', and no country to read them in: expected E.164 "
                "(+, country code, number), or the debtor's jurisdiction, residence, timezone "
                "or a locale with a region (en-US) for a national number",
            ),
        ]
        assert "0199" not in str(report.errors)
        assert ids(engine) == []
        assert (
            import_portfolio(engine, write_csv(tmp_path, rows, self.HEADER), skip_bad=True).imported
            == 1
        )

    def test_a_whole_case_in_json_lines(self, engine: Engine, tmp_path: Path) -> None:
        case = _case("N-1")
        case["debtor"] = {"id": "D-1"}
        case["contacts"] = [
            {"id": "home", "channel": "email", "address": "x@example.com"},
            {"id": "mobile", "channel": "sms", "address": "138 1234 5678"},
        ]
        path = tmp_path / "p.jsonl"
        path.write_text(json.dumps(case) + "\n", encoding="utf-8")
        report = import_portfolio(engine, path)
        assert [(error.line, error.field) for error in report.errors] == [(1, "contacts.1.address")]
        case["debtor"] = {"id": "D-1", "jurisdiction": "CN"}
        path.write_text(json.dumps(case) + "\n", encoding="utf-8")
        assert import_portfolio(engine, path).errors == []
        assert engine.case("N-1").contacts[1].address == "+8613812345678"
