"""Simulation: a policy run over a portfolio for N days, with debtors and agents who behave.

    >>> from arrears.simulate import Simulation, synthetic_portfolio   # doctest: +SKIP
    >>> sim = Simulation(load_policy("cn_consumer_loan.yaml"), seed=7)  # doctest: +SKIP
    >>> result = sim.run(synthetic_portfolio(2_000, seed=7), days=120)  # doctest: +SKIP
    >>> print(result.kpis().table())                                     # doctest: +SKIP

The engine does everything exactly as in production: the clock moves an hour
at a time, and every hour `Engine.tick` reviews the cases that are due (so
every message the policy sends is judged by the compliance packs, journaled in
the outbox and handed to a channel adapter).  Around it, two models act:

* **Debtors** (`Behaviour`, one `Profile` per kind of debtor): whether a
  call is answered, by whom, whether a conversation ends in a promise, whether
  the promise is kept, whether a reminder is followed by a payment, and how
  often a debtor pays unprompted; every chance fades as days past due grow.
* **Agents** (`Workforce`): people who work the tasks the policy opens, in
  shifts, a number of dials an hour.  Every dial and visit is first judged by
  `Engine.judge_contact`; a denied one is not made (the denial is journaled
  with its rules).  A call's outcome is drawn from the debtor model and
  recorded with `Engine.record_interaction`, a promise with
  `Engine.record_promise`, payments with `Engine.record_payment`, and the
  task is closed with `Engine.complete_task`.

Everything random is drawn from one `random.Random(seed)`, in a fixed order,
so a run with the same portfolio, policy and seed gives the same journal
(and the same KPIs) every time.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from ._portfolio import REPEATED, repeated_key
from .case import Case, check_debtor_zone
from .channels import DeliveryReport, OutboundMessage, SendResult
from .clock import SettableClock, require_aware
from .engine import Engine
from .errors import HIDDEN, InvalidInput, invalid_input
from .guards import Actor
from .journal import Head, JournalEntry
from .kpi import DEFAULT_COSTS, KpiReport, kpis_from_journal
from .money import Money, currency_quantum
from .operations.agreements import checked_days
from .policy import Policy, TaskAction
from .store import MemoryStore, Store
from .tasks import Agent

__all__ = [
    "DEFAULT_BEHAVIOUR",
    "DEFAULT_START",
    "Behaviour",
    "Profile",
    "Simulation",
    "SimulationResult",
    "Workforce",
    "load_portfolio",
    "synthetic_portfolio",
]

#: Where a simulation starts when told nothing: a fixed moment, so runs repeat exactly.
DEFAULT_START: Final = datetime(2026, 9, 1, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))

_HOUR: Final = timedelta(hours=1)
_CALL_KINDS: Final = frozenset({"call", "negotiation"})


@dataclass(frozen=True, slots=True)
class Profile:
    """How one kind of debtor behaves; every figure is a probability.

    Attributes:
        answer: A call reaches the debtor (a right-party contact).
        wrong_party: A call is answered by someone else.
        promise: A conversation ends in a promise to pay.
        keep: A promise is kept in full (otherwise a part may be paid).
        pay_after_reminder: A delivered reminder (SMS, e-mail) is followed by a
            payment within three days.
        pay_after_talk: A conversation without a promise is followed by a payment.
        self_cure: The debtor pays in full unprompted, on any one day.
        full: A payment clears all the arrears (otherwise it pays 30-70%).
        fade: Each chance (but ``full``) is multiplied by this for every 30 days
            past due: debtors grow harder to reach and less willing.
    """

    answer: float
    wrong_party: float
    promise: float
    keep: float
    pay_after_reminder: float
    pay_after_talk: float
    self_cure: float
    full: float
    fade: float = 0.8

    def __post_init__(self) -> None:
        for name in self.__slots__:
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise InvalidInput(name, value, "a probability from 0 to 1")

    def chance(self, name: str, dpd: int) -> float:
        """The probability *name* at *dpd* days past due (faded; ``full`` never is)."""
        base: float = getattr(self, name)
        if name == "full" or dpd <= 0:
            return base
        return base * float(self.fade ** (dpd / 30))


@dataclass(frozen=True, slots=True)
class Behaviour:
    """The debtor model: a `Profile` per kind of debtor and their shares in a synthetic portfolio.

    The default figures are illustrative, in the range published for Chinese
    consumer-finance collection (right-party contact 30-55%, promise-kept
    40-80%), not calibrated on any lender's data: fit them to your own
    journal before reading the KPIs as forecasts.

    Attributes:
        profiles: Profiles by name.
        mix: The share of each profile in `synthetic_portfolio` (adding up to 1).
    """

    profiles: Mapping[str, Profile]
    mix: Mapping[str, float]

    def __post_init__(self) -> None:
        unknown = sorted(set(self.mix) - set(self.profiles))
        if unknown:
            raise InvalidInput("mix", unknown, f"profiles among {sorted(self.profiles)}")
        if not math.isclose(sum(self.mix.values()), 1.0, abs_tol=1e-9):
            raise InvalidInput("mix", dict(self.mix), "shares adding up to 1")

    def profile(self, name: str | None) -> Profile:
        """The profile called *name* (the most common one when *name* is ``None``).

        Raises:
            InvalidInput: no such profile.
        """
        if name is None:
            name = max(self.mix, key=lambda key: self.mix[key])
        try:
            return self.profiles[name]
        except KeyError:
            raise InvalidInput("profile", name, f"one of {sorted(self.profiles)}") from None


DEFAULT_BEHAVIOUR: Final = Behaviour(
    profiles={
        "prime": Profile(
            answer=0.55,
            wrong_party=0.03,
            promise=0.60,
            keep=0.80,
            pay_after_reminder=0.10,
            pay_after_talk=0.30,
            self_cure=0.010,
            full=0.85,
        ),
        "standard": Profile(
            answer=0.40,
            wrong_party=0.05,
            promise=0.45,
            keep=0.60,
            pay_after_reminder=0.05,
            pay_after_talk=0.20,
            self_cure=0.004,
            full=0.70,
        ),
        "subprime": Profile(
            answer=0.25,
            wrong_party=0.10,
            promise=0.30,
            keep=0.40,
            pay_after_reminder=0.02,
            pay_after_talk=0.10,
            self_cure=0.001,
            full=0.50,
            fade=0.7,
        ),
    },
    mix={"prime": 0.3, "standard": 0.5, "subprime": 0.2},
)
"""Three kinds of debtor: prime (30%), standard (50%) and subprime (20%)."""


@dataclass(frozen=True, slots=True)
class Workforce:
    """The people who work the tasks the policy opens.

    The default team works 08:30-22:30 in the lender's zone and redials an
    unanswered debtor up to eight times a day: more than the CN pack allows
    (22:00 and six unanswered dials a day), so a run shows what the rules stop.
    Set ``shift=(time(9), time(21))`` and ``redials=6`` for a careful team.

    Attributes:
        cases_per_caller: One caller per this many cases, in every call queue.
        callers: Callers per queue instead (overrides ``cases_per_caller``).
        calls_per_hour: Dials a caller makes in an hour.
        redials: Dials on one task in a day before it is closed unanswered.
        visits_per_day: Field visits one field agent makes in a day.
        cases_per_field_agent: One field agent per this many cases.
        shift: Working hours, in the lender's zone.
    """

    cases_per_caller: int = 150
    callers: Mapping[str, int] | None = None
    calls_per_hour: int = 15
    redials: int = 8
    visits_per_day: int = 4
    cases_per_field_agent: int = 1_000
    shift: tuple[time, time] = (time(8, 30), time(22, 30))

    def staff(self, queue: str, kind: str, cases: int) -> int:
        """How many agents serve *queue* (whose tasks are of *kind*) for *cases* cases."""
        if self.callers is not None and queue in self.callers:
            return max(1, self.callers[queue])
        per = self.cases_per_field_agent if kind == "visit" else self.cases_per_caller
        return max(1, math.ceil(cases / per))

    def on_shift(self, local: time) -> bool:
        """True when *local* (the lender's time of day) is within the shift."""
        start, end = self.shift
        return start <= local < end


# -- portfolios --------------------------------------------------------------------------
_SURNAMES: Final = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
)
_GIVEN: Final = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "慧",
    "建国",
    "晓东",
    "海燕",
    "志强",
    "丹",
    "欣怡",
    "子涵",
    "浩然",
    "雨萱",
    "俊杰",
)
_PREFIXES: Final = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152")
_PREFIXES_MORE: Final = (
    "155",
    "156",
    "157",
    "158",
    "159",
    "176",
    "177",
    "180",
    "186",
    "188",
    "199",
)
_PAYDAYS: Final = (5, 10, 15, 20, 25)


