"""Tampering by whoever can write the database, found against a signed checkpoint.

A store holds seven cases.  A checkpoint of every chain's head is signed and
kept outside the database; then the journal is attacked with SQL, as a
database writer would, each attack keeping the store self-consistent (the
head in the ``cases`` row moved to match, the stored case rewritten to be its
new chain's replay):

- an entry edited and every entry after it sealed again;
- the tail of a chain cut off;
- a whole chain replaced by another, sealed from its first entry;
- a whole case deleted;
- the stored case edited beside its journal (stage, principal);
- a well-formed entry appended.

Plain ``verify`` passes the first four (that is the weakness the checkpoint
closes); ``verify`` against the checkpoint names the case and the kind of
damage.  An appended entry is beyond the checkpoint by design: it is judged
by replay, which checks each transition's edge and the roles its actor had.

On SQLite the attacker may do anything to the file.  On PostgreSQL the
application's role has the grants ``docs/stores.md`` documents: it may not
update or delete journal rows, nor delete cases, and the tests check it is
refused; whoever owns the tables (a DBA) may, and is caught by the checkpoint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

import _postgres
from arrears import (
    Actor,
    Balance,
    Case,
    Channel,
    ContactPoint,
    Debtor,
    Engine,
    JournalCorrupted,
    JournalEntry,
    Outcome,
    SettableClock,
)
from arrears.checkpoints import CheckpointLog, append_checkpoint, read_checkpoints
from arrears.events import replay
from arrears.journal import seal
from arrears.signing import Key, generate_ed25519_key
from arrears.store import Store

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)
AGENT = Actor("agent-7", frozenset({"agent"}))

EDITED, TRUNCATED, REPLACED, DELETED, BODY, FORGED, QUIET = (
    "A-EDIT",
    "B-TRUNC",
    "C-REPLACE",
    "D-DELETE",
    "E-BODY",
    "F-LEGAL",
    "G-QUIET",
)
CASE_IDS = (EDITED, TRUNCATED, REPLACED, DELETED, BODY, FORGED, QUIET)

_PRIVATE, _PUBLIC = generate_ed25519_key()
SIGNING = Key.from_bytes(_PRIVATE)
VERIFYING = Key.from_bytes(_PUBLIC)


def _case(case_id: str) -> Case:
    return Case(
        id=case_id,
        debtor=Debtor(id=f"D-{case_id}", timezone=ZoneInfo("Asia/Shanghai"), locale="zh-CN"),
        contacts=(ContactPoint(id="mobile", channel=Channel.SMS, address="+8613800000009"),),
        balance=Balance(currency="CNY", principal="5000", interest="120.50"),
        due_date=date(2025, 10, 20),
    )


def populate(store: Store) -> None:
    """Seven cases: six with five entries (opened, notified, three calls), one only opened."""
    clock = SettableClock(START)
    engine = Engine(store=store, clock=clock)
    for case_id in CASE_IDS:
        engine.open_case(_case(case_id))
    for case_id in CASE_IDS[:-1]:
        engine.fire(case_id, "notify")
        for outcome in (Outcome.NO_ANSWER, Outcome.BUSY, Outcome.NO_ANSWER):
            clock.advance(minutes=30)
            engine.record_interaction(case_id, Channel.CALL, outcome, actor=AGENT)


# -- the database, by hand ----------------------------------------------------------------------


@dataclass
class Database:
    """One store's database, written with SQL as an attacker would.

    ``app`` runs statements as the application's role (on PostgreSQL, the
    role with the documented grants; on SQLite there are no roles), ``dba``
    as the tables' owner.
    """

    backend: str
    open_store: Callable[[], Any]
    app: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
    dba: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]

    def at(self, moment: datetime) -> Any:
        """A time as the journal's ``at`` column takes it."""
        return moment.isoformat() if self.backend == "sqlite" else moment

    def chain(self, case_id: str) -> list[JournalEntry]:
        rows = self.dba(
            "SELECT case_id, seq, kind, at, body, hash FROM journal WHERE case_id = ? ORDER BY seq",
            (case_id,),
        )
        return [
            JournalEntry(
                row[0],
                row[1],
                row[2],
                row[3] if isinstance(row[3], datetime) else datetime.fromisoformat(row[3]),
                bytes(row[4]),
                row[5],
            )
            for row in rows
        ]

    def move_head(self, run: Callable[..., Any], entries: Sequence[JournalEntry]) -> None:
        """The ``cases`` row set to match *entries*: head, version, and the body as their replay."""
        case = replay(entries)
        run(
            "UPDATE cases SET head_seq = ?, head_hash = ?, version = ?, body = ? WHERE id = ?",
            (entries[-1].seq, entries[-1].hash, case.version, case.model_dump_json(), case.id),
        )

    def rewrite(self, run: Callable[..., Any], entries: Sequence[JournalEntry]) -> None:
        """Every entry of *entries* written over the row of its number."""
        for entry in entries:
            run(
                "UPDATE journal SET kind = ?, at = ?, body = ?, hash = ? "
                "WHERE case_id = ? AND seq = ?",
                (entry.kind, self.at(entry.at), entry.body, entry.hash, entry.case_id, entry.seq),
            )

    def insert(self, run: Callable[..., Any], entry: JournalEntry) -> None:
        run(
            "INSERT INTO journal (case_id, seq, kind, at, body, hash) VALUES (?, ?, ?, ?, ?, ?)",
            (entry.case_id, entry.seq, entry.kind, self.at(entry.at), entry.body, entry.hash),
        )


