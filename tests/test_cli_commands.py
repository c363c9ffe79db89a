"""The ``arrears`` commands beyond ``test``, ``check`` and ``import``, each run as a subprocess.

``demo``, ``simulate``, ``diagram``, ``tick``, ``explain``, ``report``,
``journal verify`` and ``journal export``: their output, their exit statuses
(0 done, 1 a failure the command reports, 2 misuse), and ``--help``.
"""

from __future__ import annotations

import filecmp
import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from _cli import arrears

ROOT = Path(__file__).resolve().parent.parent
CN = ROOT / "examples" / "policies" / "cn_consumer_loan.yaml"
FIRST_CASE = "CF202609-0000001"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store made by a small simulation."""
    path = tmp_path_factory.mktemp("cli") / "sim.db"
    done = arrears("simulate", CN, "--synthetic", "30", "--days", "5", "--seed", "2", "--db", path)
    assert done.returncode == 0, done.stderr
    return path


def no_remote_assets(page: str) -> bool:
    return not re.search(r"<script|<link\b|(?:src|href)\s*=\s*['\"]?https?:", page, re.I)


@pytest.mark.parametrize(
    "command",
    [
        ["demo"],
        ["simulate"],
        ["diagram"],
        ["tick"],
        ["explain"],
        ["report"],
        ["journal"],
        ["journal", "verify"],
        ["journal", "export"],
    ],
    ids=" ".join,
)
def test_every_command_has_help(command: list[str]) -> None:
    done = arrears(*command, "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("Usage: ")
    assert "Exit status" in done.stdout or command == ["journal"]


class TestDemo:
    def test_the_demo_runs_prints_the_kpis_and_writes_the_report(self, tmp_path: Path) -> None:
        done = arrears("demo", "--cases", "40", "--days", "6", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("arrears demo: 40 synthetic consumer loans")
        assert "催回率" in done.stdout  # the CN policy's language: cure rate
        assert "回款率" in done.stdout  # recovery rate
        assert "report: arrears-demo-report.html" in done.stdout
        page = (tmp_path / "arrears-demo-report.html").read_text(encoding="utf-8")
        assert no_remote_assets(page)
        assert (tmp_path / "arrears-demo.db").is_file()
        again = arrears("demo", "--cases", "40", "--days", "6", cwd=tmp_path)  # replaces its file
        assert again.returncode == 0, again.stderr
        assert again.stdout == done.stdout

    def test_bad_arguments(self, tmp_path: Path) -> None:
        done = arrears("demo", "--cases", "0", cwd=tmp_path)
        assert done.returncode == 2
        assert "--cases" in done.stderr

    def test_the_packaged_examples_are_the_examples(self) -> None:
        packaged = ROOT / "src" / "arrears" / "examples"
        for folder in ("policies", "templates"):
            names = sorted(path.name for path in (ROOT / "examples" / folder).iterdir())
            assert names == sorted(path.name for path in (packaged / folder).iterdir())
            _, mismatch, errors = filecmp.cmpfiles(
                ROOT / "examples" / folder, packaged / folder, names, shallow=False
            )
            assert (mismatch, errors) == ([], [])


class TestSimulate:
    def test_the_same_seed_gives_identical_kpis(self) -> None:
        args = ("simulate", CN, "--synthetic", "25", "--days", "4", "--seed", "9", "--json")
        first, second = arrears(*args), arrears(*args)
        assert first.returncode == second.returncode == 0, first.stderr
        assert first.stdout == second.stdout
        kpis = json.loads(first.stdout)
        assert kpis["overall"]["cases"] == 25
        assert kpis["days"] == 4

    def test_a_portfolio_file(self, tmp_path: Path) -> None:
        from arrears.simulate import synthetic_portfolio

        portfolio = tmp_path / "cases.jsonl"
        lines = [json.dumps(record) for record in synthetic_portfolio(12, seed=1)]
        portfolio.write_text("\n".join(lines) + "\n", encoding="utf-8")
        html = tmp_path / "report.html"
        done = arrears(
            "simulate", CN, "--portfolio", portfolio, "--days", "3", "--html", html, "--lang", "en"
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0].startswith("window 2026-09-01 09:30+08:00 to ")
        assert done.stdout.splitlines()[1].split() == ["KPI", "all"]
        assert "cases                 " in done.stdout
        assert no_remote_assets(html.read_text(encoding="utf-8"))

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--days", "3"], "exactly one of --portfolio"),
            (["--synthetic", "3", "--portfolio", CN, "--days", "3"], "exactly one of"),
            (["--synthetic", "3"], "--days"),
            (["--synthetic", "3", "--days", "0"], "--days"),
            (["--synthetic", "3", "--days", "2", "--cost", "call"], "--cost"),
        ],
    )
    def test_bad_arguments(self, args: list[str], message: str) -> None:
        done = arrears("simulate", CN, *args)
        assert done.returncode == 2
        assert message in done.stderr

    def test_an_existing_database_and_a_broken_policy(self, tmp_path: Path, db: Path) -> None:
        done = arrears("simulate", CN, "--synthetic", "3", "--days", "1", "--db", db)
        assert done.returncode == 2
        assert "exists" in done.stderr
        broken = tmp_path / "broken.yaml"
        broken.write_text("id: x\nversion: '1'\nsteps: 3\n", encoding="utf-8")
        done = arrears("simulate", broken, "--synthetic", "3", "--days", "1")
        assert done.returncode == 2
        assert "not a valid policy" in done.stderr


class TestDiagram:
    def test_mermaid_with_guards(self) -> None:
        done = arrears("diagram", CN)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("stateDiagram-v2\n")
        assert "    [*] --> pre_due\n" in done.stdout
        assert re.search(
            r"field_visit --> legal_demand_letter: start_legal \(manual\) \[", done.stdout
        )
        assert "dpd_at_least(90)" in done.stdout

    def test_dot(self) -> None:
        done = arrears("diagram", CN, "--format", "dot")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith('digraph "')
        assert '"pre_due" -> "notified" [label="notify' in done.stdout
        assert "style=dashed" in done.stdout
        assert done.stdout.rstrip().endswith("}")

    def test_bad_arguments(self) -> None:
        assert arrears("diagram", CN, "--format", "svg").returncode == 2
        assert arrears("diagram", ROOT / "nosuch.yaml").returncode == 2


class TestStoreCommands:
    def test_tick_without_adapters_refuses_and_plans_with_dry_run(self, db: Path) -> None:
        """No adapter for SMS: the tick refuses (nothing recorded); --dry-run plans instead."""
        at = "2026-09-06T09:30:00+08:00"
        before = arrears("journal", "verify", "--db", db).stdout
        refused = arrears("tick", "--db", db, "--policy", CN, "--now", at)
        assert refused.returncode == 2
        assert refused.stderr.splitlines() == [
            "arrears tick: no channel adapter for sms: the policy's steps send on it; name the "
            "adapters in a configuration file (--config arrears.toml), or plan with --dry-run"
        ]
        dry = arrears("tick", "--db", db, "--policy", CN, "--now", at, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        summary = re.search(
            r"^dry run at 2026-09-06T09:30:00\+08:00: (\d+) cases due; nothing was recorded$",
            dry.stdout,
            re.MULTILINE,
        )
        assert summary is not None, dry.stdout
        due = int(summary.group(1))
        assert due > 0
        assert len(re.findall(rf"^case \S+ at {re.escape(at)} under ", dry.stdout, re.M)) == due
        assert "step overdue-sms: send sms (overdue)" in dry.stdout
        as_json = arrears("tick", "--db", db, "--policy", CN, "--now", at, "--dry-run", "--json")
        assert len(json.loads(as_json.stdout)["due"]) == due
        assert arrears("journal", "verify", "--db", db).stdout == before  # nothing journaled

    def test_tick_bad_arguments(self, db: Path, tmp_path: Path) -> None:
        naive = arrears("tick", "--db", db, "--policy", CN, "--now", "2026-09-06T09:30")
        assert naive.returncode == 2
        assert "offset" in naive.stderr
        missing = arrears("tick", "--db", tmp_path / "none.db", "--policy", CN)
        assert missing.returncode == 2
        assert not (tmp_path / "none.db").exists()

    def test_explain(self, db: Path) -> None:
        at = "2026-09-03T23:00:00+08:00"
        done = arrears("explain", "--db", db, FIRST_CASE, "--at", at, "--policy", CN)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"case {FIRST_CASE} at {at} under cn-consumer-loan/2026.11")
        assert "next review:" in done.stdout
        unknown = arrears("explain", "--db", db, "nosuch", "--policy", CN)
        assert unknown.returncode == 1
        assert "no case 'nosuch'" in unknown.stderr
        assert arrears("explain", "--db", db, "--policy", CN).returncode == 2

    def test_report(self, db: Path, tmp_path: Path) -> None:
        html = tmp_path / "report.html"
        done = arrears("report", "--db", db, "--html", html, "--lang", "en")
        assert done.returncode == 0, done.stderr
        assert "right-party contact rate" in done.stdout
        assert no_remote_assets(html.read_text(encoding="utf-8"))
        as_json = arrears("report", "--db", db, "--json")
        assert json.loads(as_json.stdout)["overall"]["cases"] == 30
        assert arrears("report").returncode == 2
        assert arrears("report", "--db", tmp_path / "none.db").returncode == 2

    def test_journal_export(self, db: Path) -> None:
        done = arrears("journal", "export", "--db", db)
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        entries, seal = lines[:-1], lines[-1]  # the last line seals every chain's head
        assert len({entry["case_id"] for entry in entries}) == 30
        assert len(seal["heads"]) == 30
        one = arrears("journal", "export", "--db", db, "--case", FIRST_CASE)
        assert one.returncode == 0
        chain = [json.loads(line) for line in one.stdout.splitlines()][:-1]
        assert 0 < len(chain) < len(entries)
        assert {entry["case_id"] for entry in chain} == {FIRST_CASE}
        unknown = arrears("journal", "export", "--db", db, "--case", "nosuch")
        assert unknown.returncode == 1
        assert arrears("journal", "export").returncode == 2

    def test_journal_verify_finds_the_first_tampered_entry(self, db: Path, tmp_path: Path) -> None:
        done = arrears("journal", "verify", "--db", db)
        assert done.returncode == 0, done.stderr
        assert re.fullmatch(r"OK: 30 cases, \d+ entries\n", done.stdout)
        copy = tmp_path / "tampered.db"
        with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(copy)) as target:
            source.backup(target)
        with closing(sqlite3.connect(copy)) as connection, connection:
            row = connection.execute(
                "SELECT body FROM journal WHERE case_id = ? AND seq = 1", (FIRST_CASE,)
            ).fetchone()
            body = row[0] if isinstance(row[0], bytes) else row[0].encode()
            changed = body.replace(b"2026-09-01", b"2026-09-02", 1)  # the entry's time moved
            assert changed != body
            connection.execute(
                "UPDATE journal SET body = ? WHERE case_id = ? AND seq = 1", (changed, FIRST_CASE)
            )
        tampered = arrears("journal", "verify", "--db", copy)
        assert tampered.returncode == 1
        assert tampered.stdout.startswith(f"TAMPERED: case {FIRST_CASE!r} at 1: changed")
        assert arrears("journal", "verify").returncode == 2