def synthetic_portfolio(
    n: int,
    *,
    seed: int = 0,
    start: datetime = DEFAULT_START,
    behaviour: Behaviour = DEFAULT_BEHAVIOUR,
) -> list[dict[str, Any]]:
    """*n* Chinese consumer-finance loans as a loan system would hand them over.

    CNY balances (principal from about 1,000 to 50,000, skewed low, with
    interest, penalty and fees), debtors in ``Asia/Shanghai`` (2% in
    ``Asia/Urumqi``, where local time runs two hours behind Beijing's) reading
    ``zh-CN``, a mobile number (fictional: the ``+86`` numbers are drawn at
    random), a monthly payday for most.  Due dates are spread so that at
    *start* 15% are not yet due, 45% in M1, 25% in M2 and 15% in M3.  A loan
    not yet due owes nothing overdue: its instalment (principal and interest)
    is ``not_due`` until its due date, when `Simulation.run` makes it fall
    due (`Engine.fall_due`), as the loan system would.  Each
    record carries a ``profile`` (a `Behaviour` profile name), which
    `Simulation.run` reads and does not store in the case.

    The same *n*, *seed* and *start* give the same records.
    """
    if not isinstance(n, int) or n < 1:
        raise InvalidInput("n", n, "a positive number of cases")
    rng = random.Random(f"portfolio:{seed}")
    today = start.date()
    names = list(behaviour.mix)
    weights = [behaviour.mix[name] for name in names]
    prefixes = _PREFIXES + _PREFIXES_MORE
    records: list[dict[str, Any]] = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.15:
            overdue = -rng.randint(1, 10)
        elif roll < 0.60:
            overdue = rng.randint(1, 30)
        elif roll < 0.85:
            overdue = rng.randint(31, 60)
        else:
            overdue = rng.randint(61, 90)
        principal = min(50_000, max(1_000, round(math.exp(rng.gauss(8.6, 0.7)), -1)))
        interest = round(principal * rng.uniform(0.01, 0.04), 2)
        late = max(0, overdue)
        penalty = round(principal * 0.0005 * late, 2)
        fees = 30 if late >= 5 else 0
        if overdue > 0:
            balance = {
                "currency": "CNY",
                "principal": f"{principal:.2f}",
                "interest": f"{interest:.2f}",
                "penalty": f"{penalty:.2f}",
                "fees": f"{fees:.2f}",
            }
        else:  # not yet due: the instalment (principal and interest) falls due on its date
            balance = {"currency": "CNY", "not_due": f"{principal + interest:.2f}"}
        debtor: dict[str, Any] = {
            "id": f"C{i + 1:07d}",
            "name": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
            "timezone": "Asia/Urumqi" if rng.random() < 0.02 else "Asia/Shanghai",
            "locale": "zh-CN",
        }
        if rng.random() < 0.7:
            debtor["payday"] = f"FREQ=MONTHLY;BYMONTHDAY={rng.choice(_PAYDAYS)}"
        mobile = "+86" + rng.choice(prefixes) + f"{rng.randrange(10**8):08d}"
        records.append(
            {
                "id": f"CF{today:%Y%m}-{i + 1:07d}",
                "debtor": debtor,
                "contacts": [{"id": "mobile", "channel": "call", "address": mobile}],
                "balance": balance,
                "due_date": (today - timedelta(days=overdue)).isoformat(),
                "profile": rng.choices(names, weights)[0],
            }
        )
    return records