def resealed(
    entries: Sequence[JournalEntry], start: int, change: dict[str, Any]
) -> list[JournalEntry]:
    """*entries* with entry *start*'s data updated by *change*, it and every later one re-sealed."""
    out = list(entries[:start])
    prev = out[-1].hash if out else entries[0].prev
    for entry in entries[start:]:
        data = {**entry.data, **change} if entry.seq == start else entry.data
        forged = seal(entry.case_id, entry.seq, entry.at, entry.kind, data, prev)
        out.append(forged)
        prev = forged.hash
    return out


def documented_grants(schema: str, role: str) -> list[str]:
    """The GRANT statements docs/stores.md gives the application's role, for *schema* and *role*."""
    text = (ROOT / "docs" / "stores.md").read_text(encoding="utf-8")
    grants = re.findall(r"^GRANT [^;]+ TO collector;$", text, flags=re.MULTILINE)
    assert len(grants) >= 4, "docs/stores.md lists the application's grants"
    return [re.sub(r"\barrears\b", schema, grant).replace("collector", role) for grant in grants]


@contextmanager
def _populated(stored: _postgres.Database) -> Iterator[Database]:
    """*stored* holding the seven cases, with its SQL by role: on PostgreSQL the application's
    role given the grants docs/stores.md documents, and dropped afterwards."""
    populate(stored.open())
    if stored.schema is None:
        yield Database(stored.kind, stored.connect, stored.sql, stored.sql)
        return
    import psycopg

    url, schema = stored.target, stored.schema
    role = f"{schema}_app"
    stored.sql(f"CREATE ROLE {role} NOLOGIN")
    try:
        for grant in documented_grants(schema, role):
            stored.sql(grant)

        def app(query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"SET search_path TO {schema}")
                conn.execute(f"SET ROLE {role}")
                cursor = conn.execute(query.replace("?", "%s"), tuple(params))  # type: ignore[arg-type]
                return cursor.fetchall() if cursor.description else []

        yield Database(stored.kind, stored.connect, app, stored.sql)
    finally:
        stored.sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        stored.sql(f"DROP OWNED BY {role}")
        stored.sql(f"DROP ROLE {role}")


@pytest.fixture
def database(sql_database: _postgres.Database) -> Iterator[Database]:
    """A populated store of each backend, with its SQL by role."""
    with _populated(sql_database) as populated:
        yield populated


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """The populated SQLite store (``arrears.db`` in the test's folder)."""
    with _postgres.database("sqlite", tmp_path) as stored, _populated(stored) as populated:
        yield populated


@pytest.fixture
def checkpoints(database: Database, tmp_path: Path) -> Path:
    """The checkpoint file, holding one checkpoint of the untouched store."""
    path = tmp_path / "checkpoints.jsonl"
    with database.open_store() as store:
        append_checkpoint(path, Engine(store=store).checkpoint(SIGNING))
    return path


def _log(path: Path) -> CheckpointLog:
    with path.open(encoding="utf-8") as lines:
        return read_checkpoints(lines, VERIFYING)


