"""Importing a portfolio (CSV, JSON Lines): good rows kept, bad ones named, no personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from arrears import Engine, SettableClock
from arrears.cli import main
from arrears.importer import COLUMNS, PortfolioInvalid, import_portfolio
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
#: Personal data in the bad rows below: none of it may reach a report.
SECRETS = ("李四", "1390000111", "lisi@example", "Jane Roe", "20255501")
ROWS = [
    GOOD,
    "L-2,D-2,李四,Asia/Shanghai,zh-CN,CNY,10.001,0,0,0,2026-09-01,13900001111,lisi@example",
    "L-3,D-3,Jane Roe,Mars/Base,en-US,USD,100.00,0,0,0,2026-13-01,+12025550123,",
    "L-4,D-4,,Asia/Shanghai,zh-CN,CNY,500.00,,,,2026-09-15,,",
    GOOD,  # the same id again
    ",D-6,,,,,1.00,,,,2026-09-01,,",
]


@pytest.fixture
def engine() -> Engine:
    return Engine(clock=SettableClock(AT))


def write_csv(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "portfolio.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


class TestCsv:
    def test_good_rows_kept_bad_rows_named(self, engine: Engine, tmp_path: Path) -> None:
        """Each bad row is reported with its row number and field; the good ones are opened."""
        report = import_portfolio(engine, write_csv(tmp_path, ROWS))
        assert (report.rows, report.imported, report.failed) == (6, 2, 4)
        assert not report.ok
        named = {(error.row, error.field) for error in report.errors}
        assert named == {
            (3, "phone"),
            (3, "email"),
            (3, "principal"),
            (4, "timezone"),
            (4, "due_date"),
            (6, "id"),
            (7, "id"),
            (7, "currency"),
        }
        assert sorted(engine.store.case_ids()) == ["L-1", "L-4"]
        case = engine.case("L-1")
        assert [(p.id, p.channel, p.address) for p in case.contacts] == [
            ("phone", "call", "+8613812345678"),
            ("email", "email", "xm@example.com"),
        ]
        assert str(case.balance.arrears) == "1052.10 CNY"
        assert engine.store.due(AT) == ["L-1", "L-4"]  # due for review at once

    def test_no_personal_data_in_errors(self, engine: Engine, tmp_path: Path) -> None:
        """Reports mask phone numbers and e-mails and never show names."""
        report = import_portfolio(engine, write_csv(tmp_path, ROWS))
        text = "\n".join(str(error) for error in report.errors)
        for secret in SECRETS:
            assert secret not in text
        assert "*******1111" in text

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

    def test_in_batches(self, engine: Engine, tmp_path: Path) -> None:
        """Rows are opened *batch* to a transaction; all are kept."""
        rows = [GOOD.replace("L-1,", f"L-{n},") for n in range(7)]
        assert import_portfolio(engine, write_csv(tmp_path, rows), batch=3).imported == 7


class TestJsonLines:
    def test_flat_and_whole_cases(self, engine: Engine, tmp_path: Path) -> None:
        """A line is a flat row (the CSV's columns) or a whole case; bad lines are named."""
        whole: dict[str, Any] = {
            "id": "L-9",
            "debtor": {"id": "D-9", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
            "balance": {"currency": "CNY", "principal": "10.00"},
            "due_date": "2026-09-01",
        }
        lines = [
            json.dumps(
                {
                    "id": "L-1",
                    "debtor_id": "D-1",
                    "currency": "CNY",
                    "principal": 1000,
                    "due_date": "2026-09-01",
                    "phone": "+8613812345678",
                }
            ),
            json.dumps(whole),
            json.dumps({**whole, "id": "L-10", "balance": {"currency": "CNY", "principal": 1.5}}),
            json.dumps(
                {
                    "id": "L-2",
                    "debtor_id": "D-2",
                    "currency": "CNY",
                    "principal": 1.5,
                    "due_date": "2026-09-01",
                }
            ),
            "[1, 2]",
            "{not json",
            json.dumps({"id": "L-3", "colour": "red"}),
        ]
        path = tmp_path / "portfolio.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        report = import_portfolio(engine, path)
        assert report.imported == 2
        assert {(e.row, e.field) for e in report.errors} == {
            (3, "balance.principal"),
            (4, "principal"),
            (5, "row"),
            (6, "row"),
            (7, "colour"),
        }
        assert sorted(engine.store.case_ids()) == ["L-1", "L-9"]

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

    def test_all_imported(self, tmp_path: Path) -> None:
        """Exit 0 when every row is imported; the cases are in the SQLite file."""
        db = tmp_path / "arrears.db"
        result = self.run("--db", str(db), str(write_csv(tmp_path, [GOOD])))
        assert result.exit_code == 0, result.output
        assert "imported 1 of 1 rows" in result.output
        with SQLiteStore(db) as store:
            assert list(store.case_ids()) == ["L-1"]
            assert Engine(store=store).verify() == []

    def test_some_failed(self, tmp_path: Path) -> None:
        """Exit 1 when a row failed: each problem on standard error, as file:row N: field."""
        path = write_csv(tmp_path, ROWS)
        result = CliRunner().invoke(main, ["import", "--db", str(tmp_path / "a.db"), str(path)])
        assert result.exit_code == 1
        assert "imported 2 of 6 rows" in result.stdout
        assert f"{path}:row 3: phone: got" in result.stderr
        for secret in SECRETS:
            assert secret not in result.output

    @pytest.mark.parametrize("problem", ["no-file", "bad-format", "bad-header", "no-db"])
    def test_usage_errors(self, tmp_path: Path, problem: str) -> None:
        """Exit 2 for a usage error: no such file, an unknown format or column, no --db."""
        good = write_csv(tmp_path, [GOOD])
        db = ["--db", str(tmp_path / "a.db")]
        args = {
            "no-file": [*db, str(tmp_path / "missing.csv")],
            "bad-format": [*db, "--format", "xml", str(good)],
            "bad-header": [*db, str(write_csv(tmp_path, [GOOD], header=HEADER + ",x"))],
            "no-db": [str(good)],
        }[problem]
        assert self.run(*args).exit_code == 2