def load_portfolio(path: str | Path) -> list[dict[str, Any]]:
    """Case records from a JSON file (an array) or a JSON Lines file (one record a line).

    Each record is what `Engine.open_case` takes, or a flat row as
    ``arrears import`` reads JSON Lines (``id``, ``debtor_id``, ``currency``,
    ``due_date``, ``principal``…), optionally with a ``profile`` naming the
    `Behaviour` profile of its debtor.  Every record is checked as a case
    before the run starts.

    Raises:
        InvalidInput: the file is not UTF-8 JSON, a record is not an object, or
            is not a case (the first problem, at the record's position), or an
            object of a record gives a key twice.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("portfolio", str(path), "UTF-8 JSON or JSON Lines") from None
    try:
        stripped = text.lstrip()
        if stripped.startswith("["):
            records: list[Any] = json.loads(text)
            texts = [text]
        else:
            texts = [line for line in text.splitlines() if line.strip()]
            records = [json.loads(line) for line in texts]
    except json.JSONDecodeError as err:
        raise InvalidInput("portfolio", str(path), f"JSON or JSON Lines ({err})") from None
    for position, one in enumerate(texts):
        key = repeated_key(one)
        if key is not None:
            at = f"portfolio[{position}]" if len(texts) > 1 else "portfolio"
            raise InvalidInput(f"{at}.{key}", HIDDEN, f"one value for the key ({REPEATED})")
    if not isinstance(records, list):
        raise InvalidInput("portfolio", type(records).__name__, "an array of case records")
    return [_case_record(position, record) for position, record in enumerate(records)]


def _case_record(position: int, record: Any) -> dict[str, Any]:
    """*record* as `Engine.open_case` takes it (a flat row converted), checked as a case."""
    from pydantic import ValidationError

    from ._portfolio import COLUMNS, _from_flat

    where = f"portfolio[{position}]"
    if not isinstance(record, dict):
        raise InvalidInput(where, type(record).__name__, "a case record")
    profile = record.get("profile")
    fields = {key: value for key, value in record.items() if key != "profile"}
    if "debtor" not in fields and set(fields) <= set(COLUMNS):  # a row as import reads it
        fields, problems = _from_flat(fields, position + 1)
        if problems:
            first = problems[0]  # its message may quote the value: the value is not shown twice
            expected = re.sub(r"^got .*?: ", "", first.message)
            raise InvalidInput(f"{where}.{first.field}", HIDDEN, expected)
    try:
        case = Case.model_validate(fields)
    except ValidationError as err:
        raise invalid_input(err, prefix=f"{where}.") from None
    check_debtor_zone(case.debtor, f"{where}.debtor.timezone")
    return fields if profile is None else {**fields, "profile": profile}


# -- the engine's surroundings ---------------------------------------------------------------
#: The entry kinds that may open, cover, close or expire a case's tasks.
_TASK_KINDS: Final = frozenset(
    {"task_opened", "task_covered", "task_closed", "transition", "payment_reversed"}
)


class _Watched:
    """A store that passes everything through and notes the tasks opened and closed.

    Simulated agents learn of new tasks from it without reading every case.  A
    task covering several loans of a debtor (``task_covered`` on the others) is
    new work once, when it is opened; it stays work while any loan holds it,
    the loan it was opened on moving on or not (`holder`).
    """

    def __init__(self, store: Store) -> None:
        self.inner = store
        self.opened: list[tuple[str, str, str, str]] = []  # case, task id, kind, queue
        self._open: dict[str, set[str]] = {}
        self._holders: dict[str, set[str]] = {}  # task id: the cases holding it

    def _note(self, entry: JournalEntry, case: Case | None) -> None:
        if entry.kind not in _TASK_KINDS:
            return
        if case is None:
            case = self.inner.get(entry.case_id)
        case_id = case.id
        before = self._open.get(case_id, set())
        after = {task.id for task in case.tasks}
        for task in case.tasks:
            if task.id in before:
                continue
            holders = self._holders.setdefault(task.id, set())
            if not holders:  # new work: not yet held by another loan of the debtor
                self.opened.append((case_id, task.id, task.kind, task.queue))
            holders.add(case_id)
        for task_id in before - after:
            holders = self._holders.get(task_id, set())
            holders.discard(case_id)
            if not holders:
                self._holders.pop(task_id, None)
        if after:
            self._open[case_id] = after
        else:
            self._open.pop(case_id, None)

    def is_open(self, case_id: str, task_id: str) -> bool:
        """Whether the case holds the task open."""
        return task_id in self._open.get(case_id, ())

    def holder(self, case_id: str, task_id: str) -> str | None:
        """A case holding the task open: *case_id* while it does, else another loan it
        covers (the first by id); ``None`` once no loan holds it."""
        holders = self._holders.get(task_id)
        if not holders:
            return None
        return case_id if case_id in holders else min(holders)

    # The Store protocol, passed through.
    def __len__(self) -> int:
        return len(self.inner)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self.inner

    def add(self, case: Case, opened: JournalEntry) -> None:
        self.inner.add(case, opened)

    def get(self, case_id: str) -> Case:
        return self.inner.get(case_id)

    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        self.inner.append(entry, case)
        self._note(entry, case)

    def entries(self, case_id: str) -> Sequence[JournalEntry]:
        return self.inner.entries(case_id)

    def head(self, case_id: str) -> Head:
        return self.inner.head(case_id)

    def last_entry(self, case_id: str) -> JournalEntry:
        return self.inner.last_entry(case_id)

    def case_ids(self) -> Iterator[str]:
        return self.inner.case_ids()

    def cases_of(self, debtor_id: str) -> list[str]:
        return self.inner.cases_of(debtor_id)

    def chains(self) -> Iterator[tuple[str, Sequence[JournalEntry]]]:
        return self.inner.chains()

    def schedule(self, case_id: str, at: datetime | None) -> None:
        self.inner.schedule(case_id, at)

    def due(self, now: datetime, limit: int | None = None) -> list[str]:
        return self.inner.due(now, limit)

    def next_review(self, case_id: str) -> datetime | None:
        return self.inner.next_review(case_id)

    def due_at(self, case_id: str) -> datetime | None:
        return self.inner.due_at(case_id)

    def lease(self, now: datetime, limit: int, owner: str, ttl: timedelta) -> list[str]:
        return self.inner.lease(now, limit, owner, ttl)

    def release(self, case_ids: Sequence[str], owner: str) -> None:
        self.inner.release(case_ids, owner)

    def transaction(self) -> AbstractContextManager[None]:
        return self.inner.transaction()


class _Gateway:
    """A channel adapter for every automated medium: accepts each message, tells the debtors."""

    channels: frozenset[str] = frozenset({"sms", "email", "letter", "voicemail"})

    def __init__(self, on_send: Callable[[OutboundMessage], None]) -> None:
        self._on_send = on_send
        self.sent: Counter[str] = Counter()

    def send(self, message: OutboundMessage) -> SendResult:
        self.sent[message.channel] += 1
        self._on_send(message)
        return SendResult("sent", None, "simulated")

    def delivery(self, key: str) -> DeliveryReport | None:
        return None


@dataclass(order=True)
class _Work:
    """A task waiting for an agent: ordered by when it may be tried, then urgency."""

    ready: float
    priority: int
    case_id: str
    task_id: str
    kind: str = field(compare=False, default="call")
    queue: str = field(compare=False, default="")
    day: date | None = field(compare=False, default=None)
    dials: int = field(compare=False, default=0)


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What a run left behind.

    Attributes:
        engine: The engine (its store holds every case and the whole journal).
        started: The first moment simulated.
        ended: The moment after the last day.
        days: Days simulated.
        cases: Cases opened.
        ticks: Ticks run (one an hour).
        dials: Calls and field visits the agents proposed (allowed or not).
        denied_dials: Those compliance denied (not made).
        payments: Payments recorded.
        errors: Case reviews that raised (each is retried an hour later).
        costs: Cost of one contact per channel, for `kpis`.
        visits: Of ``dials``, the field visits.
        denied_visits: Of ``denied_dials``, the field visits.
    """

    engine: Engine
    started: datetime
    ended: datetime
    days: int
    cases: int
    ticks: int
    dials: int
    denied_dials: int
    payments: int
    errors: int
    costs: Mapping[str, Decimal]
    visits: int = 0
    denied_visits: int = 0

    def kpis(self) -> KpiReport:
        """The KPIs of the run over ``[started, ended)``, from its journal
        (`arrears.kpi.kpis_from_journal`); the policy's first variant is the champion."""
        report = kpis_from_journal(
            self.engine.store.chains(), costs=self.costs, start=self.started, end=self.ended
        )
        policy = self.engine.policy
        if policy is not None and policy.variants and policy.variants[0].id in report.variants:
            report.champion = policy.variants[0].id
        return report