def verify(database: Database, path: Path | None = None) -> list[tuple[str, str]]:
    """``(case, problem)`` of every problem a fresh store's `Engine.verify` reports."""
    anchors = None if path is None else _log(path).anchors()
    with database.open_store() as store:
        problems = Engine(store=store).verify(anchors)
    return [(problem.case_id, problem.problem) for problem in problems]


# -- the attacks --------------------------------------------------------------------------------


def edit_and_reseal(database: Database, run: Callable[..., Any]) -> None:
    """A call's outcome changed to a conversation, every entry after it sealed again."""
    chain = database.chain(EDITED)
    forged = resealed(chain, 2, {"outcome": "conversation"})
    database.rewrite(run, forged[2:])
    database.move_head(run, forged)


def truncate_tail(database: Database, run: Callable[..., Any]) -> None:
    """The last two entries deleted."""
    chain = database.chain(TRUNCATED)
    run("DELETE FROM journal WHERE case_id = ? AND seq > ?", (TRUNCATED, chain[-3].seq))
    database.move_head(run, chain[:-2])


def replace_chain(database: Database, run: Callable[..., Any]) -> None:
    """Another chain of the same length: opened with a principal of 50, sealed from there."""
    chain = database.chain(REPLACED)
    snapshot = orjson.loads(chain[0].data["case"])
    snapshot["balance"]["principal"] = "50.00"
    forged = resealed(chain, 0, {"case": orjson.dumps(snapshot).decode()})
    database.rewrite(run, forged)
    database.move_head(run, forged)


def delete_case(database: Database, run: Callable[..., Any]) -> None:
    """The case, its chain and its review gone."""
    run("DELETE FROM journal WHERE case_id = ?", (DELETED,))
    run("DELETE FROM reviews WHERE case_id = ?", (DELETED,))
    run("DELETE FROM cases WHERE id = ?", (DELETED,))


def edit_stored_case(database: Database, run: Callable[..., Any]) -> None:
    """The stored case (not its journal) moved to litigation with a principal of 50."""
    body = orjson.loads(run("SELECT body FROM cases WHERE id = ?", (BODY,))[0][0])
    body["stage"] = "legal.litigation"
    body["balance"]["principal"] = "50.00"
    run("UPDATE cases SET body = ? WHERE id = ?", (orjson.dumps(body).decode(), BODY))


def append_start_legal(database: Database, run: Callable[..., Any]) -> None:
    """A well-formed ``start_legal`` appended, fired by an agent who holds no legal role."""
    chain = database.chain(FORGED)
    notify = next(entry for entry in chain if entry.kind == "transition")
    newest = chain[-1]
    data = {
        **notify.data,
        "trigger": "start_legal",
        "source": notify.data["dest"],
        "dest": "legal.demand_letter",
        "actor": AGENT.id,
        "roles": sorted(AGENT.roles),
    }
    forged = seal(FORGED, newest.seq + 1, newest.at, "transition", data, newest.hash)
    database.insert(run, forged)
    database.move_head(run, [*chain, forged])


def append_interaction(database: Database, run: Callable[..., Any]) -> None:
    """A well-formed call appended, as the application itself would record one."""
    chain = database.chain(FORGED)
    newest = chain[-1]
    data = {**chain[-1].data}
    forged = seal(FORGED, newest.seq + 1, newest.at, "interaction", data, newest.hash)
    database.insert(run, forged)
    database.move_head(run, [*chain, forged])


#: Each attack on the journal, the case it names, and the problem the checkpoint reports.
ANCHORED_ATTACKS = [
    pytest.param(edit_and_reseal, EDITED, "rewritten", id="edit-and-reseal"),
    pytest.param(truncate_tail, TRUNCATED, "truncated", id="truncate-tail"),
    pytest.param(replace_chain, REPLACED, "rewritten", id="replace-chain"),
    pytest.param(delete_case, DELETED, "removed", id="delete-case"),
]


# -- the tests ----------------------------------------------------------------------------------


def test_the_untouched_store_verifies_against_its_checkpoint(
    database: Database, checkpoints: Path
) -> None:
    """Before any attack, the store holds every checkpointed head; the checkpoint holds all."""
    assert verify(database) == []
    assert verify(database, checkpoints) == []
    anchors = _log(checkpoints).anchors()
    assert sorted(anchors.heads) == sorted(CASE_IDS)
    assert anchors.heads[QUIET][0] == 1
    assert anchors.heads[EDITED][0] == 5


