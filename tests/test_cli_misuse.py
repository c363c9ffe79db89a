"""Every command of ``arrears`` fails cleanly: misuse exits 2 with one line naming the problem.

The commands are found in the click group, so a command added later is
covered (or fails `test_every_command_is_covered` until its valid arguments
are given here).  Each of its parameters is given bad values by kind: a
file (missing, a folder, empty, binary, the wrong JSON or YAML shape), a
store (missing, a folder, empty, binary, a wrong URL), a time (not a date, no
offset, at an end of the calendar), a report language (one it is not written
in).  Whatever the value, the command exits with its documented status (2 for
misuse), says what is wrong in one line, and never shows a traceback.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from arrears.cli import main

ROOT = Path(__file__).resolve().parent.parent
CN = ROOT / "examples" / "policies" / "cn_consumer_loan.yaml"
SCENARIO = ROOT / "tests" / "policy_scenarios" / "cn_consumer_loan" / "cured_by_payment.yaml"

Command = tuple[str, ...]


def commands(group: click.Group = main, prefix: Command = ()) -> dict[Command, click.Command]:
    """Every command of *group*, sub-commands of its groups included, by their words."""
    found: dict[Command, click.Command] = {}
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.update(commands(command, (*prefix, name)))
        else:
            found[(*prefix, name)] = command
    return found


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=True)


@dataclass(frozen=True)
class Files:
    """The valid files the commands read, made once."""

    folder: Path
    policy: Path
    db: Path
    case_id: str
    key: Path
    public: Path
    checkpoints: Path
    proof: Path
    export: Path
    portfolio: Path
    records: Path
    scenario: Path
    config: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("misuse")
    db = folder / "store.db"
    done = run("simulate", CN, "--synthetic", "4", "--days", "2", "--seed", "1", "--db", db)
    assert done.exit_code == 0, done.output
    assert run("journal", "keygen", "--out", folder / "signer").exit_code == 0
    key, public = folder / "signer.key", folder / "signer.pub"
    checkpoints = folder / "checkpoints.jsonl"
    done = run("journal", "checkpoint", "--db", db, "--checkpoints", checkpoints, "--key", key)
    assert done.exit_code == 0, done.output
    case_id = "CF202609-0000001"
    proof = folder / "proof.json"
    done = run("journal", "prove", case_id, "--checkpoints", checkpoints, "--key", public)
    assert done.exit_code == 0, done.output
    proof.write_text(done.stdout, encoding="utf-8")
    export = folder / "export.jsonl"
    done = run("journal", "export", "--db", db, "--key", key)
    assert done.exit_code == 0, done.output
    export.write_text(done.stdout, encoding="utf-8")
    portfolio = folder / "portfolio.jsonl"
    row = {"id": "L-1", "debtor_id": "D-1", "currency": "CNY", "due_date": "2026-09-01"}
    portfolio.write_text(json.dumps(row) + "\n", encoding="utf-8")
    records = folder / "records.json"
    from arrears.simulate import synthetic_portfolio

    records.write_text(json.dumps(synthetic_portfolio(2, seed=1)), encoding="utf-8")
    scenario = folder / "scenario.yaml"
    scenario.write_text(
        SCENARIO.read_text(encoding="utf-8").replace(
            "policy: ../../../examples/policies/cn_consumer_loan.yaml", f"policy: {CN}"
        ),
        encoding="utf-8",
    )
    # A worker's configuration: an empty store, a policy that sends nothing (no adapters).
    (folder / "quiet.yaml").write_text('id: quiet\nversion: "1"\npacks: [CN]\n', encoding="utf-8")
    from arrears.stores import open_store

    with open_store(str(folder / "worker.db")):
        pass
    config = folder / "arrears.toml"
    config.write_text(
        'policy = "quiet.yaml"\n\n[store]\nurl = "worker.db"\n\n[run]\nevery = "1d"\n',
        encoding="utf-8",
    )
    return Files(
        folder, CN, db, case_id, key, public, checkpoints, proof, export, portfolio, records,
        scenario, config,
    )  # fmt: skip


def fresh(files: Files, name: str) -> Path:
    """A path in the work folder that is not there yet (an output the command makes)."""
    path = files.folder / "out" / name
    path.parent.mkdir(exist_ok=True)
    if path.exists():
        path.unlink()
    return path


#: A moment within the engine's tolerance of the clock (a run's replay of one tick).
NOW = datetime.now(UTC).replace(microsecond=0).isoformat()

#: The valid arguments of each command, by parameter name (a callable: the files in, the value out).
VALID: dict[Command, dict[str, object]] = {
    ("check",): {"policies": lambda f: f.policy},
    ("demo",): {
        "cases": "3",
        "days": "1",
        "db": lambda f: fresh(f, "demo.db"),
        "html": lambda f: fresh(f, "demo.html"),
    },
    ("diagram",): {"policy": lambda f: f.policy},
    ("explain",): {
        "db": lambda f: f.db,
        "case_id": lambda f: f.case_id,
        "policy": lambda f: f.policy,
    },
    ("import",): {"target": lambda f: fresh(f, "import.db"), "portfolio": lambda f: f.portfolio},
    ("journal", "checkpoint"): {
        "db": lambda f: f.db,
        "checkpoints": lambda f: fresh(f, "checkpoints.jsonl"),
        "key_path": lambda f: f.key,
    },
    ("journal", "export"): {"db": lambda f: f.db, "key_path": lambda f: f.key},
    ("journal", "keygen"): {"prefix": lambda f: fresh(f, "keygen")},
    ("journal", "prove"): {
        "case_id": lambda f: f.case_id,
        "checkpoints": lambda f: f.checkpoints,
        "keys": lambda f: f.public,
    },
    ("journal", "verify"): {"db": lambda f: f.db},
    ("journal", "verify-export"): {"export_file": lambda f: f.export, "keys": lambda f: f.public},
    ("journal", "verify-proof"): {"proof_file": lambda f: f.proof, "keys": lambda f: f.public},
    ("outbox", "check"): {"db": lambda f: f.db},
    ("report",): {"db": lambda f: f.db, "html": lambda f: fresh(f, "report.html")},
    ("run",): {
        "config_path": lambda f: f.config,
        "status_file": lambda f: fresh(f, "status.json"),
        "start": lambda f: NOW,
        "until": lambda f: NOW,
    },
    ("tasks",): {"db": lambda f: f.db},
    ("simulate",): {
        "policy": lambda f: f.policy,
        "synthetic": "3",
        "days": "1",
        "db": lambda f: fresh(f, "simulate.db"),
    },
    ("test",): {"paths": lambda f: f.scenario},
    ("tick",): {"db": lambda f: f.db, "policy": lambda f: f.policy, "dry_run": True},
}

#: Parameters that name a store (an SQLite file or a URL).
STORES = {"db", "target"}
#: Parameters that name a file the command writes (a missing one is fine).
OUTPUTS = {"html", "prefix", "status_file", ("journal", "checkpoint", "checkpoints")}
#: Outputs named by a prefix: a folder is a fine prefix (its files go beside it).
PREFIXES = {"prefix"}
#: Parameters that take a time.
TIMES = {"at", "now", "start", "end", "until"}
#: Parameters that take the report's language.
LOCALES = {"locale"}
#: Times that would be recorded as they are, so refused beyond the engine's tolerance.
FUTURE_REFUSED = {("tick", "now")}

#: Statuses other than 2 that a command documents for a bad value (docs/cli.md).
DOCUMENTED: dict[tuple[Command, str, str], int] = {
    # `check` reports a policy file it cannot read or parse as a problem of that policy.
    **{(("check",), "policies", bad): 1 for bad in ("empty", "binary", "shape")},
    # A checkpoint file that does not parse does not hold.
    **{(("journal", "prove"), "checkpoints", bad): 1 for bad in ("empty", "binary", "shape")},
    # An export that does not parse does not hold.
    **{(("journal", "verify-export"), "export_file", b): 1 for b in ("empty", "binary", "shape")},
    # The demo replaces its database file, whatever is in it.
    **{(("demo",), "db", bad): 0 for bad in ("missing", "empty", "binary", "shape")},
    # These create their store: a missing file, or an empty one, is a new SQLite database.
    **{
        (command, name, bad): 0
        for command, name in ((("import",), "target"), (("simulate",), "db"))
        for bad in ("missing",)
    },
    (("import",), "target", "empty"): 0,
}

#: Commands whose misuse is reported on standard output, one problem a line, not as Error:.
REPORTS = {("test",)}


def arguments(command: Command, values: dict[str, object]) -> list[str]:
    """The command line of *command* with *values* by parameter name."""
    line = list(command)
    for param in commands()[command].params:
        if param.name not in values:
            continue
        if values[param.name] is True:  # a flag
            line.append(param.opts[0])
            continue
        value = str(values[param.name])
        if isinstance(param, click.Argument):
            line.append(value)
        else:
            line.extend([param.opts[0], value])
    return line


def valid_values(command: Command, files: Files) -> dict[str, object]:
    return {
        name: value(files) if callable(value) else value for name, value in VALID[command].items()
    }


def bad_files(folder: Path) -> dict[str, Path]:
    """A missing file, a folder, an empty file, binary garbage, a mapping nobody expects."""
    made = {
        "missing": folder / "no-such-file.yaml",
        "folder": folder / "a-folder",
        "empty": folder / "empty.yaml",
        "binary": folder / "garbage.yaml",
        "shape": folder / "shape.yaml",
    }
    made["folder"].mkdir(exist_ok=True)
    made["empty"].write_bytes(b"")
    made["binary"].write_bytes(bytes(range(256)) * 8)
    made["shape"].write_text("[1, 2, 3]\n", encoding="utf-8")  # JSON and YAML: a list
    return made


def bad_stores(folder: Path) -> dict[str, str]:
    files = bad_files(folder)
    return {
        "missing": str(files["missing"]),
        "folder": str(files["folder"]),
        "empty": str(files["empty"]),
        "binary": str(files["binary"]),
        "shape": str(files["shape"]),
        "url": "mysql://user@localhost/arrears",
        "unreachable": "postgresql://arrears@127.0.0.1:9/none",
    }


BAD_TIMES = {
    "not-a-time": "yesterday",
    "bad-date": "2026-02-30T09:00:00+08:00",
    "naive": "2026-09-01T09:30:00",
    "future": "2100-01-01T09:30:00+08:00",
    # The last and first moments the parser takes: in no time zone's calendar (converted
    # to the debtor's, they overflow), refused by every command, recorded or not.
    "calendar-end": "9999-12-31T23:59:59-12:00",
    "calendar-start": "0001-01-01T00:00:00+14:00",
}
FILE_KINDS = ("missing", "folder", "empty", "binary", "shape")
STORE_KINDS = (*FILE_KINDS, "url", "unreachable")


@dataclass(frozen=True)
class Misuse:
    command: Command
    param: str
    bad: str

    def __str__(self) -> str:
        return f"{' '.join(self.command)} {self.param}={self.bad}"


def misuses() -> Iterator[Misuse]:
    """Every bad value for every parameter of every command, by the parameter's kind."""
    for command, cmd in commands().items():
        for param in cmd.params:
            name = param.name
            assert name is not None
            if name in STORES:
                kinds: tuple[str, ...] = STORE_KINDS
            elif name in TIMES:  # a future moment is misuse only where it would be recorded
                future = (*command, name) in FUTURE_REFUSED
                kinds = tuple(kind for kind in BAD_TIMES if kind != "future" or future)
            elif name in PREFIXES:
                kinds = ("no-folder",)
            elif name in LOCALES:
                kinds = ("unknown",)
            elif name in OUTPUTS or (*command, name) in OUTPUTS:
                kinds = ("folder", "no-folder")
            elif isinstance(param.type, click.Path):
                kinds = FILE_KINDS
            else:
                continue
            for bad in kinds:
                yield Misuse(command, name, bad)


