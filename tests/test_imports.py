"""What ``import arrears`` loads: the core only; channels, CEL, templates and the rest on first use.

Each check runs a fresh interpreter and reads its ``sys.modules``: what a test
process has imported already says nothing about a host's ``import arrears``.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

#: Third-party packages (by top-level module) that ``import arrears`` must not load.
HEAVY = (
    "babel",  # formatting of amounts and dates in messages
    "cel",  # CEL conditions (common-expression-language, with its own CLI)
    "celpy",  # the pure-Python CEL, should it be installed
    "click",  # the command line (and httpx's)
    "holidays",  # calendars of compliance rules and review schedules
    "httpx",  # the webhook channel
    "iso4217",  # the currency table, read with the first amount
    "jinja2",  # message templates
    "matplotlib",  # the HTML report's charts
    "phonenumbers",  # phone numbers in one form, read with the first contact point
    "prompt_toolkit",  # CEL's interactive shell
    "pygments",  # rich's, for tracebacks
    "rich",  # the simulation's progress bar (and structlog's pretty tracebacks)
    "smtplib",  # the e-mail channel
    "structlog",  # imported at the first log line
    "yaml",  # policy, scenario and template files
)

#: What the first log line brings: structlog, which imports rich (and pygments) when installed.
LOGGING = frozenset({"structlog", "rich", "pygments"})

#: A case as a host would open it (CNY 1070.00 overdue since 2026-09-01).
CASE = {
    "id": "C-1",
    "debtor": {"id": "D-1", "name": "X", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
    "contacts": [{"id": "p2", "channel": "sms", "address": "+8613900001111", "party": "debtor"}],
    "balance": {
        "currency": "CNY",
        "principal": "1000.00",
        "interest": "50.00",
        "fees": "0",
        "penalty": "20.00",
    },
    "due_date": "2026-09-01",
}


def loaded_by(code: str, cwd: Path) -> set[str]:
    """The top-level names of the modules a fresh interpreter holds after running *code*."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.splitlines()[-1])
    return {name.partition(".")[0] for name in modules}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder to run in, so that nothing but the installed package is importable."""
    return tmp_path_factory.mktemp("imports")


@pytest.fixture(scope="module")
def after_import(workdir: Path) -> set[str]:
    return loaded_by("import arrears", workdir)


class TestImportArrears:
    @pytest.mark.parametrize("name", HEAVY)
    def test_does_not_load(self, after_import: set[str], name: str) -> None:
        """``import arrears`` loads none of the heavy packages."""
        assert name not in after_import

    def test_loads_the_core(self, after_import: set[str]) -> None:
        """The check sees what is loaded: the core's own dependencies are there."""
        assert {"arrears", "pydantic", "transitions"} <= after_import

    def test_public_names_import_without_them(self, workdir: Path) -> None:
        """``from arrears import *`` and the subpackages' public names load none of them either."""
        loaded = loaded_by(
            "from arrears import *\n"
            "from arrears.channels import ChannelAdapter, RecordingChannel\n"
            "from arrears.compliance import Compliance, NoContactOnHolidays\n"
            "from arrears.messages import TemplateSet, format_money\n"
            "from arrears.policy import CelCondition, Policy, When",
            workdir,
        )
        assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))

    @pytest.mark.parametrize(
        ("module", "allowed"),
        [("arrears.report", set()), ("arrears.simulate", set()), ("arrears.cli", {"click"})],
    )
    def test_modules_that_use_them(self, workdir: Path, module: str, allowed: set[str]) -> None:
        """The report, the simulation and the command line load their packages when used."""
        loaded = loaded_by(f"import {module}", workdir)
        assert loaded & set(HEAVY) == allowed


class TestDefaultEngine:
    def test_open_and_fire(self, workdir: Path) -> None:
        """Opening a case and firing a trigger needs only the currency table and the logger:
        its contact point's number, given in E.164, is kept as given without the phone
        number tables."""
        loaded = loaded_by(
            "from datetime import UTC, datetime\n"
            "from arrears import Case, Engine, SettableClock\n"
            "engine = Engine(clock=SettableClock(datetime(2026, 10, 1, 1, tzinfo=UTC)))\n"
            f"case = engine.open_case(Case.model_validate({CASE!r}))\n"
            "assert engine.fire(case.id, 'notify').dest == 'notified'",
            workdir,
        )
        assert loaded & set(HEAVY) <= LOGGING | {"iso4217"}, sorted(loaded & set(HEAVY))
        assert "iso4217" in loaded  # a case's balance was checked against the currency table


class TestOnFirstUse:
    @pytest.mark.parametrize(
        ("code", "package"),
        [
            ("from arrears.channels import WebhookChannel", "httpx"),
            ("from arrears.channels import SmtpChannel", "smtplib"),
            ("from arrears.policy import CelCondition; CelCondition('dpd >= 30')", "cel"),
            ("from arrears.policy import load_policy", "yaml"),
            (
                "from arrears.messages import format_money; from arrears import Money\n"
                "format_money(Money('1250', 'USD'), 'en-US')",
                "babel",
            ),
            (
                "from arrears.compliance import validation_period_end; from datetime import date\n"
                "validation_period_end(date(2026, 11, 20))",
                "holidays",
            ),
            (
                "from arrears.compliance import zones_for_address\n"
                "zones_for_address('+8613812345678')",
                "phonenumbers",
            ),
            ("from arrears.logs import get_logger; get_logger().debug('quiet')", "structlog"),
        ],
    )
    def test_loads_when_used(self, workdir: Path, code: str, package: str) -> None:
        """Each package is loaded by the first use that needs it, and works."""
        assert package in loaded_by(code, workdir)


class TestDeferredNames:
    @pytest.mark.parametrize("package", ["arrears.channels", "arrears.policy"])
    def test_dir_and_all(self, package: str) -> None:
        """Every name in ``__all__`` is listed by ``dir()`` and resolves, deferred or not."""
        module = __import__(package, fromlist=["__all__"])
        assert set(module.__all__) <= set(dir(module))
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value):
                assert value.__module__.startswith("arrears.")

    def test_unknown_name(self) -> None:
        """A name that is not there raises AttributeError, naming it."""
        import arrears.channels

        with pytest.raises(AttributeError, match="'FaxChannel'"):
            arrears.channels.FaxChannel  # noqa: B018

    def test_same_object(self) -> None:
        """A deferred name is the class its module defines."""
        from arrears.channels import WebhookChannel
        from arrears.channels.webhook import WebhookChannel as DefinedChannel
        from arrears.policy import load_policy
        from arrears.policy.loader import load_policy as loader

        assert WebhookChannel is DefinedChannel
        assert load_policy is loader
