"""Attacks on the newest promises, the defects they found still open (second file).

Each test tries to break one promise of the docs as a regulator's examiner or an
attacker with database access would: Washington's rules read against RCW
19.16.250 (a written message that gives no licensed address, one that gives a
real one), phone numbers given in E.164.  A test marked ``xfail(strict=True)``
shows a defect still open: its reason says what goes wrong, and it fails the
suite the day the defect is fixed, when it moves to the test file of its subject
as an ordinary test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from arrears import Engine, InvalidInput, MemoryStore, SettableClock
from arrears.scenarios import run_scenario

_MIRANDA = (
    "This communication is from a debt collector. This is an attempt to collect a debt "
    "and any information obtained will be used for that purpose."
)


def _wa_letter(tmp_path: Path, text: str, verdict: str) -> bool:
    """Whether a letter with *text* to a Washington debtor gets *verdict* (``deny`` naming
    US-WA-NOTICE, or ``allow``) in a scenario of the US-WA pack."""
    reasons = "\n    rules: [US-WA-NOTICE]" if verdict == "deny" else ""
    path = tmp_path / "notice.yaml"
    path.write_text(
        f"""name: a letter judged by US-WA-NOTICE
description: RCW 19.16.250(8)(a)
rules: [US-WA]
case:
  id: WA-NOTICE-X
  timezone: America/Los_Angeles
  currency: USD
  balance: "980.00"
  due_date: 2026-07-01
  contacts:
    - {{id: home, channel: letter, party: debtor, address: "410 Pine Street, Spokane, WA 99201"}}
events:
  - {{at: 2026-10-01T09:00:00-07:00, type: notice_sent, kind: validation}}
expect:
  - at: 2026-10-08T10:00:00-07:00
    contact: {{channel: letter, contact: home, text: "{text}"}}
    verdict: {verdict}{reasons}
""",
        encoding="utf-8",
    )
    return run_scenario(path).passed


@pytest.mark.xfail(
    strict=True,
    reason=(
        "a number given in E.164 is kept as written, its length unchecked: '+1212555012' "
        "(nine digits after +1, no possible number) and '+861380000000' (a Chinese mobile a "
        "digit short) open a case, where a national number that is no valid number in the "
        "debtor's country is refused; '+86 138 0000 000X' is kept as '+861380000000', its X "
        "read as an empty extension"
    ),
)
@pytest.mark.parametrize("address", ["+1212555012", "+861380000000", "+86 138 0000 000X"])
def test_an_e164_number_nobody_has_is_refused(address: str) -> None:
    engine = Engine(store=MemoryStore(), clock=SettableClock(datetime(2026, 10, 1, tzinfo=UTC)))
    case = {
        "id": "L-1",
        "debtor": {"id": "D-1", "timezone": "America/New_York"},
        "contacts": [{"id": "m", "channel": "sms", "address": address}],
        "balance": {"currency": "USD", "principal": "100.00"},
        "due_date": "2026-09-01",
    }
    with pytest.raises(InvalidInput, match=r"^contacts\[0\]\.address:"):
        engine.open_case(case)