def test_every_command_is_covered() -> None:
    """Each command found in the group has its valid arguments here."""
    assert sorted(commands()) == sorted(VALID)


@pytest.mark.parametrize("command", sorted(VALID), ids=" ".join)
def test_the_valid_arguments_are_valid(command: Command, files: Files) -> None:
    """The baseline each misuse changes one value of: it runs and exits 0."""
    done = run(*arguments(command, valid_values(command, files)))
    assert done.exception is None or isinstance(done.exception, SystemExit), done.output
    assert done.exit_code == 0, done.output


def one_line_error(done: Result) -> str:
    """The error's line: the last of standard error, and the only one that says Error.

    Lines before it are click's usage lines, or the problems of a policy file
    that does not load (``file:line: field: message``).
    """
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, f"nothing on standard error; stdout: {done.stdout!r}"
    said = [line for line in lines if line.startswith(("Error:", "arrears "))]
    assert said == [lines[-1]], done.stderr
    return said[0]


@pytest.mark.parametrize("misuse", list(misuses()), ids=str)
def test_misuse_exits_cleanly(misuse: Misuse, files: Files, tmp_path: Path) -> None:
    values = valid_values(misuse.command, files)
    if misuse.param in STORES:
        value: object = bad_stores(tmp_path)[misuse.bad]
    elif misuse.param in TIMES:
        value = BAD_TIMES[misuse.bad]
    elif misuse.param in LOCALES:
        value = "fr-FR"
    elif misuse.bad == "no-folder":
        value = tmp_path / "no-such-folder" / "out.file"
    else:
        value = bad_files(tmp_path)[misuse.bad]
    values[misuse.param] = value
    done = run(*arguments(misuse.command, values))
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        raise AssertionError(f"{misuse}: raised {done.exception!r}") from done.exception
    expected = DOCUMENTED.get((misuse.command, misuse.param, misuse.bad), 2)
    assert done.exit_code == expected, f"{misuse}: {output}"
    if expected == 2 and misuse.command in REPORTS:
        assert str(value) in done.output, done.output  # each problem names its file
    elif expected == 2:
        line = one_line_error(done)
        assert len(line) > len("Error: ") + 10, line
        if misuse.param in LOCALES:  # the value, and the languages there are
            assert "'fr-FR'" in line, line
            assert "(one of en, zh-CN)" in line, line
        if misuse.param in TIMES:  # the option, and the time given
            (option,) = (
                p.opts[0] for p in commands()[misuse.command].params if p.name == misuse.param
            )
            assert f"for {option}:" in line, line
            assert str(value) in line, line


