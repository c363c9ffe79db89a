"""`verify` on chains with many reversals: each one judged, the chain read once.

`arrears.reversals.ChainReading` reads a chain's prefix once for all of its
reversals (what fell due, the fold `due_date_without` makes); these tests hold it
to the answers of reading the prefix again for each reversal, and check that a
forged reversal among many is still found.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

from arrears import JournalCorrupted
from arrears.events import replay
from arrears.journal import GENESIS, JournalEntry, seal
from arrears.reversals import ChainReading, due_date_without, fell_due
from test_reversal_due_dates import STEPS, as_older_engines_wrote, run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from verify_reversals import build


def forged_at(chain: list[JournalEntry], seq: int, **changes: object) -> list[JournalEntry]:
    """*chain* with the data of entry *seq* changed by *changes*, every entry from it on
    sealed again as a forger who can hash would."""
    out = list(chain[:seq])
    for entry in chain[seq:]:
        data = dict(entry.data)
        if entry.seq == seq:
            data.update(changes)
        previous = out[-1].hash if out else GENESIS
        out.append(seal(entry.case_id, entry.seq, entry.at, entry.kind, data, previous))
    return out


def problems(engine: object, chain: list[JournalEntry]) -> list[str]:
    """The problems replaying *chain* under the engine's workflow finds (none: ``[]``)."""
    try:
        replay(chain, None, check=engine.workflow.entry_problem)  # type: ignore[attr-defined]
    except JournalCorrupted as err:
        return [problem.detail for problem in err.problems]
    return []


class TestManyReversals:
    def test_a_forged_reversal_among_sixty_is_found(self) -> None:
        """Sixty payments made and returned on one case: the chain verifies; the same
        chain with the thirtieth reversal owing an extra 5.00 again, sealed anew from
        it on, is refused at that reversal and nowhere else."""
        engine, case_id = build(60)
        assert engine.verify() == []
        chain = list(engine.history(case_id))
        reversals = [entry for entry in chain if entry.kind == "payment_reversed"]
        assert len(reversals) == 60
        target = reversals[29]
        restored = dict(target.data["restored"])
        restored["fees"] = "5.00"
        found = problems(engine, forged_at(chain, target.seq, restored=restored))
        assert len(found) == 1
        assert found[0].startswith(f"seq {target.seq}: a reversal records ")
        assert problems(engine, chain) == []  # the reading of the forged chain is not kept

    def test_a_forged_due_date_on_an_older_engines_chain_is_found(self) -> None:
        """The same on a chain as the engines before aging wrote it (the due date is
        judged by folding the chain): every reversal verifies, and one whose due date
        is moved a day on is refused."""
        engine, case_id = build(40)
        chain = as_older_engines_wrote(engine.history(case_id))
        assert problems(engine, chain) == []
        target = [entry for entry in chain if entry.kind == "payment_reversed"][-1]
        later = date.fromisoformat(target.data["due_date"]).replace(day=28).isoformat()
        found = problems(engine, forged_at(chain, target.seq, due_date=later))
        assert found == [
            f"seq {target.seq}: a reversal records due date {later!r}, but undoing the "
            f"payment leaves the first missed due date at {target.data['due_date']!r}"
        ]

    def test_the_same_sequence_changed_in_place_is_read_again(self) -> None:
        """A list replayed, then changed in place and replayed again: the second replay
        reads the list as it now is, not what the first one read."""
        engine, case_id = build(3)
        chain = list(engine.history(case_id))
        assert problems(engine, chain) == []
        last = [entry for entry in chain if entry.kind == "payment_reversed"][-1]
        restored = {**last.data["restored"], "fees": "5.00"}
        chain[:] = forged_at(chain, last.seq, restored=restored)
        assert len(problems(engine, chain)) == 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
@example(steps=[("pay", 1000_00), ("due", 0), ("reverse", 0)])
@example(steps=[("pay", 1500_00), ("due", 0), ("pay", 1000_00), ("due", 0), ("reverse", 1)])
def test_the_reading_gives_what_reading_again_gives(steps: list[tuple[str, int]]) -> None:
    """At every reversal of any chain of payments, instalments and reversals (as written
    now, and as the engines before aging wrote it), the reading made once gives what
    fell due and the due date without the payment that reading the prefix again gives."""
    engine, _ = run(steps, frozenset())
    written = list(engine.history("LN-M"))
    for chain in (written, as_older_engines_wrote(written)):
        reading = ChainReading(chain)
        for entry in chain:
            if entry.kind != "payment_reversed":
                continue
            history = chain[: entry.seq]
            reading.advance(entry.seq)
            assert reading.fell == fell_due(history)
            payment = chain[entry.data["payment_seq"]]
            case = replay(history)
            assert reading.due_date_without(case, payment) == due_date_without(
                case, history, payment
            )


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