class Simulation:
    """A policy, an engine built from it, and the debtors and agents around it.

    Args:
        policy: The policy to run (its packs, workflow and templates, as in production).
        seed: The seed of the one `random.Random` every draw comes from.
        start: The first moment (aware); the portfolio's cases are opened then.
        store: Where cases and the journal go; a new `MemoryStore` when omitted.
        behaviour: The debtor model.
        workforce: The agents.
        zone: The lender's time zone (the agents' shifts).
        costs: Cost of one contact per channel, in the cases' currency, for the KPIs.
        grace_days: Days of grace after its date each promise gets (as
            `Engine.record_promise` takes them): a debtor paying late within them
            keeps the promise.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        seed: int = 0,
        start: datetime = DEFAULT_START,
        store: Store | None = None,
        behaviour: Behaviour = DEFAULT_BEHAVIOUR,
        workforce: Workforce | None = None,
        zone: str = "Asia/Shanghai",
        costs: Mapping[str, Decimal | str | int] | None = None,
        grace_days: int = 0,
    ) -> None:
        self.grace_days = checked_days(grace_days)
        self.policy = policy
        self.seed = seed
        self.start = require_aware(start, "start")
        self.behaviour = behaviour
        self.workforce = workforce or Workforce()
        self.zone = ZoneInfo(zone)
        self.costs = {name: Decimal(str(value)) for name, value in (costs or DEFAULT_COSTS).items()}
        self.rng = random.Random(seed)
        self.clock = SettableClock(self.start)
        self._watched = _Watched(store if store is not None else MemoryStore())
        self._gateway = _Gateway(self._message_sent)
        self._profiles: dict[str, str | None] = {}
        self._events: list[tuple[float, int, str, str, Any]] = []
        self._sequence = 0
        self._queues: dict[str, list[_Work]] = {}
        self._kinds = _task_kinds(policy)
        self.engine: Engine | None = None
        self._now = self.start
        self.dials = 0
        self.denied_dials = 0
        self.visits = 0
        self.denied_visits = 0
        self.payments = 0
        self.errors = 0

    # -- running -------------------------------------------------------------------------
    def run(
        self,
        portfolio: Iterable[Mapping[str, Any]],
        *,
        days: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> SimulationResult:
        """Open the portfolio's cases at the start, then simulate *days* days, an hour at a time.

        Args:
            portfolio: Case records (`synthetic_portfolio`, `load_portfolio`),
                each optionally with a ``profile``.
            days: How many days.
            progress: Called with (days done, days) after each day.

        Raises:
            InvalidInput: a bad number of days, or an unknown profile.
            InvalidInput: a record that is not a valid case (the field named).
        """
        if not isinstance(days, int) or days < 1:
            raise InvalidInput("days", days, "a positive number of days")
        if self.engine is not None:
            raise InvalidInput("run", "a second run", "a new Simulation for each run")
        records = [dict(record) for record in portfolio]
        for record in records:
            profile = record.pop("profile", None)
            self.behaviour.profile(profile)  # an unknown profile is refused before anything
            self._profiles[str(record.get("id"))] = profile
        engine = self._build_engine(len(records))
        for first in range(0, len(records), 1_000):
            with engine.atomic():
                engine.open_cases(records[first : first + 1_000], at=self.start)
        self._plan_instalments(days)
        self._plan_self_cures(days)
        ticks = 0
        moment = self.start
        for day in range(days):
            for _ in range(24):
                self._slot(moment)
                ticks += 1
                moment += _HOUR
            if progress is not None:
                progress(day + 1, days)
        return SimulationResult(
            engine=engine,
            started=self.start,
            ended=moment,
            days=days,
            cases=len(records),
            ticks=ticks,
            dials=self.dials,
            denied_dials=self.denied_dials,
            payments=self.payments,
            errors=self.errors,
            costs=self.costs,
            visits=self.visits,
            denied_visits=self.denied_visits,
        )

    def _build_engine(self, cases: int) -> Engine:
        agents = [
            Agent(id=f"{queue}-{number + 1:03d}", queues=frozenset({queue}), capacity=10_000)
            for queue, kind in sorted(self._kinds.items())
            for number in range(self.workforce.staff(queue, kind, cases))
        ]
        engine = Engine(
            policy=self.policy,
            store=self._watched,
            clock=self.clock,
            channels=[self._gateway],
            agents=agents,
        )
        self.engine = engine
        self._staff = Counter(next(iter(agent.queues)) for agent in agents)
        return engine

    def _slot(self, moment: datetime) -> None:
        """One hour: the tick, then the agents' dials and the debtors' payments, in time order."""
        engine = self.engine
        assert engine is not None
        self._now = moment
        self.clock.set(moment)
        self.errors += len(engine.tick(moment).errors)
        self._take_new_tasks(moment)
        end = (moment + _HOUR).timestamp()
        self._schedule_dials(moment)
        with engine.atomic():
            while self._events and self._events[0][0] < end:
                stamp, _, kind, case_id, payload = heapq.heappop(self._events)
                at = datetime.fromtimestamp(stamp, moment.tzinfo)
                self._now = at
                self.clock.set(at)
                if kind == "pay":
                    self._pay(case_id, payload, at)
                elif kind == "due":
                    amount, due = payload
                    engine.fall_due(case_id, amount, due=due, at=at)
                else:
                    self._dial(payload, at)

    def _push(self, at: datetime, kind: str, case_id: str, payload: Any) -> None:
        self._sequence += 1
        heapq.heappush(self._events, (at.timestamp(), self._sequence, kind, case_id, payload))

    # -- agents --------------------------------------------------------------------------------
    def _take_new_tasks(self, moment: datetime) -> None:
        watched = self._watched
        for case_id, task_id, kind, queue in watched.opened:
            if kind == "legal_review":
                continue  # a legal officer's review: no contact with the debtor
            task = _task(self._require_engine(), case_id, task_id)
            priority = task.priority if task is not None else 5
            work = _Work(moment.timestamp(), priority, case_id, task_id, kind, queue)
            heapq.heappush(self._queues.setdefault(queue, []), work)
        watched.opened.clear()

    def _schedule_dials(self, moment: datetime) -> None:
        """Give each queue's agents this hour's dials (or visits), most urgent tasks first."""
        local = moment.astimezone(self.zone)
        if not self.workforce.on_shift(local.time()):
            return
        start = moment.timestamp()
        for queue in sorted(self._queues):
            waiting = self._queues[queue]
            ready: list[_Work] = []
            while waiting and waiting[0].ready <= start:
                ready.append(heapq.heappop(waiting))
            if not ready:
                continue
            kind = self._kinds.get(queue, "call")
            staff = self._staff.get(queue, 1)
            if kind == "visit":
                if not 10 <= local.hour < 17:
                    budget = 0
                else:  # a day's visits spread over seven hours
                    budget = max(1, round(staff * self.workforce.visits_per_day / 7))
            else:
                budget = staff * self.workforce.calls_per_hour
            ready.sort(key=lambda work: (work.priority, work.ready, work.task_id))
            for work in ready[:budget]:
                at = moment + timedelta(
                    minutes=self.rng.randint(1, 58), seconds=self.rng.randint(0, 59)
                )
                self._push(at, "dial", work.case_id, work)
            for work in ready[budget:]:
                heapq.heappush(waiting, work)

    def _dial(self, work: _Work, at: datetime) -> None:
        """An agent's call or visit: judged first; made only when allowed; the outcome drawn."""
        engine = self._require_engine()
        holder = self._watched.holder(work.case_id, work.task_id)
        if holder is None:
            return  # closed, or expired when every loan it covers moved on
        work.case_id = holder  # a loan it covers still needs it, the first one moved on or not
        case = engine.store.get(work.case_id)
        actor = Actor(_agent_id(engine, case, work.task_id), frozenset({"agent"}))
        today = at.astimezone(self.zone).date()
        if work.day != today:
            work.day, work.dials = today, 0
        work.dials += 1
        visit = work.kind == "visit"
        proposal: dict[str, Any]
        contact = None
        if visit:
            proposal = {"channel": "visit", "party": "debtor", "visit": _VISIT}
        else:
            contact = _phone(case)
            if contact is None:
                engine.complete_task(case.id, work.task_id, "no_number", at=at, actor=actor)
                return
            proposal = {"channel": "call", "contact": contact}
        self.dials += 1
        self.visits += visit
        verdict = engine.judge_contact(case.id, proposal, at=at, actor=actor)
        if not verdict.allowed:
            self.denied_dials += 1
            self.denied_visits += visit
            engine.complete_task(case.id, work.task_id, "blocked", at=at, actor=actor)
            return
        profile = self.behaviour.profile(self._profiles.get(case.id))
        dpd = case.days_past_due(at)
        answer = profile.chance("answer", dpd)
        if visit:
            answer = min(1.0, answer * 1.5)
        draw = self.rng.random()
        if draw < answer:
            outcome = "conversation"
        elif draw < answer + profile.chance("wrong_party", dpd):
            outcome = "wrong_party"
        else:
            outcome = "no_answer" if visit or self.rng.random() < 0.8 else "busy"
        engine.record_interaction(
            case.id,
            "visit" if visit else "call",
            outcome,
            contact=contact,
            party="debtor" if visit else None,
            at=at,
            actor=actor,
        )
        if outcome == "conversation":
            closed = self._talk(engine, case.id, profile, dpd, at, actor)
        elif outcome == "wrong_party" or visit or work.dials >= self.workforce.redials:
            closed = outcome
        else:  # try again in an hour or two
            work.ready = (at + timedelta(minutes=self.rng.randint(60, 120))).timestamp()
            heapq.heappush(self._queues.setdefault(work.queue, []), work)
            return
        if self._watched.is_open(case.id, work.task_id):
            engine.complete_task(case.id, work.task_id, closed, at=at, actor=actor)

    def _talk(
        self, engine: Engine, case_id: str, profile: Profile, dpd: int, at: datetime, actor: Actor
    ) -> str:
        """A conversation: a promise (kept or not), or a payment later, or nothing."""
        rng = self.rng
        case = engine.store.get(case_id)
        if engine.workflow.is_terminal(case.stage) or not case.balance.has_arrears:
            return "conversation"
        arrears = case.arrears
        if rng.random() < profile.chance("promise", dpd):
            share = Decimal(1) if rng.random() < profile.full else Decimal("0.5")
            amount = _part(arrears, share)
            today = case.local_date(at)
            due = today + timedelta(days=rng.randint(1, 7))
            engine.record_promise(
                case_id, amount, due, grace_days=self.grace_days, at=at, actor=actor
            )
            zone = case.debtor.timezone or self.zone
            last = datetime.combine(due, time(20), tzinfo=zone)
            if rng.random() < profile.keep:
                span = max(3600.0, (last - at).total_seconds())
                when = at + timedelta(seconds=rng.uniform(3600, span))
                self._push(when, "pay", case_id, ("amount", amount.amount))
            elif rng.random() < 0.3:
                self._push(last, "pay", case_id, ("amount", _part(amount, Decimal("0.5")).amount))
            return "promise"
        if rng.random() < profile.chance("pay_after_talk", dpd):
            self._push(at + timedelta(hours=rng.uniform(2, 72)), "pay", case_id, ("share", None))
        return "conversation"

    # -- debtors ---------------------------------------------------------------------------------
    def _message_sent(self, message: OutboundMessage) -> None:
        """A reminder reached the debtor: they may pay within three days."""
        if message.channel not in ("sms", "email"):
            return
        engine = self._require_engine()
        case = engine.store.get(message.case_id)
        profile = self.behaviour.profile(self._profiles.get(case.id))
        dpd = case.days_past_due(self._now)
        if self.rng.random() < profile.chance("pay_after_reminder", dpd):
            when = self._now + timedelta(hours=self.rng.uniform(1, 72))
            self._push(_daytime(when, case, self.rng), "pay", case.id, ("share", None))

    def _plan_instalments(self, days: int) -> None:
        """The loan system's part: a case opened owing nothing overdue, with an amount not
        yet due and its due date ahead, has that amount fall due at 00:00 on the due date."""
        engine = self._require_engine()
        end = self.start + timedelta(days=days)
        for case_id in self._profiles:
            case = engine.store.get(case_id)
            balance = case.balance
            if balance.has_arrears or not balance.not_due:
                continue
            zone = case.debtor.timezone or self.zone
            when = max(self.start, datetime.combine(case.due_date, time(0), tzinfo=zone))
            if case.due_date >= case.local_date(self.start) and when < end:
                payload = (balance.money("not_due"), case.due_date)
                self._push(when, "due", case_id, payload)

    def _plan_self_cures(self, days: int) -> None:
        """Draw, once, the day each debtor would pay unprompted (most never do in the run)."""
        engine = self._require_engine()
        for case_id, name in self._profiles.items():
            chance = self.behaviour.profile(name).self_cure
            draw = self.rng.random()
            if chance <= 0 or draw <= 0:
                continue
            day = math.floor(math.log(draw) / math.log1p(-chance)) if chance < 1 else 0
            if day < days:
                case = engine.store.get(case_id)
                when = self.start + timedelta(days=day, hours=self.rng.uniform(0, 23))
                self._push(_daytime(when, case, self.rng), "pay", case_id, ("full", None))

    def _pay(self, case_id: str, payload: tuple[str, Any], at: datetime) -> None:
        engine = self._require_engine()
        case = engine.store.get(case_id)
        arrears = _owed(case, at)
        if engine.workflow.is_terminal(case.stage) or arrears is None:
            return
        how, value = payload
        if how == "amount":
            amount = min(arrears, Money(value, case.currency))
        elif how == "full":
            amount = arrears
        else:
            profile = self.behaviour.profile(self._profiles.get(case_id))
            if self.rng.random() < profile.full:
                amount = arrears
            else:
                amount = _part(arrears, Decimal(str(round(self.rng.uniform(0.3, 0.7), 2))))
        if amount.amount <= 0:
            return
        engine.record_payment(case_id, amount, at=at, reference=f"sim-{self.payments + 1}")
        self.payments += 1

    def _require_engine(self) -> Engine:
        if self.engine is None:
            raise InvalidInput("engine", None, "a simulation that has started (run)")
        return self.engine