@pytest.fixture
def database() -> Iterator[str]:
    """A PostgreSQL database of its own (the commands use the default schema), dropped after."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    from _postgres import postgres_url  # skips without ARREARS_TEST_POSTGRES, fails unanswered

    url = postgres_url()
    name = f"misuse_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_simulate_refuses_a_used_database(files: Files, database: str) -> None:
    """Simulate writes a new store: one with cases in it is refused, PostgreSQL as SQLite."""
    done = run("import", "--db", database, files.portfolio)
    assert done.exit_code == 0, done.output
    for url, said in ((database, "the database holds 1 cases"), (str(files.db), "exists")):
        done = run("simulate", CN, "--synthetic", "2", "--days", "1", "--db", url)
        assert "Traceback" not in done.output
        assert done.exception is None or isinstance(done.exception, SystemExit), repr(
            done.exception
        )
        assert done.exit_code == 2, done.output
        line = one_line_error(done)
        assert "--db" in line, line
        assert said in line, line


def test_simulate_runs_the_flat_rows_import_reads(files: Files, tmp_path: Path) -> None:
    """The flat JSON Lines of `import` run in a simulation; a bad row is refused in one line."""
    done = run("simulate", CN, "--portfolio", files.portfolio, "--days", "1", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["overall"]["cases"] == 1
    bad = tmp_path / "bad.jsonl"
    row = {"id": "L-1", "debtor_id": "D-1", "currency": "CNY", "due_date": "2026-09-01"}
    bad.write_text(json.dumps({**row, "principal": "1e5"}) + "\n", encoding="utf-8")
    done = run("simulate", CN, "--portfolio", bad, "--days", "1")
    assert done.exit_code == 2, done.output
    line = one_line_error(done)
    assert "--portfolio: portfolio[0].principal: got <hidden>, expected written with an" in line
    whole = tmp_path / "whole.jsonl"
    whole.write_text(json.dumps({"id": "L-1", "debtor": {"id": "D-1"}}) + "\n", encoding="utf-8")
    done = run("simulate", CN, "--portfolio", whole, "--days", "1")
    assert done.exit_code == 2, done.output
    assert "portfolio[0].balance: got nothing, expected a value: the field is required" in (
        one_line_error(done)
    )


def test_explain_at_the_end_of_the_calendar_is_misuse(tmp_path: Path) -> None:
    """The last moment the parser takes is in no time zone's calendar: converted to the
    debtor's (Shanghai), it overflowed; refused naming --at.  The last moment taken is
    explained."""
    from arrears import Engine, SettableClock
    from arrears.stores import SQLiteStore

    opened = datetime(2026, 10, 19, 14, 0, tzinfo=UTC)
    db = tmp_path / "arrears.db"
    with SQLiteStore(db) as store:
        Engine(store=store, clock=SettableClock(opened)).open_case(
            {
                "id": "L-1",
                "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
                "balance": {"currency": "CNY", "principal": "1000.00"},
                "due_date": "2026-07-01",
            },
            at=opened,
        )
    arguments = ["explain", "--db", str(db), "--policy", str(CN)]
    done = run(*arguments, "--at", "9999-12-31T23:59:59-12:00", "L-1")
    assert "Traceback" not in done.output
    assert done.exit_code == 2, done.output
    line = one_line_error(done)
    assert "for --at:" in line, line
    assert "from 0001-01-02T00:00:00+00:00 to 3000-01-01T00:00:00+00:00" in line, line
    done = run(*arguments, "--at", "3000-01-01T00:00:00+00:00", "L-1")
    assert done.exit_code == 0, done.output
    assert "L-1" in done.stdout