@pytest.mark.parametrize(("attack", "case_id", "problem"), ANCHORED_ATTACKS)
def test_an_attack_by_the_tables_owner_is_found_against_the_checkpoint(
    database: Database,
    checkpoints: Path,
    attack: Callable[[Database, Callable[..., Any]], None],
    case_id: str,
    problem: str,
) -> None:
    """Each attack passes plain verify, and fails against the checkpoint naming the case."""
    attack(database, database.dba)
    assert verify(database) == [], "the attack left the store self-consistent"
    assert verify(database, checkpoints) == [(case_id, problem)]


@pytest.mark.parametrize(("attack", "case_id", "problem"), ANCHORED_ATTACKS)
def test_an_attack_on_sqlite_fails_journal_verify_with_checkpoints(
    sqlite_database: Database,
    tmp_path: Path,
    attack: Callable[[Database, Callable[..., Any]], None],
    case_id: str,
    problem: str,
) -> None:
    """``arrears journal verify --checkpoints --key``: exit 1, naming the case; OK without them."""
    from click.testing import CliRunner

    from arrears.cli import main

    database = sqlite_database
    db = str(tmp_path / "arrears.db")
    key, public, path = tmp_path / "signing.key", tmp_path / "signing.pub", tmp_path / "cp.jsonl"
    key.write_bytes(_PRIVATE)
    public.write_bytes(_PUBLIC)
    runner = CliRunner()
    taken = runner.invoke(
        main, ["journal", "checkpoint", "--db", db, "--checkpoints", str(path), "--key", str(key)]
    )
    assert taken.exit_code == 0, taken.output
    assert taken.output.startswith("checkpoint #1 of ")
    attack(database, database.dba)
    plain = runner.invoke(main, ["journal", "verify", "--db", db])
    assert plain.exit_code == 0
    assert plain.output.startswith("OK: ")
    anchored = runner.invoke(
        main,
        ["journal", "verify", "--db", db, "--checkpoints", str(path), "--key", str(public)],
    )
    assert anchored.exit_code == 1
    assert anchored.output.startswith(f"TAMPERED: case {case_id!r} at ")
    assert f": {problem} (" in anchored.output


def test_the_stored_case_edited_is_found_with_and_without_the_checkpoint(
    database: Database, checkpoints: Path
) -> None:
    """Stage set to litigation and principal to 50 in the ``cases`` row: the replay differs.

    The application's own role may do this (it updates its cases); replay catches it.
    """
    edit_stored_case(database, database.app)
    assert verify(database) == [(BODY, "changed")]
    assert verify(database, checkpoints) == [(BODY, "changed")]


def test_a_forged_interaction_appended_is_beyond_the_checkpoint(
    database: Database, checkpoints: Path
) -> None:
    """A well-formed entry appended after the checkpoint, head moved, is not found.

    This is the limit the threat model states: the checkpoint pins what was
    there when it was taken; an entry after it that the application could
    have recorded itself looks like one.  The application's role may do it.
    """
    append_interaction(database, database.app)
    assert verify(database, checkpoints) == []
    with database.open_store() as store:
        assert len(store.entries(FORGED)) == 6


def test_a_forged_start_legal_by_an_agent_is_found_by_replay(
    database: Database, checkpoints: Path
) -> None:
    """A ``start_legal`` appended for an agent without the legal officer's role is named.

    The checkpoint cannot see it (the chain still holds the checkpointed
    head); replay judges the transition's edge and the journaled roles of
    whoever fired it.  The application's role may append it.
    """
    append_start_legal(database, database.app)
    problems = verify(database, checkpoints)
    assert problems, "an agent's start_legal, appended after the checkpoint, verified"
    assert {case_id for case_id, _ in problems} == {FORGED}


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("hold_released", {"hold_id": "h", "released_at": "not a time", "actor": "a"}),
        ("payment", {"applied": ["not", "a", "mapping"]}),
        ("review", {"next_review_at": "x"}),
        ("opened", {"case": "{}", "actor": "a", "roles": [], "workflow": "w"}),
    ],
)
def test_an_entry_whose_data_cannot_be_applied_is_named_and_the_rest_verified(
    database: Database, checkpoints: Path, kind: str, data: dict[str, Any]
) -> None:
    """One sealed entry of nonsense, head moved: its case is ``malformed``, the others checked.

    The application's role may append it; before, replay raised a bare error
    and `verify` stopped at that case.
    """
    chain = database.chain(FORGED)
    newest = chain[-1]
    forged = seal(FORGED, newest.seq + 1, newest.at, kind, data, newest.hash)
    database.insert(database.app, forged)
    database.app(
        "UPDATE cases SET head_seq = ?, head_hash = ? WHERE id = ?",
        (forged.seq, forged.hash, FORGED),
    )
    edit_stored_case(database, database.app)  # a case after it is still judged
    assert set(verify(database, checkpoints)) == {(BODY, "changed"), (FORGED, "malformed")}