_VISIT: Final = {"collectors": 2, "credentials": True, "registered": True, "recorded": True}
"""How the simulated field team staffs a visit: as the CN pack asks."""


def _task_kinds(policy: Policy) -> dict[str, str]:
    """The kind of task each queue of the policy's steps receives."""
    kinds: dict[str, str] = {}
    steps = [*policy.steps, *(step for variant in policy.variants for step in variant.steps or ())]
    for step in steps:
        if isinstance(step.task, TaskAction):
            kinds.setdefault(step.task.queue, step.task.kind)
    return kinds


def _task(engine: Engine, case_id: str, task_id: str) -> Any:
    """The open task *task_id* of the case, or ``None``."""
    for task in engine.store.get(case_id).tasks:
        if task.id == task_id:
            return task
    return None


def _agent_id(engine: Engine, case: Case, task_id: str) -> str:
    for task in case.tasks:
        if task.id == task_id and task.assignee is not None:
            return task.assignee
    return "agent"


def _phone(case: Case) -> str | None:
    """The debtor's own number for calls, if the case has one not opted out."""
    for point in case.contacts:
        if point.channel == "call" and point.party == "debtor" and not point.opted_out:
            return point.id
    return None


def _owed(case: Case, at: datetime) -> Money | None:
    """What a debtor paying at *at* pays towards: the arrears, or before the due date the
    instalment not yet due (less the credit already paid towards it); ``None`` for nothing."""
    balance = case.balance
    if balance.has_arrears:
        return balance.arrears
    ahead = balance.not_due - balance.credit
    if ahead > 0 and case.due_date >= case.local_date(at):
        return Money(ahead, case.currency)
    return None


def _part(amount: Money, share: Decimal) -> Money:
    """*share* of *amount*, rounded down to the currency's minor unit (at least one unit)."""
    quantum = currency_quantum(amount.currency)
    value = (amount.amount * share).quantize(quantum, rounding=ROUND_DOWN)
    return Money(max(value, quantum), amount.currency)


def _daytime(when: datetime, case: Case, rng: random.Random) -> datetime:
    """*when*, moved into the debtor's waking hours (08:00-23:00 local) if it falls at night."""
    zone = case.debtor.timezone
    local = when.astimezone(zone) if zone is not None else when
    if 8 <= local.hour < 23:
        return when
    day = local.date() + timedelta(days=1) if local.hour >= 23 else local.date()
    moved = datetime.combine(day, time(8), tzinfo=local.tzinfo) + timedelta(
        minutes=rng.randint(0, 180)
    )
    return moved.astimezone(when.tzinfo)
