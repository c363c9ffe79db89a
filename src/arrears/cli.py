"""The ``arrears`` command line.

``arrears test PATH...`` runs scenario files (see ``docs/scenarios.md``) and
exits 0 when all pass, 1 when any fails and 2 when any file is not a valid
scenario.  ``arrears check POLICY...`` checks policy files and the templates
they send, and exits 0 when all are sound, 1 when any has a problem.  Both
exit 2 when misused (``docs/cli.md``).  ``python -m arrears`` is the same
command.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

import click

if TYPE_CHECKING:
    from .policy import Policy

# The library is imported by the commands that use it, so that ``arrears --help``
# and a mistyped command answer at once.

__all__ = ["main"]

_SUFFIXES: Final = frozenset({".yaml", ".yml"})

#: Exit statuses of ``arrears test``.
ALL_PASSED: Final = 0
SOME_FAILED: Final = 1
SOME_INVALID: Final = 2

#: Exit statuses of ``arrears check`` (a usage error exits 2, as click does).
ALL_SOUND: Final = 0
SOME_PROBLEMS: Final = 1


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="arrears", prog_name="arrears")
def main() -> None:
    """Debt-collection workflows for loan systems: test scenarios, check policies."""


def _scenario_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and every ``*.yaml`` / ``*.yml`` under the folders named, in order.

    Each folder's files are sorted; a file reached twice is run once.  Under a
    folder, files in sub-folders whose name starts with ``_`` or ``.`` (drafts,
    ``_pending``) are left out; name such a file directly to run it.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            files = sorted(
                (
                    item
                    for item in path.rglob("*")
                    if item.suffix in _SUFFIXES
                    and item.is_file()
                    and not any(
                        part.startswith(("_", ".")) for part in item.relative_to(path).parts[:-1]
                    )
                ),
                key=lambda item: item.parts,
            )
        else:
            files = [path]
        for item in files:
            key = item.resolve()
            if key not in seen:
                seen.add(key)
                found.append(item)
    return found


@contextmanager
def _engine_logs(verbose: bool) -> Iterator[None]:
    """Keep the engine's log lines off standard output, where the results go.

    Warnings (a policy review that failed) go to standard error; with
    *verbose*, every line does.  The previous structlog configuration is
    restored afterwards, so a host that calls `main` keeps its own.
    """
    import structlog

    from .logs import configured_for

    level = logging.DEBUG if verbose else logging.WARNING
    with configured_for(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    ):
        yield


def _one_line(text: str) -> str:
    return " ".join(text.split())


@main.command("test")
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Print the engine's log lines to standard error."
)
@click.pass_context
def test_command(ctx: click.Context, paths: tuple[Path, ...], verbose: bool) -> None:
    """Run scenario files: PATHS are files, or folders searched for *.yaml and *.yml.

    Prints "PASS name" or "FAIL name: why" for each scenario, then "N passed,
    N failed".  A file that is not a valid scenario is reported on standard
    error as "file:line: field: message", and the others still run.

    Exit status: 0 when every scenario passed, 1 when any failed, 2 when any
    file is not a valid scenario.
    """
    from .scenarios import ScenarioInvalid, run_scenario

    files = _scenario_files(paths)
    if not files:
        shown = ", ".join(str(path) for path in paths)
        raise click.UsageError(f"no scenario files (*.yaml, *.yml) in {shown}")
    passed = failed = invalid = 0
    with _engine_logs(verbose):
        for file in files:
            try:
                result = run_scenario(file)
            except ScenarioInvalid as err:
                invalid += 1
                for problem in err.problems:
                    click.echo(str(problem), err=True)
                continue
            if result.passed:
                passed += 1
                click.echo(f"PASS {_one_line(result.name)}")
            else:
                failed += 1
                why = "; ".join(_one_line(failure) for failure in result.failures)
                click.echo(f"FAIL {_one_line(result.name)}: {why}")
    click.echo(f"{passed} passed, {failed} failed")
    if invalid:
        noun = "file is" if invalid == 1 else "files are"
        click.echo(f"{invalid} {noun} not a valid scenario", err=True)
        ctx.exit(SOME_INVALID)
    ctx.exit(SOME_FAILED if failed else ALL_PASSED)


@main.command("check")
@click.argument(
    "policies",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--locale",
    "--lang",
    "locales",
    multiple=True,
    metavar="LOCALE",
    help="Check the templates of this locale (or language, e.g. zh); repeatable. "
    "Default: the languages of the policy's packs.",
)
@click.pass_context
def check_command(ctx: click.Context, policies: tuple[Path, ...], locales: tuple[str, ...]) -> None:
    """Check policy files: POLICIES are YAML or TOML policy files.

    Each is loaded with every check of the policy as a whole (stages,
    triggers, conditions, steps that can never fire, escalation cycles), its
    lender details and late-fee rate (against its packs' rate ceilings) are
    validated, and every template its steps send is looked up in its
    templates folder, checked against its packs, checked for variables a
    review would not give it, and rendered as a review would in every stage
    and situation the step can meet, with the largest values the limits
    allow (a missing variable or an SMS too long names the step, the stage
    and the situation).  Prints "OK path (id version): N
    steps, M escalations" for a sound policy, or its problems as
    "file:line: field: message".

    Exit status: 0 when every policy is sound, 1 when any has a problem, 2
    when the command was misused (no such file).
    """
    from .testing import check_policy

    troubled = 0
    for path in policies:
        result = check_policy(path, locales=locales or None)
        if result.policy is not None and result.ok:
            policy = result.policy
            steps = len(policy.steps)
            escalations = len(policy.escalations)
            click.echo(
                f"OK {path} ({policy.id} {policy.version}): "
                f"{steps} {'step' if steps == 1 else 'steps'}, "
                f"{escalations} {'escalation' if escalations == 1 else 'escalations'}"
            )
            if policy.jurisdictions or policy.role is not None:
                click.echo("  " + _judged_by(policy))
            continue
        troubled += 1
        for problem in result.problems:
            click.echo(str(problem))
    ctx.exit(SOME_PROBLEMS if troubled else ALL_SOUND)


def _judged_by(policy: Policy) -> str:
    """The packs of each jurisdiction the policy maps, and its role, in one line."""
    sets = [f"{code} → {', '.join(packs)}" for code, packs in policy.jurisdictions.items()]
    if policy.packs:
        sets.append(f"default → {', '.join(policy.packs)}")
    elif "default" not in policy.jurisdictions:
        sets.append("default → none (debtors no code covers are not contacted)")
    role = policy.role.value if policy.role is not None else "unset (every rule)"
    return f"packs by jurisdiction: {'; '.join(sets)}; role {role}"


#: Exit statuses of ``arrears import`` (a usage error exits 2, as click does).
ALL_IMPORTED: Final = 0
SOME_ROWS_FAILED: Final = 1
USAGE_ERROR: Final = 2
IMPORT_FAILED: Final = 3
#: Problems ``arrears import`` prints unless told otherwise (``--max-errors``).
MAX_ERRORS: Final = 50


@main.command("import")
@click.option(
    "--db",
    "target",
    required=True,
    metavar="FILE",
    help="The store: an SQLite file (created when missing) or a postgresql:// URL.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["csv", "jsonl"]),
    default=None,
    help="The portfolio's format (default: from its suffix, .csv or .jsonl).",
)
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Open the cases in this policy's workflow (default: the standard one).",
)
@click.option(
    "--skip-bad",
    is_flag=True,
    help="Import the good rows even when some are bad (default: nothing unless all are good).",
)
@click.option(
    "--commit-every",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Commit every N cases instead of once (bounded memory; a killed import keeps "
    "the batches committed, and a re-run skips them).",
)
@click.option(
    "--max-errors",
    type=click.IntRange(min=0),
    default=MAX_ERRORS,
    show_default=True,
    metavar="N",
    help="Print at most N problems, then how many more there are (0: all).",
)
@click.argument("portfolio", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_command(
    ctx: click.Context,
    target: str,
    format_: str | None,
    policy: Path | None,
    skip_bad: bool,
    commit_every: int | None,
    max_errors: int,
    portfolio: Path,
) -> None:
    """Open a case for every row of PORTFOLIO, a CSV or JSON Lines file (docs/cli.md).

    Every row is checked first; unless all are good (or --skip-bad), nothing
    is imported.  The cases are opened in one transaction.  A row whose case
    is already in the store is skipped: "already imported" when its data is
    the same, reported by field when it differs.  Each problem goes to
    standard error as "file:line: field: message", without personal data;
    the summary ("imported N of M rows; ...") to standard output.

    Exit status: 0 when every row is imported (now or before, with the same
    data), 1 when a row is bad or differs, 2 when the command was misused or
    the file cannot be imported (no such file, an unknown format or column),
    3 when the store failed during the import (nothing of it was stored).
    """
    from .engine import Engine
    from .errors import ArrearsError
    from .importer import PortfolioInvalid, import_portfolio
    from .stores import open_store
    from .tuning import collector_paused

    chosen = _load(policy) if policy is not None else None
    _store_target(target, create=True)
    try:
        with _engine_logs(False), open_store(target) as store, collector_paused():
            engine = Engine(store=store, policy=chosen)
            report = import_portfolio(
                engine,
                portfolio,
                format=format_,  # type: ignore[arg-type]
                skip_bad=skip_bad,
                commit_every=commit_every,
            )
    except (PortfolioInvalid, OSError) as err:
        click.echo(f"Error: {_one_line(str(err))}", err=True)
        ctx.exit(USAGE_ERROR)
    except Exception as err:  # the store failed: its message may quote a row, so not shown
        shown = _one_line(str(err)) if isinstance(err, ArrearsError) else type(err).__name__
        kept = " (the batches committed before it stay)" if commit_every else ""
        click.echo(f"Error: the import failed: {shown}; nothing of it was stored{kept}", err=True)
        ctx.exit(IMPORT_FAILED)
    problems = [*report.errors, *report.conflicts]
    problems.sort(key=lambda problem: problem.line)
    shown_problems = problems if max_errors == 0 else problems[:max_errors]
    for problem in shown_problems:
        click.echo(f"{portfolio}:{problem.line}: {problem.field}: {problem.message}", err=True)
    if len(problems) > len(shown_problems):
        click.echo(
            f"{portfolio}: {len(problems) - len(shown_problems):,} more problems "
            "(--max-errors 0 prints them all)",
            err=True,
        )
    click.echo(_import_summary(report, skip_bad))
    ctx.exit(ALL_IMPORTED if report.ok else SOME_ROWS_FAILED)


def _import_summary(report: Any, skip_bad: bool) -> str:
    """One line: what an import did (`arrears.importer.ImportReport`)."""

    def rows(count: int) -> str:
        return f"{count:,} row" if count == 1 else f"{count:,} rows"

    parts = [f"imported {report.imported:,} of {rows(report.rows)}"]
    if report.already_imported:
        parts.append(f"{rows(report.already_imported)} already imported")
    if report.conflicts:
        parts.append(f"{rows(report.differing)} differing from the cases already imported")
    if report.errors:
        if skip_bad:
            parts.append(f"{rows(report.failed)} bad, skipped")
        elif report.imported:  # --commit-every, and a row refused after a batch was committed
            parts.append(f"{rows(report.failed)} bad, so the rest was not imported")
        else:
            hint = f" (--skip-bad imports the other {rows(report.valid)})" if report.valid else ""
            parts.append(f"{rows(report.failed)} bad, so nothing was imported{hint}")
    return "; ".join(parts)


# -- demo, simulate, diagram, tick, explain, report, journal ----------------------------------
#: Exit statuses of the commands below (a usage error exits 2, as click does).
DONE: Final = 0
FAILED: Final = 1

#: What the demo runs unless told otherwise.
DEMO_CASES: Final = 1_500
DEMO_DAYS: Final = 120
DEMO_SEED: Final = 7


def _example_policy() -> Path:
    """The CN consumer-loan example policy shipped inside the package."""
    return Path(__file__).resolve().parent / "examples" / "policies" / "cn_consumer_loan.yaml"


def _load(path: Path) -> Any:
    """Load a policy; one that does not load is a usage error (exit 2), its problems listed."""
    from .policy import PolicyInvalid, load_policy

    try:
        return load_policy(path)
    except PolicyInvalid as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        raise click.UsageError(f"{path} is not a valid policy (arrears check {path})") from None


def _moment(value: str | None, option: str) -> datetime | None:
    """*value*, a time option's, as an aware moment the engine converts to every time zone
    (from `arrears.limits.EARLIEST_MOMENT` to `arrears.limits.LATEST_MOMENT`); ``None``
    when not given.  Anything else is misuse naming *option* (exit 2)."""
    from .limits import EARLIEST_MOMENT, LATEST_MOMENT

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=option) from None
    if moment.tzinfo is None:
        raise click.BadParameter(
            f"{value!r} has no offset: write it as 2026-09-01T09:30:00+08:00", param_hint=option
        )
    if not EARLIEST_MOMENT <= moment <= LATEST_MOMENT:
        raise click.BadParameter(
            f"{value!r} is not a moment from {EARLIEST_MOMENT.isoformat()} to "
            f"{LATEST_MOMENT.isoformat()}: one at an end of the calendar is in no time "
            "zone's calendar",
            param_hint=option,
        )
    return moment


def _not_ahead(moment: datetime | None, option: str) -> None:
    """A moment the engine accepts on the system clock: not beyond `FUTURE_TOLERANCE` ahead."""
    from datetime import UTC

    from .limits import FUTURE_TOLERANCE

    latest = datetime.now(UTC) + FUTURE_TOLERANCE
    if moment is not None and moment > latest:
        raise click.BadParameter(
            f"{moment.isoformat()} is in the future (the latest is {FUTURE_TOLERANCE} from now); "
            "replay a future day with arrears simulate or arrears run --start",
            param_hint=option,
        )


def _costs(values: Sequence[str]) -> dict[str, Decimal]:
    from .kpi import DEFAULT_COSTS

    costs = dict(DEFAULT_COSTS)
    for value in values:
        channel, _, amount = value.partition("=")
        try:
            costs[channel.strip()] = Decimal(amount)
        except ArithmeticError:
            raise click.BadParameter(
                f"{value!r}: expected CHANNEL=AMOUNT, e.g. call=2.50", param_hint="--cost"
            ) from None
    return costs


#: The first bytes of every SQLite database file.
_SQLITE_HEADER: Final = b"SQLite format 3\x00"


def _existing(db: str) -> str:
    """A store to read: an SQLite file that is there (or a PostgreSQL URL that answers)."""
    return _store_target(db, create=False)


def _store_target(db: str, *, create: bool, hint: str = "--db") -> str:
    """*db* checked before it is opened, so a wrong one is a usage error (exit 2), not a
    traceback: a PostgreSQL server that answers, or an SQLite file (a missing or empty
    one only when the command creates its store), never a folder or another file."""
    if db.startswith(("postgresql://", "postgres://")):
        _reachable(db, hint)
        return db
    if "://" in db:
        scheme = db.partition("://")[0]
        raise click.BadParameter(
            f"{scheme}:// is not a store: give an SQLite file or a postgresql:// URL",
            param_hint=hint,
        )
    path = Path(db)
    if path.is_dir():
        raise click.BadParameter(f"{db} is a folder, not a database file", param_hint=hint)
    if not path.exists():
        if not create:
            raise click.BadParameter(f"no such database file: {db}", param_hint=hint)
        _output(path, hint)
        return db
    try:
        with path.open("rb") as file:
            head = file.read(len(_SQLITE_HEADER))
    except OSError as err:
        raise click.BadParameter(
            f"{db}: cannot read it ({err.strerror})", param_hint=hint
        ) from None
    if not head and not create:
        raise click.BadParameter(f"{db} is an empty file, not a store", param_hint=hint)
    if head and head != _SQLITE_HEADER:
        raise click.BadParameter(f"{db} is not an SQLite database", param_hint=hint)
    return db


def _reachable(url: str, hint: str) -> None:
    """Connect to the PostgreSQL server of *url* once, quickly, or say why not (exit 2).

    The store's own pool would retry for its whole timeout before giving up.
    """
    from urllib.parse import urlsplit

    try:
        import psycopg
    except ImportError:
        raise click.BadParameter(
            "a postgresql:// URL needs the driver: pip install 'arrears[postgres]'",
            param_hint=hint,
        ) from None
    try:
        psycopg.connect(url, connect_timeout=10).close()
    except psycopg.Error as err:
        parts = urlsplit(url)  # shown without its user and password
        shown = f"{parts.scheme}://{parts.hostname or ''}{parts.path}"
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise click.BadParameter(f"cannot connect to {shown}: {reason}", param_hint=hint) from None


def _output(path: Path, hint: str) -> None:
    """A file the command writes: its folder must be there (checked before a long run)."""
    folder = path.parent
    if not folder.is_dir():
        raise click.BadParameter(f"no folder {folder} to write {path.name} in", param_hint=hint)


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on standard error while it is a terminal; nothing otherwise."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        f"[bold]{label}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(done: int, _total: int) -> None:
            bar.update(task, completed=done)

        yield advance


_COST_OPTION = click.option(
    "--cost",
    "costs",
    multiple=True,
    metavar="CHANNEL=AMOUNT",
    help="The cost of one contact on a channel, for cost per amount collected; repeatable "
    "(default: sms=0.05 call=1.50 visit=120.00 email=0.01 voicemail=0.30 letter=8.00).",
)


def _report_locale(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A language the report is written in (`arrears.report_text.report_locale`): ``en`` or
    ``zh-CN``, in any case, with ``_`` or ``-`` (``zh`` is ``zh-CN``); a one-line error
    naming *value* and the languages otherwise."""
    if value is None:
        return None
    from .errors import InvalidInput
    from .report_text import REPORT_LOCALES, report_locale

    try:
        return report_locale(value).tag
    except InvalidInput:
        known = ", ".join(REPORT_LOCALES)
        raise click.BadParameter(
            f"{value!r} is not a language of the report (one of {known})", ctx, param
        ) from None


def _locale_option(default: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--locale`` (alias ``--lang``): the report's language, *default* when not given."""
    return click.option(
        "--locale",
        "--lang",
        "locale",
        callback=_report_locale,
        default=None,
        metavar="LOCALE",
        help=f"The language of the table and the HTML report: en or zh-CN (default: {default}; "
        "the JSON is the same in both).",
    )


def _simulate(
    policy_path: Path,
    portfolio: list[dict[str, Any]],
    *,
    days: int,
    seed: int,
    db: str | None,
    costs: Sequence[str],
    html: Path | None,
    as_json: bool,
    title: Callable[[Any], str],
    locale: str | None,
) -> int:
    """Run a simulation, print its KPIs, write the report; the exit status.

    The table and the report are in *locale*, by default the language of the
    policy's packs (`arrears.report_text.policy_locale`); *title* gives the
    report's title from the language's `arrears.report_text.ReportText`.
    """
    import json as json_module

    from .report_text import policy_locale, report_locale
    from .simulate import Simulation
    from .stores import open_store
    from .tuning import collector_paused

    policy = _load(policy_path)
    words = report_locale(locale or policy_locale(policy.packs))
    store_context = open_store(db) if db is not None else nullcontext(None)
    with _engine_logs(False), store_context as store:
        if store is not None and len(store):  # a PostgreSQL database (a file was checked)
            raise click.BadParameter(
                f"the database holds {len(store):,} cases: simulate writes a new database",
                param_hint="--db",
            )
        simulation = Simulation(policy, seed=seed, store=store, costs=_costs(costs))
        # The command owns its process: the collector is paused for the run.
        with _progress("simulating", days) as advance, collector_paused():
            result = simulation.run(portfolio, days=days, progress=advance)
        report = result.kpis()
        if as_json:
            click.echo(json_module.dumps(report.to_json(), ensure_ascii=False, sort_keys=True))
        else:
            click.echo(report.table(words.tag), nl=False)
        calls = result.dials - result.visits
        notes = [
            words.text.run_note.format(
                policy=policy.id,
                version=policy.version,
                seed=seed,
                calls=words.count(calls),
                denied_calls=words.count(result.denied_dials - result.denied_visits),
                visits=words.count(result.visits),
                denied_visits=words.count(result.denied_visits),
                payments=words.count(result.payments),
            )
        ]
        click.echo(notes[0], err=as_json)
        if db is not None:
            same = _report_command(db, report, words.tag)
            click.echo(f"the same figures: {same}", err=as_json)
        if html is not None:
            from .report import write_html

            write_html(report, html, title=title(words.text), notes=notes, locale=words.tag)
            click.echo(f"report: {html}", err=as_json)
    if result.errors:
        click.echo(f"{result.errors} case reviews raised (see the log)", err=True)
        return FAILED
    return DONE


def _report_command(db: str, report: Any, locale: str) -> str:
    """The ``arrears report`` command that prints *report* again, in *locale*, from *db*."""
    command = f"arrears report --db {db}"
    if not report.whole_journal:
        command += f" --from {report.start.isoformat()} --to {report.end.isoformat()}"
    if locale != report.locale:  # the report command's own default: the debtors' language
        command += f" --lang {locale}"
    return command


@main.command("demo")
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The policy to run (default: the CN consumer-loan example shipped with arrears).",
)
@click.option(
    "--cases", type=click.IntRange(min=1), default=DEMO_CASES, show_default=True, help="Cases."
)
@click.option(
    "--days", type=click.IntRange(min=1), default=DEMO_DAYS, show_default=True, help="Days."
)
@click.option("--seed", type=int, default=DEMO_SEED, show_default=True, help="Random seed.")
@click.option(
    "--db",
    default="arrears-demo.db",
    show_default=True,
    metavar="FILE",
    help="The SQLite file the cases and the journal go to (replaced if it exists).",
)
@click.option(
    "--html",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("arrears-demo-report.html"),
    show_default=True,
    help="Where the HTML report goes.",
)
@_locale_option("the language of the policy's packs: zh-CN for CN")
@_COST_OPTION
@click.pass_context
def demo_command(
    ctx: click.Context,
    policy: Path | None,
    cases: int,
    days: int,
    seed: int,
    db: str,
    html: Path,
    locale: str | None,
    costs: tuple[str, ...],
) -> None:
    """Run the example: synthetic consumer loans through the CN policy for 120 days.

    Builds a synthetic portfolio of Chinese consumer-finance cases, opens them
    in an SQLite file, runs the example CN policy with fake channels and
    simulated debtors and agents (every contact judged by the compliance
    packs), prints the KPI table and writes the HTML report, in the language
    of the policy's packs (Chinese for the CN policy; --lang en for English).

    Exit status: 0 when the run finished, 1 when a case review raised, 2 when
    the command was misused.
    """
    from .simulate import synthetic_portfolio

    chosen = policy or _example_policy()
    target = Path(db)
    if target.is_dir():
        raise click.BadParameter(f"{db} is a folder", param_hint="--db")
    _output(html, "--html")
    if "://" in db:
        _store_target(db, create=True)
    else:
        _output(target, "--db")
    for stale in (target, Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)
    click.echo(
        f"arrears demo: {cases:,} synthetic consumer loans (CNY) for {days} days "
        f"under {chosen.name}, seed {seed}"
    )
    status = _simulate(
        chosen,
        synthetic_portfolio(cases, seed=seed),
        days=days,
        seed=seed,
        db=db,
        costs=costs,
        html=html,
        as_json=False,
        title=lambda text: text.demo_title,
        locale=locale,
    )
    click.echo(f"journal: {db} (arrears journal verify --db {db})")
    ctx.exit(status)


@main.command("simulate")
@click.argument("policy", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--portfolio",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Case records: a JSON array or JSON Lines, each optionally with a 'profile'.",
)
@click.option(
    "--synthetic",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Instead: N synthetic Chinese consumer-finance cases.",
)
@click.option("--days", type=click.IntRange(min=1), required=True, help="Days to simulate.")
@click.option(
    "--db",
    default=None,
    metavar="FILE",
    help="A new SQLite file for the cases and the journal (default: in memory).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--html",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the HTML report there.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the KPIs as JSON.")
@_locale_option("the language of the policy's packs: zh-CN for CN, else en")
@_COST_OPTION
@click.pass_context
def simulate_command(
    ctx: click.Context,
    policy: Path,
    portfolio: Path | None,
    synthetic: int | None,
    days: int,
    db: str | None,
    seed: int,
    html: Path | None,
    as_json: bool,
    locale: str | None,
    costs: tuple[str, ...],
) -> None:
    """Run POLICY over a portfolio for N days with simulated debtors and agents.

    Give the cases with --portfolio FILE or --synthetic N.  Prints the KPIs
    (a table, or JSON with --json); the same seed gives the same KPIs.  The
    table and the report are in the language of the policy's packs (Chinese
    for a CN policy) unless --lang says otherwise.

    Exit status: 0 when the run finished, 1 when a case review raised, 2 when
    the command was misused (both or neither of --portfolio and --synthetic,
    a policy that does not load, a --db file that exists).
    """
    from .simulate import load_portfolio, synthetic_portfolio

    if (portfolio is None) == (synthetic is None):
        raise click.UsageError("give exactly one of --portfolio FILE and --synthetic N")
    if db is not None and Path(db).exists():
        raise click.BadParameter(f"{db} exists: simulate writes a new database", param_hint="--db")
    if db is not None:
        _store_target(db, create=True)
    if html is not None:
        _output(html, "--html")
    if portfolio is not None:
        from .errors import InvalidInput

        try:
            records = load_portfolio(portfolio)
        except InvalidInput as err:
            raise click.BadParameter(str(err), param_hint="--portfolio") from None
    else:
        assert synthetic is not None
        records = synthetic_portfolio(synthetic, seed=seed)
    ctx.exit(
        _simulate(
            policy,
            records,
            days=days,
            seed=seed,
            db=db,
            costs=costs,
            html=html,
            as_json=as_json,
            title=lambda text: text.simulation_title.format(name=policy.name),
            locale=locale,
        )
    )


def _edge_label(spec: Any) -> str:
    guards = [guard.name for guard in spec.all_guards()]
    label = f"{spec.trigger}{' (manual)' if spec.manual else ''}"
    return f"{label} [{', '.join(guards)}]" if guards else label


def _mermaid(workflow: Any) -> str:
    def node(stage: str) -> str:
        return stage.replace(".", "_")

    lines = ["stateDiagram-v2"]
    for stage in workflow.stages:
        if "." in stage:
            lines.append(f'    state "{stage}" as {node(stage)}')
    lines.append(f"    [*] --> {node(workflow.definition.initial)}")
    for spec in workflow.definition.transitions:
        for source in spec.sources:
            label = _edge_label(spec).replace(":", " ")
            lines.append(f"    {node(source)} --> {node(spec.dest)}: {label}")
    for stage in sorted(workflow.definition.terminal):
        lines.append(f"    {node(stage)} --> [*]")
    return "\n".join(lines) + "\n"


def _dot(workflow: Any) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    definition = workflow.definition
    lines = [
        f"digraph {quoted(workflow.name)} {{",
        "    rankdir=LR;",
        '    node [shape=box, style=rounded, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
    ]
    for stage in workflow.stages:
        shape = ", shape=doubleoctagon" if stage in definition.terminal else ""
        bold = ", penwidth=2" if stage == definition.initial else ""
        lines.append(f"    {quoted(stage)} [label={quoted(stage)}{shape}{bold}];")
    for spec in definition.transitions:
        style = ", style=dashed" if spec.manual else ""
        for source in spec.sources:
            lines.append(
                f"    {quoted(source)} -> {quoted(spec.dest)} "
                f"[label={quoted(_edge_label(spec))}{style}];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"


@main.command("diagram")
@click.argument("policy", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "format_",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="Mermaid stateDiagram-v2, or Graphviz dot.",
)
def diagram_command(policy: Path, format_: str) -> None:
    """Print the stage graph of POLICY's workflow, each edge with its trigger and guards.

    Manual triggers (a person must fire them) are marked "(manual)" (dashed in
    dot).  Render dot with Graphviz: arrears diagram POLICY --format dot | dot -Tsvg.

    Exit status: 0, or 2 when the command was misused (a policy that does not load).
    """
    workflow = _load(policy).build_workflow()
    click.echo(_mermaid(workflow) if format_ == "mermaid" else _dot(workflow), nl=False)


_DB_OPTION = click.option(
    "--db",
    required=True,
    metavar="FILE",
    help="The store: an SQLite file (or a postgresql:// URL).",
)


_CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    default=None,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The configuration file (arrears.toml): store, policy, channel adapters, logging.",
)


def _refuse(ctx: click.Context, message: str) -> NoReturn:
    """Refuse to start: one line on standard error, exit 2."""
    click.echo(f"arrears {ctx.info_name}: {_one_line(message)}", err=True)
    ctx.exit(2)
    raise AssertionError("unreachable")  # ctx.exit raises


def _config(ctx: click.Context, path: Path) -> Any:
    """The configuration file loaded, or a refusal naming the key and the value (exit 2)."""
    from .config import load_config
    from .errors import ConfigInvalid

    try:
        config = load_config(path)
    except ConfigInvalid as err:
        _refuse(ctx, str(err))
    url = config.store_url
    if not url.startswith(("postgresql://", "postgres://")) and not Path(url).is_file():
        _refuse(ctx, f"{path}: store.url: no such database file: {url}")
    return config


def _configured_engine(ctx: click.Context, config: Any, store: Any, clock: Any = None) -> Any:
    """The engine *config* describes, or a refusal (exit 2): a policy that does not load, an
    adapter that cannot be built, a channel the policy sends on that no adapter serves."""
    from .errors import ChannelsMissing, ConfigInvalid, PolicyInvalid
    from .runner import engine_from_config

    try:
        return engine_from_config(config, clock=clock, store=store)
    except PolicyInvalid as err:
        for problem in err.problems:
            click.echo(str(problem), err=True)
        _refuse(ctx, f"{config.policy_path} is not a valid policy (arrears check)")
    except ConfigInvalid as err:
        _refuse(ctx, str(err))
    except ChannelsMissing as err:
        _refuse(ctx, f"{err}; add an [adapters.NAME] table for it to {config.path}")


@main.command("tick")
@_CONFIG_OPTION
@click.option(
    "--db",
    default=None,
    metavar="FILE",
    help="The store, without --config: an SQLite file (or a postgresql:// URL).",
)
@click.option(
    "--policy",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The policy the cases are reviewed under, without --config.",
)
@click.option(
    "--now",
    default=None,
    metavar="TIME",
    help="The tick's moment, ISO 8601 with an offset (default: now).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Say what the tick would do with each due case (as explain does); record nothing.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the tick's report as JSON.")
@click.pass_context
def tick_command(
    ctx: click.Context,
    config_path: Path | None,
    db: str | None,
    policy: Path | None,
    now: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Review every case due in the store, once (the daily job).

    With --config, the store, the policy and the channel adapters come from
    the configuration file (docs/configuration.md); messages go out through
    those adapters.  With --db and --policy there are no adapters: the tick
    refuses to run a policy that sends messages (no delivery is ever recorded
    that did not happen), but --dry-run plans it.  Prints what the tick did.

    Exit status: 0, 1 when a case review raised, 2 when the command was
    misused (no such database, a time without an offset, a bad configuration
    file, a channel the policy sends on without an adapter).
    """
    import json
    from contextlib import ExitStack

    from .engine import Engine
    from .stores import open_store
    from .tuning import collector_paused

    if (config_path is None) == (db is None or policy is None) or (
        config_path is not None and (db is not None or policy is not None)
    ):
        raise click.UsageError("give either --config FILE, or --db FILE and --policy POLICY")
    moment = _moment(now, "--now")
    _not_ahead(moment, "--now")
    with ExitStack() as stack:
        config = None
        if config_path is not None:
            config = _config(ctx, config_path)
            from .runner import logs_from

            stack.enter_context(nullcontext() if dry_run else logs_from(config))
        stack.enter_context(_engine_logs(False) if config is None or dry_run else nullcontext())
        if config is None:
            assert db is not None
            assert policy is not None
            chosen = _load(policy)
            store: Any = stack.enter_context(open_store(_existing(db)))
            engine = Engine(policy=chosen, store=store)
        else:
            store = stack.enter_context(config.open_store())
            if dry_run:
                engine = Engine(policy=config.load_policy(), store=store)
            else:
                engine = _configured_engine(ctx, config, store)
        if dry_run:
            _dry_run(engine, moment, as_json)
            ctx.exit(DONE)
        missing = engine.missing_channels()
        if missing:
            listed = ", ".join(missing)
            _refuse(
                ctx,
                f"no channel adapter for {listed}: the policy's steps send on it; name the "
                "adapters in a configuration file (--config arrears.toml), or plan with --dry-run",
            )
        with collector_paused():  # the command owns its process
            if config is None:
                report = engine.tick(moment)
            else:
                report = engine.tick(
                    moment,
                    batch=config.run.batch,
                    owner=config.owner,
                    lease_for=config.run.lease_for,
                )
    if as_json:
        click.echo(json.dumps(report.to_json(), sort_keys=True))
    else:
        click.echo(
            f"tick at {report.at.isoformat()}: {report.reviewed} reviewed, {report.sent} sent, "
            f"{report.denied} denied, {report.tasks} tasks, {report.fired} fired, "
            f"{report.recovered} recovered ({report.unknown} unknown), "
            f"{report.caught_up} caught up, {report.missed} missed, "
            f"{len(report.errors)} errors"
        )
    for case_id, error in report.errors:
        click.echo(f"{case_id}: {error}", err=True)
    ctx.exit(FAILED if report.errors else DONE)


def _dry_run(engine: Any, moment: datetime | None, as_json: bool) -> None:
    """What the tick would do with each due case, as `Engine.explain` says; nothing recorded."""
    import json

    at = moment or engine.clock.now()
    due = engine.store.due(at)
    explained = [engine.explain(case_id, at) for case_id in due]
    if as_json:
        rows = [
            {
                "case_id": item.case_id,
                "escalations": [c.trigger for c in item.escalations if c.would_fire],
                "steps": [
                    {"source": step.source, "action": step.action, "blocked": step.blocked}
                    for step in item.steps
                ],
                "next_review_at": item.next_review_at.isoformat(),
            }
            for item in explained
        ]
        click.echo(json.dumps({"at": at.isoformat(), "due": rows}, sort_keys=True))
        return
    for item in explained:
        click.echo(str(item))
        click.echo("")
    click.echo(f"dry run at {at.isoformat()}: {len(due)} cases due; nothing was recorded")


@main.command("run")
@click.option(
    "--config",
    "config_path",
    required=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The configuration file (arrears.toml).",
)
@click.option(
    "--status-file",
    default=None,
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rewrite this JSON file with the run's status after every batch "
    "(default: run.status_file).",
)
@click.option(
    "--start",
    default=None,
    metavar="TIME",
    help="Simulate time: tick at TIME, then every run.every after it, without waiting "
    "(a replay or a test). ISO 8601 with an offset.",
)
@click.option(
    "--until",
    default=None,
    metavar="TIME",
    help="Stop before the first tick after TIME. ISO 8601 with an offset.",
)
@click.pass_context
def run_command(
    ctx: click.Context,
    config_path: Path,
    status_file: Path | None,
    start: str | None,
    until: str | None,
) -> None:
    """Tick on the configuration's cadence until stopped (SIGTERM or SIGINT).

    Each tick reviews the due cases batch by batch under this worker's lease
    owner.  The first SIGTERM or SIGINT stops after the batch under way; a
    second abandons it (safe: the outbox closes what it left open).  SIGUSR1
    prints a status line.

    Exit status: 0 stopped as asked; 1 stopped, and a case review raised
    during the run; 2 refused to start (a bad configuration file, a policy
    that does not load, no such database, a channel the policy sends on
    without an adapter); 3 gave up after run.max_failures failed ticks in a
    row; 4 a second signal abandoned the batch under way.
    """
    from .clock import SettableClock
    from .runner import Runner, logs_from

    first, last = _moment(start, "--start"), _moment(until, "--until")
    if first is not None and last is not None and last < first:
        raise click.BadParameter("is before --start", param_hint="--until")
    config = _config(ctx, config_path)
    if (status_file or config.status_file) is not None:
        _output(Path(status_file or config.status_file), "--status-file")
    clock = SettableClock(first) if first is not None else None
    with logs_from(config), config.open_store() as store:
        engine = _configured_engine(ctx, config, store, clock)
        runner = Runner(
            engine,
            every=config.run.every,
            owner=config.owner,
            lease_for=config.run.lease_for,
            batch=config.run.batch,
            status_file=status_file or config.status_file,
            start=first,
            until=last,
            max_failures=config.run.max_failures,
        )
        code = runner.run()
    ctx.exit(code)


@main.command("explain")
@_DB_OPTION
@click.argument("case_id", required=False)
@click.option(
    "--debtor",
    "debtor_id",
    default=None,
    metavar="DEBTOR",
    help="Explain every loan of this debtor instead of one case.",
)
@click.option("--at", default=None, metavar="TIME", help="ISO 8601 with an offset (default: now).")
@click.option(
    "--policy",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The policy to explain the case under.",
)
@click.pass_context
def explain_command(
    ctx: click.Context,
    db: str,
    case_id: str | None,
    debtor_id: str | None,
    at: str | None,
    policy: Path,
) -> None:
    """Say what POLICY would do with CASE_ID (or every loan of --debtor) now (or --at), and why.

    Nothing is recorded.  For a debtor with several loans, the explanation
    ends with each of their loans and today's contacts across them.

    Exit status: 0, 1 when the store has no such case (or no case of the
    debtor) or a case that does not read as a case (edited by hand: the
    case and its fields are named), 2 when the command was misused.
    """
    from .engine import Engine
    from .errors import CaseUnreadable, InvalidInput, UnknownCase
    from .stores import open_store

    if (case_id is None) == (debtor_id is None):
        raise click.UsageError("name a CASE_ID or give --debtor, not both")
    moment = _moment(at, "--at")
    chosen = _load(policy)
    with _engine_logs(False), open_store(_existing(db)) as store:
        engine = Engine(policy=chosen, store=store)
        if debtor_id is not None:
            try:
                click.echo(str(engine.explain_debtor(debtor_id, moment)))
            except CaseUnreadable as err:
                click.echo(str(err), err=True)
                ctx.exit(FAILED)
            except InvalidInput as err:
                if err.field != "debtor_id":
                    raise
                click.echo(f"no case of debtor {debtor_id!r} in {db}", err=True)
                ctx.exit(FAILED)
            return
        assert case_id is not None
        try:
            click.echo(str(engine.explain(case_id, moment)))
        except UnknownCase:
            click.echo(f"no case {case_id!r} in {db}", err=True)
            ctx.exit(FAILED)
        except CaseUnreadable as err:
            click.echo(str(err), err=True)
            ctx.exit(FAILED)


@main.command("tasks")
@_DB_OPTION
@click.option("--queue", default=None, help="Only the tasks of this queue.")
@click.option("--assignee", default=None, help="Only the tasks of this agent.")
@click.pass_context
def tasks_command(ctx: click.Context, db: str, queue: str | None, assignee: str | None) -> None:
    """List the open tasks, most urgent first, each with every loan it covers.

    One line per task (id, kind, queue, priority, due time, assignee), then
    one per case it covers: its id, stage and arrears (no name, number or
    address).  Exit status: 0, 1 when a stored case does not read as a case
    (edited by hand: the case and its fields are named), 2 when the command
    was misused.
    """
    from .engine import Engine
    from .errors import CaseUnreadable
    from .stores import open_store

    with _engine_logs(False), open_store(_existing(db)) as store:
        engine = Engine(store=store)
        try:
            found = engine.tasks(queue=queue, assignee=assignee)
            lines = []
            for task in found:
                lines.append(
                    f"{task.id} {task.kind} in {task.queue}, priority {task.priority}, "
                    f"due {task.due_at.isoformat()}, assignee {task.assignee or '-'}"
                )
                for case_id in task.cases:
                    case = store.get(case_id)
                    lines.append(f"  {case_id}: {case.stage}, arrears {case.arrears}")
        except CaseUnreadable as err:
            click.echo(str(err), err=True)
            ctx.exit(FAILED)
        for line in lines:
            click.echo(line)
        click.echo(f"open tasks: {len(found)}")


@main.command("report")
@_DB_OPTION
@click.option(
    "--html",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the HTML report (charts included, readable offline) there.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the KPIs as JSON.")
@click.option(
    "--from",
    "start",
    metavar="TIME",
    default=None,
    help="The window's first moment, ISO 8601 with an offset (default: the first case opened).",
)
@click.option(
    "--to",
    "end",
    metavar="TIME",
    default=None,
    help="The moment after the window's last, ISO 8601 with an offset (default: whole days "
    "from --from past the journal's last entry).",
)
@click.option(
    "--champion",
    metavar="VARIANT",
    default=None,
    help="The champion variant challengers are compared with (default: the variant named "
    "champion, else the first by name).",
)
@_locale_option("the language more than half of the cases' debtors read, else en")
@_COST_OPTION
def report_command(
    db: str,
    html: Path | None,
    as_json: bool,
    start: str | None,
    end: str | None,
    champion: str | None,
    locale: str | None,
    costs: tuple[str, ...],
) -> None:
    """Print the KPIs of every case in the store over a window, from its journal.

    The window is [--from, --to); the table says which it is, and every
    figure is defined in the KPI definitions (docs/kpis.md).  Optionally
    writes the HTML report.  Both are in the language more than half of the
    cases' debtors read (their locale), else in English; --lang en or
    --lang zh-CN chooses.

    Exit status: 0, or 2 when the command was misused (no such database, a
    time without an offset, --to not after --from).
    """
    import json as json_module

    from .errors import InvalidInput
    from .kpi import kpis_from_journal
    from .stores import open_store

    first, last = _moment(start, "--from"), _moment(end, "--to")
    if html is not None:
        _output(html, "--html")
    with _engine_logs(False), open_store(_existing(db)) as store:
        try:
            report = kpis_from_journal(
                store.chains(), costs=_costs(costs), start=first, end=last, champion=champion
            )
        except InvalidInput as err:
            hints = {"champion": "--champion", "start": "--from"}
            hint = hints.get(err.field, "--to")
            raise click.BadParameter(str(err), param_hint=hint) from None
    language = locale or report.locale
    if as_json:
        click.echo(json_module.dumps(report.to_json(), ensure_ascii=False, sort_keys=True))
    else:
        click.echo(report.table(language), nl=False)
    if html is not None:
        from .report import write_html
        from .report_text import report_locale

        title = report_locale(language).text.title_of.format(name=Path(db).name)
        write_html(report, html, title=title, locale=language)
        click.echo(f"report: {html}", err=as_json)


@main.group("journal")
def journal_group() -> None:
    """Verify, checkpoint, prove or export the hash-chained journal of a store."""


#: Problems shown one a line before the count of them all.
_SHOWN_PROBLEMS: Final = 10

_CHECKPOINTS_OPTION = click.option(
    "--checkpoints",
    "checkpoints",
    default=None,
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The checkpoint file (JSON Lines, kept outside the database).",
)
_KEY_OPTION = click.option(
    "--key",
    "keys",
    multiple=True,
    metavar="KEY",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A key file: Ed25519 PEM (private or public) or HMAC hex; repeat across a change of key.",
)


def _keys(paths: Sequence[Path]) -> list[Any]:
    """The keys in *paths*; a file that is not a key is a usage error (exit 2)."""
    from .errors import InvalidInput
    from .signing import load_key

    keys = []
    for path in paths:
        try:
            keys.append(load_key(path))
        except InvalidInput as err:
            raise click.BadParameter(
                f"{path}: expected {err.expected}", param_hint="--key"
            ) from None
    return keys


def _checkpoint_log(path: Path, keys: Sequence[Any]) -> Any:
    """The checkpoint file read and checked with *keys* (an empty log when there is no file)."""
    from .checkpoints import CheckpointLog, read_checkpoints

    if not path.exists():
        return CheckpointLog()
    # Bytes that are not UTF-8 make a line that does not hold (reported), not an exception.
    with path.open(encoding="utf-8", errors="replace") as lines:
        return read_checkpoints(lines, keys)


def _tampered(problems: Sequence[Any], prefix: str = "TAMPERED") -> None:
    """Each problem (the first ten) on a line of its own, then how many there are in all."""
    for problem in problems[:_SHOWN_PROBLEMS]:
        click.echo(f"{prefix}: {problem}")
    if len(problems) > 1:
        click.echo(f"{len(problems)} problems in all")


@journal_group.command("verify")
@_DB_OPTION
@_CHECKPOINTS_OPTION
@_KEY_OPTION
@click.option(
    "--reschedule",
    is_flag=True,
    help="Put every open case found unscheduled back on the review schedule, as its "
    "journal says (Engine.reschedule).",
)
@click.pass_context
def journal_verify_command(
    ctx: click.Context,
    db: str,
    checkpoints: Path | None,
    keys: tuple[Path, ...],
    reschedule: bool,
) -> None:
    """Check every case's hash chain in the store, and every stored case against its replay.

    With --checkpoints and --key, every case of the file's latest checkpoint
    must still be in the store with its chain holding the checkpointed head:
    a chain edited and sealed again, cut short or replaced, or a case
    deleted, is found even when the head in the store was moved to match.

    Prints "OK: N cases, M entries" when everything holds, or each bad entry
    (case, position, what is wrong; the first ten) and how many problems
    there are.

    An open case with no review scheduled, or leased further ahead than any
    tick leases, is "unscheduled"; with --reschedule each is put back on the
    schedule ("rescheduled CASE at TIME") and is no longer a problem.

    Exit status: 0 when intact, 1 when anything was changed, removed,
    rewritten, reordered or unscheduled (or the checkpoint file does not
    hold), 2 when the command was misused.
    """
    from .engine import Engine
    from .errors import JournalCorrupted
    from .stores import open_store

    if (checkpoints is None) != (not keys):
        raise click.UsageError("--checkpoints and --key go together")
    anchors = None
    if checkpoints is not None:
        if not checkpoints.is_file():
            raise click.BadParameter(f"no such file: {checkpoints}", param_hint="--checkpoints")
        log = _checkpoint_log(checkpoints, _keys(keys))
        if not log.checkpoints and not log.problems:
            raise click.BadParameter(f"no checkpoint in {checkpoints}", param_hint="--checkpoints")
        try:
            anchors = log.anchors()
        except JournalCorrupted as corrupted:
            _tampered(corrupted.problems, "CHECKPOINTS")
            ctx.exit(FAILED)
    with _engine_logs(False), open_store(_existing(db)) as store:
        engine = Engine(store=store)
        problems = engine.verify(anchors)
        if reschedule:
            for case_id in dict.fromkeys(p.case_id for p in problems if p.problem == "unscheduled"):
                moment = engine.reschedule(case_id)
                click.echo(f"rescheduled {case_id} at {moment.isoformat()}")
            problems = [p for p in problems if p.problem != "unscheduled"]
        cases = len(store)
        entries = sum(len(chain) for _, chain in store.chains()) if not problems else 0
    if problems:
        _tampered(problems)
        ctx.exit(FAILED)
    line = f"OK: {cases} cases, {entries} entries"
    if anchors is not None:
        checkpoint = anchors.checkpoint
        line += (
            f"; checkpoint #{checkpoint.number} of {checkpoint.statement['at']} holds "
            f"({len(anchors.heads)} cases anchored, {cases - len(anchors.heads)} opened since)"
        )
    click.echo(line)
    ctx.exit(DONE)


@journal_group.command("keygen")
@click.option(
    "--out",
    "prefix",
    required=True,
    metavar="PREFIX",
    help="Where the key goes: PREFIX.key and PREFIX.pub (Ed25519), or PREFIX.hmac.",
)
@click.option("--hmac", "use_hmac", is_flag=True, help="An HMAC-SHA256 secret instead.")
def journal_keygen_command(prefix: str, use_hmac: bool) -> None:
    """Make a key that signs checkpoints and exports.

    Ed25519 by default: PREFIX.key, the private key (readable by its owner
    only; keep it off every host that writes the database), and PREFIX.pub,
    the public key that verifies.  With --hmac, PREFIX.hmac: one secret that
    both signs and verifies.  An existing file is never overwritten.

    Exit status: 0, or 2 when a file is already there or the command was misused.
    """
    import os

    from .signing import Key, generate_ed25519_key, generate_hmac_key

    if use_hmac:
        files = {Path(f"{prefix}.hmac"): generate_hmac_key()}
    else:
        private, public = generate_ed25519_key()
        files = {Path(f"{prefix}.key"): private, Path(f"{prefix}.pub"): public}
    for path in files:
        if path.exists():
            raise click.BadParameter(f"{path} exists; not overwritten", param_hint="--out")
        _output(path, "--out")
    for (path, data), secret in zip(files.items(), (True, False), strict=False):
        # The secret file is created readable by its owner only, never by others.
        with open(
            os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if secret else 0o644), "wb"
        ) as out:
            out.write(data)
    key = Key.from_bytes(next(iter(files.values())))
    for path in files:
        click.echo(f"wrote {path}")
    click.echo(f"key id: {key.key_id} ({key.algorithm})")


@journal_group.command("checkpoint")
@_DB_OPTION
@click.option(
    "--checkpoints",
    required=True,
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The checkpoint file to append to (created when missing), kept outside the database.",
)
@click.option(
    "--key",
    "key_path",
    required=True,
    metavar="KEY",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signing key: an Ed25519 private key (PEM) or an HMAC key.",
)
@click.option(
    "--purged",
    multiple=True,
    metavar="ID",
    help="A case of the last checkpoint deleted on purpose since (retention); repeatable.",
)
@click.pass_context
def journal_checkpoint_command(
    ctx: click.Context, db: str, checkpoints: Path, key_path: Path, purged: tuple[str, ...]
) -> None:
    """Append a signed checkpoint of every case's chain head to the checkpoint file.

    The journal is verified first, against its heads and against the file's
    last checkpoint; nothing is appended when it does not hold.  Prints the
    checkpoint: its number, time, counts, Merkle root and key.

    Exit status: 0, 1 when the journal or the checkpoint file does not hold,
    2 when the command was misused (a missing case not named in --purged, a
    key that cannot sign).
    """
    from .checkpoints import append_checkpoint
    from .engine import Engine
    from .errors import InvalidInput, JournalCorrupted
    from .stores import open_store

    key = _keys([key_path])[0]
    if not key.can_sign:
        raise click.BadParameter(
            f"{key_path} is a public key; a private or HMAC key signs", param_hint="--key"
        )
    _output(checkpoints, "--checkpoints")
    log = _checkpoint_log(checkpoints, [key])
    with _engine_logs(False), open_store(_existing(db)) as store:
        try:
            checkpoint = Engine(store=store).checkpoint(key, log, purged=purged)
        except JournalCorrupted as corrupted:
            _tampered(corrupted.problems)
            ctx.exit(FAILED)
        except InvalidInput as err:
            raise click.BadParameter(
                f"{err.value}: expected {err.expected}", param_hint=f"--{err.field}"
            ) from None
    append_checkpoint(checkpoints, checkpoint)
    click.echo(f"{checkpoint} -> {checkpoints}")
    ctx.exit(DONE)


@journal_group.command("prove")
@click.argument("case_id", metavar="CASE")
@click.option(
    "--checkpoints",
    required=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The checkpoint file.",
)
@_KEY_OPTION
@click.option(
    "--number", type=int, default=None, help="Which checkpoint (the latest when omitted)."
)
@click.pass_context
def journal_prove_command(
    ctx: click.Context, case_id: str, checkpoints: Path, keys: tuple[Path, ...], number: int | None
) -> None:
    """Print a proof (JSON) that CASE's chain head is in a signed checkpoint.

    An auditor checks it with `arrears journal verify-proof` and the public
    key alone, without the journal or the other cases.

    Exit status: 0, 1 when the checkpoint file does not hold or the
    checkpoint does not hold CASE, 2 when the command was misused.
    """
    from .errors import InvalidInput, JournalCorrupted

    if not keys:
        raise click.UsageError("--key is required: the file is checked before a proof is made")
    log = _checkpoint_log(checkpoints, _keys(keys))
    try:
        proof = log.prove(case_id, number)
    except JournalCorrupted as corrupted:
        _tampered(corrupted.problems, "CHECKPOINTS")
        ctx.exit(FAILED)
    except InvalidInput as err:
        click.echo(f"{err.field}: got {err.value!r}, expected {err.expected}", err=True)
        ctx.exit(FAILED)
    click.echo(proof.to_json())
    ctx.exit(DONE)


@journal_group.command("verify-proof")
@click.argument(
    "proof_file", metavar="PROOF", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@_KEY_OPTION
@click.pass_context
def journal_verify_proof_command(
    ctx: click.Context, proof_file: Path, keys: tuple[Path, ...]
) -> None:
    """Check an inclusion proof (from `arrears journal prove`) with the public key alone.

    Exit status: 0 when it holds, 1 when it does not, 2 when the command was
    misused (no --key, a file that is not a proof).
    """
    from .errors import InvalidInput
    from .merkle import InclusionProof, verify_proof

    if not keys:
        raise click.UsageError("--key is required")
    try:
        proof = InclusionProof.from_json(proof_file.read_bytes())
    except InvalidInput as err:
        raise click.BadParameter(
            f"{proof_file}: expected {err.expected}", param_hint="PROOF"
        ) from None
    problems = verify_proof(proof, _keys(keys))
    if problems:
        _tampered(problems)
        ctx.exit(FAILED)
    statement = proof.statement
    click.echo(
        f"OK: case {proof.case_id!r} had {proof.count} entries, head {proof.head[:16]}, "
        f"in checkpoint #{statement['number']} of {statement['at']} "
        f"(root {str(statement['root'])[:16]}, {statement['algorithm']} key {statement['key']})"
    )
    ctx.exit(DONE)


@journal_group.command("export")
@_DB_OPTION
@click.option("--case", "case_id", default=None, metavar="ID", help="Only this case's chain.")
@click.option(
    "--key",
    "key_path",
    default=None,
    metavar="KEY",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sign the seal with this key (an Ed25519 private key or an HMAC key).",
)
@click.pass_context
def journal_export_command(
    ctx: click.Context, db: str, case_id: str | None, key_path: Path | None
) -> None:
    """Write the journal as JSON Lines (one sealed entry a line) to standard output.

    With --key the seal line is signed (`arrears journal verify-export` checks it).

    Exit status: 0, 1 when the store has no such case, 2 when the command was misused.
    """
    from .journal import write_jsonl
    from .stores import open_store

    key = None if key_path is None else _keys([key_path])[0]
    if key is not None and not key.can_sign:
        raise click.BadParameter(
            f"{key_path} is a public key; a private or HMAC key signs", param_hint="--key"
        )
    with _engine_logs(False), open_store(_existing(db)) as store:
        if case_id is None:
            write_jsonl(store.chains(), sys.stdout, key)
            return
        if case_id not in store:
            click.echo(f"no case {case_id!r} in {db}", err=True)
            ctx.exit(FAILED)
        write_jsonl([(case_id, store.entries(case_id))], sys.stdout, key)


@journal_group.command("verify-export")
@click.argument(
    "export_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@_KEY_OPTION
@click.pass_context
def journal_verify_export_command(
    ctx: click.Context, export_file: Path, keys: tuple[Path, ...]
) -> None:
    """Check an export (from `arrears journal export`): every line, every chain, the seal.

    Says whether the seal is signed: with --key a signature by that key is
    required (an unsigned export fails); without it an unsigned export
    passes, and the line says "unsigned".

    Exit status: 0 when it holds, 1 when it does not, 2 when the command was misused.
    """
    from .journal import read_export

    with export_file.open(encoding="utf-8", errors="replace") as lines:  # not UTF-8: does not hold
        chains, problems, signature = read_export(lines, _keys(keys) or None)
    if problems:
        _tampered(problems)
        ctx.exit(FAILED)
    entries = sum(len(chain) for chain in chains.values())
    if signature is None:
        signed = "unsigned: anyone who rewrote the file could have sealed it again"
    elif signature.verified:
        signed = f"signed by {signature.algorithm} key {signature.key_id}, verified"
    else:
        signed = f"signed by {signature.algorithm} key {signature.key_id}, not checked (no --key)"
    click.echo(f"OK: {len(chains)} cases, {entries} entries; {signed}")
    ctx.exit(DONE)


# -- outbox ------------------------------------------------------------------------------------
#: ``arrears outbox check`` flags open intents older than this unless told otherwise.
OUTBOX_MAX_AGE: Final = "25h"


def _duration(value: str, option: str) -> Any:
    """``90m``, ``25h``, ``2d`` (or a number of seconds) as a timedelta; a usage error else."""
    from datetime import timedelta

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = value.strip().lower()
    scale = units.get(text[-1:])
    number = text[:-1] if scale is not None else text
    try:
        amount = float(number)
    except ValueError:
        amount = -1.0
    if not amount >= 0 or amount == float("inf"):
        raise click.BadParameter(
            f"{value!r} is not a duration such as 90m, 25h or 2d", param_hint=option
        )
    return timedelta(seconds=amount * (scale or 1))


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return f"{days}d{hours:02d}h{minutes:02d}m" if days else f"{hours}h{minutes:02d}m"


@main.group("outbox")
def outbox_group() -> None:
    """Inspect the outbox: messages journaled as about to be sent whose result is not."""


@outbox_group.command("check")
@_DB_OPTION
@click.option(
    "--older-than",
    "older_than",
    default=OUTBOX_MAX_AGE,
    show_default=True,
    metavar="AGE",
    help="Fail when an open intent is older than this (90m, 25h, 2d).",
)
@click.option("--now", default=None, metavar="TIME", help="ISO 8601 with an offset (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print the open intents as JSON.")
@click.pass_context
def outbox_check_command(
    ctx: click.Context, db: str, older_than: str, now: str | None, as_json: bool
) -> None:
    """List every outbox intent still without a result: case, key, channel, age.

    The tick closes an open intent at its case's next review (docs/operations.md,
    "Outbox recovery"); one older than --older-than has missed it.  Reads every
    chain whole.  Prints one line per open intent and a summary line.

    Exit status: 0 when none is older than --older-than, 1 when any is, 2 when
    the command was misused (no such database, a bad age or time).
    """
    import json as json_module
    from datetime import UTC

    from .outbox import open_intents
    from .stores import open_store

    limit = _duration(older_than, "--older-than")
    moment = _moment(now, "--now") or datetime.now(UTC)
    with _engine_logs(False), open_store(_existing(db)) as store:
        found = open_intents(store.chains())
    late = [intent for intent in found if intent.age(moment) > limit]
    if as_json:
        rows = [dict(intent.to_json(moment), late=intent in late) for intent in found]
        click.echo(json_module.dumps(rows, sort_keys=True))
    else:
        for intent in found:
            age = _age(intent.age(moment).total_seconds())
            mark = "  LATE" if intent in late else ""
            click.echo(f"{intent.case_id}\t{intent.key}\t{intent.channel}\t{age}{mark}")
        click.echo(f"{len(found)} open, {len(late)} older than {older_than}", err=True)
    ctx.exit(FAILED if late else DONE)