def test_a_case_stored_without_a_journal_is_named(database: Database, checkpoints: Path) -> None:
    """A ``cases`` row inserted beside the engine (a case born in litigation, no entry)."""
    with database.open_store() as store:
        body = store.get(QUIET).model_copy(update={"id": "GHOST", "stage": "legal.litigation"})
    database.app(
        "INSERT INTO cases (id, version, head_seq, head_hash, body) VALUES (?, ?, ?, ?, ?)",
        ("GHOST", 0, -1, "0" * 64, body.model_dump_json()),
    )
    assert verify(database) == [("GHOST", "removed")]
    assert ("GHOST", "removed") in verify(database, checkpoints)
    with database.open_store() as store, pytest.raises(JournalCorrupted):
        Engine(store=store).checkpoint(SIGNING, _log(checkpoints))


def test_the_next_checkpoint_refuses_a_journal_that_no_longer_holds_the_last(
    database: Database, checkpoints: Path
) -> None:
    """A chain sealed again between two checkpoints is never anchored by the second."""
    edit_and_reseal(database, database.dba)
    with database.open_store() as store, pytest.raises(JournalCorrupted) as refused:
        Engine(store=store).checkpoint(SIGNING, _log(checkpoints))
    assert [(p.case_id, p.problem) for p in refused.value.problems] == [(EDITED, "rewritten")]


def test_a_purge_is_named_in_the_next_checkpoint(database: Database, checkpoints: Path) -> None:
    """A case deleted at the end of its retention is found until a checkpoint names it purged."""
    delete_case(database, database.dba)
    assert verify(database, checkpoints) == [(DELETED, "removed")]
    with database.open_store() as store:
        engine = Engine(store=store)
        with pytest.raises(JournalCorrupted):
            engine.checkpoint(SIGNING, _log(checkpoints))
        second = engine.checkpoint(SIGNING, _log(checkpoints), purged=[DELETED])
    append_checkpoint(checkpoints, second)
    assert second.purged == (DELETED,)
    assert second.statement["cases"] == len(CASE_IDS) - 1
    assert verify(database, checkpoints) == []


# -- PostgreSQL: what the application's role may not do ----------------------------------------


@pytest.fixture
def postgres(postgres_database: _postgres.Database) -> Iterator[Database]:
    with _populated(postgres_database) as populated:
        yield populated


REFUSED = [
    pytest.param("UPDATE journal SET body = body WHERE case_id = ?", id="update-journal"),
    pytest.param("DELETE FROM journal WHERE case_id = ?", id="delete-journal"),
    pytest.param("DELETE FROM cases WHERE id = ?", id="delete-case"),
    pytest.param("TRUNCATE journal", id="truncate-journal"),
]


@pytest.mark.parametrize("query", REFUSED)
def test_the_application_role_may_not_change_or_delete_evidence(
    postgres: Database, query: str
) -> None:
    """Under the documented grants, editing or deleting journal rows, or a case, is refused."""
    import psycopg

    params = (EDITED,) if "?" in query else ()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        postgres.app(query, params)
    assert len(postgres.chain(EDITED)) == 5


@pytest.mark.parametrize(
    "attack",
    [edit_and_reseal, truncate_tail, replace_chain, delete_case],
    ids=lambda attack: attack.__name__,
)
def test_the_anchored_attacks_need_more_than_the_application_role(
    postgres: Database, attack: Callable[[Database, Callable[..., Any]], None]
) -> None:
    """Each attack the checkpoint is for is refused to the application's role on PostgreSQL."""
    import psycopg

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        attack(postgres, postgres.app)
    assert verify(postgres) == []
