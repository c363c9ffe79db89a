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
from typing import Any, Final

import click

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

    configured = structlog.is_configured()
    saved = structlog.get_config()
    level = logging.DEBUG if verbose else logging.WARNING
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    try:
        yield
    finally:
        if configured:
            structlog.configure(**saved)
        else:
            structlog.reset_defaults()


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
    lender details are validated, and every template its steps send is looked
    up in its templates folder, checked against its packs, and checked for
    variables a review would not give it.  Prints "OK path (id version): N
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
            continue
        troubled += 1
        for problem in result.problems:
            click.echo(str(problem))
    ctx.exit(SOME_PROBLEMS if troubled else ALL_SOUND)


#: Exit statuses of ``arrears import`` (a usage error exits 2, as click does).
ALL_IMPORTED: Final = 0
SOME_ROWS_FAILED: Final = 1
USAGE_ERROR: Final = 2


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
@click.argument("portfolio", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def import_command(
    ctx: click.Context,
    target: str,
    format_: str | None,
    policy: Path | None,
    portfolio: Path,
) -> None:
    """Open a case for every row of PORTFOLIO, a CSV or JSON Lines file (docs/stores.md).

    Valid rows are kept; each bad row is reported on standard error as
    "file:row N: field: message", without personal data.  Prints "imported N
    of M rows".

    Exit status: 0 when every row was imported, 1 when any row failed, 2 when
    the command was misused (no such file, an unknown format or CSV column).
    """
    from .engine import Engine
    from .importer import PortfolioInvalid, import_portfolio
    from .policy import load_policy
    from .stores import open_store

    chosen = load_policy(policy) if policy is not None else None
    with _engine_logs(False), open_store(target) as store:
        engine = Engine(store=store, policy=chosen)
        try:
            report = import_portfolio(
                engine,
                portfolio,
                format=format_,  # type: ignore[arg-type]
            )
        except PortfolioInvalid as err:
            click.echo(f"Error: {err}", err=True)
            ctx.exit(USAGE_ERROR)
    for problem in report.errors:
        click.echo(f"{portfolio}:{problem}", err=True)
    click.echo(f"imported {report.imported} of {report.rows} rows")
    ctx.exit(ALL_IMPORTED if report.ok else SOME_ROWS_FAILED)


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
    return moment


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


def _existing(db: str) -> str:
    """A store to read: an SQLite file that is there (or a PostgreSQL URL)."""
    if not db.startswith(("postgresql://", "postgres://")) and not Path(db).is_file():
        raise click.BadParameter(f"no such database file: {db}", param_hint="--db")
    return db


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
    title: str,
) -> int:
    """Run a simulation, print its KPIs, write the report; the exit status."""
    import json as json_module

    from .simulate import Simulation
    from .stores import open_store
    from .tuning import collector_paused

    policy = _load(policy_path)
    store_context = open_store(db) if db is not None else nullcontext(None)
    with _engine_logs(False), store_context as store:
        simulation = Simulation(policy, seed=seed, store=store, costs=_costs(costs))
        # The command owns its process: the collector is paused for the run.
        with _progress("simulating", days) as advance, collector_paused():
            result = simulation.run(portfolio, days=days, progress=advance)
        report = result.kpis()
        if as_json:
            click.echo(json_module.dumps(report.to_json(), ensure_ascii=False, sort_keys=True))
        else:
            click.echo(report.table(), nl=False)
        if html is not None:
            from .report import write_html

            notes = [
                f"policy {policy.id} {policy.version}, seed {seed}, {result.dials:,} dials by "
                f"agents ({result.denied_dials:,} denied), {result.payments:,} payments"
            ]
            write_html(report, html, title=title, notes=notes)
            click.echo(f"report: {html}", err=as_json)
    if result.errors:
        click.echo(f"{result.errors} case reviews raised (see the log)", err=True)
        return FAILED
    return DONE


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
    costs: tuple[str, ...],
) -> None:
    """Run the example: synthetic consumer loans through the CN policy for 120 days.

    Builds a synthetic portfolio of Chinese consumer-finance cases, opens them
    in an SQLite file, runs the example CN policy with fake channels and
    simulated debtors and agents (every contact judged by the compliance
    packs), prints the KPI table and writes the HTML report.

    Exit status: 0 when the run finished, 1 when a case review raised, 2 when
    the command was misused.
    """
    from .simulate import synthetic_portfolio

    chosen = policy or _example_policy()
    target = Path(db)
    if target.is_dir():
        raise click.BadParameter(f"{db} is a folder", param_hint="--db")
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
        title="arrears demo: collection report",
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
    costs: tuple[str, ...],
) -> None:
    """Run POLICY over a portfolio for N days with simulated debtors and agents.

    Give the cases with --portfolio FILE or --synthetic N.  Prints the KPIs
    (a table, or JSON with --json); the same seed gives the same KPIs.

    Exit status: 0 when the run finished, 1 when a case review raised, 2 when
    the command was misused (both or neither of --portfolio and --synthetic,
    a policy that does not load, a --db file that exists).
    """
    from .simulate import load_portfolio, synthetic_portfolio

    if (portfolio is None) == (synthetic is None):
        raise click.UsageError("give exactly one of --portfolio FILE and --synthetic N")
    if db is not None and Path(db).exists():
        raise click.BadParameter(f"{db} exists: simulate writes a new database", param_hint="--db")
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
            title=f"Simulation of {policy.name}",
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


@main.command("tick")
@_DB_OPTION
@click.option(
    "--policy",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The policy the cases are reviewed under.",
)
@click.option(
    "--now",
    default=None,
    metavar="TIME",
    help="The tick's moment, ISO 8601 with an offset (default: now).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the tick's report as JSON.")
@click.pass_context
def tick_command(ctx: click.Context, db: str, policy: Path, now: str | None, as_json: bool) -> None:
    """Review every case due in the store under POLICY, once (the daily job).

    Messages go through the outbox to the channels; this command has no
    gateway of its own, so it sends through a channel that records and
    accepts every message.  Prints what the tick did.

    Exit status: 0, 1 when a case review raised, 2 when the command was
    misused (no such database, a time without an offset).
    """
    import json as json_module

    from .channels import RecordingChannel
    from .engine import Engine
    from .stores import open_store
    from .tuning import collector_paused

    moment = _moment(now, "--now")
    chosen = _load(policy)
    with _engine_logs(False), open_store(_existing(db)) as store:
        channel = RecordingChannel(channels=frozenset({"sms", "email", "letter", "voicemail"}))
        engine = Engine(policy=chosen, store=store, channels=[channel])
        with collector_paused():  # the command owns its process
            report = engine.tick(moment)
    if as_json:
        click.echo(json_module.dumps(report.to_json(), sort_keys=True))
    else:
        click.echo(
            f"tick at {report.at.isoformat()}: {report.reviewed} reviewed, {report.sent} sent, "
            f"{report.denied} denied, {report.tasks} tasks, {report.fired} fired, "
            f"{len(report.errors)} errors"
        )
    for case_id, error in report.errors:
        click.echo(f"{case_id}: {error}", err=True)
    ctx.exit(FAILED if report.errors else DONE)


@main.command("explain")
@_DB_OPTION
@click.argument("case_id")
@click.option("--at", default=None, metavar="TIME", help="ISO 8601 with an offset (default: now).")
@click.option(
    "--policy",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The policy to explain the case under.",
)
@click.pass_context
def explain_command(
    ctx: click.Context, db: str, case_id: str, at: str | None, policy: Path
) -> None:
    """Say what POLICY would do with CASE_ID now (or --at), and why; nothing is recorded.

    Exit status: 0, 1 when the store has no such case, 2 when the command was misused.
    """
    from .engine import Engine
    from .errors import UnknownCase
    from .stores import open_store

    moment = _moment(at, "--at")
    chosen = _load(policy)
    with _engine_logs(False), open_store(_existing(db)) as store:
        engine = Engine(policy=chosen, store=store)
        try:
            click.echo(str(engine.explain(case_id, moment)))
        except UnknownCase:
            click.echo(f"no case {case_id!r} in {db}", err=True)
            ctx.exit(FAILED)


@main.command("report")
@_DB_OPTION
@click.option(
    "--html",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the HTML report (charts included, readable offline) there.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the KPIs as JSON.")
@_COST_OPTION
def report_command(db: str, html: Path | None, as_json: bool, costs: tuple[str, ...]) -> None:
    """Print the KPIs of every case in the store, from its journal; optionally write HTML.

    Exit status: 0, or 2 when the command was misused (no such database).
    """
    import json as json_module

    from .kpi import kpis_from_journal
    from .stores import open_store

    with _engine_logs(False), open_store(_existing(db)) as store:
        report = kpis_from_journal(store.chains(), costs=_costs(costs))
    if as_json:
        click.echo(json_module.dumps(report.to_json(), ensure_ascii=False, sort_keys=True))
    else:
        click.echo(report.table(), nl=False)
    if html is not None:
        from .report import write_html

        write_html(report, html, title=f"Collection report: {Path(db).name}")
        click.echo(f"report: {html}", err=as_json)


@main.group("journal")
def journal_group() -> None:
    """Verify or export the hash-chained journal of a store."""


@journal_group.command("verify")
@_DB_OPTION
@click.pass_context
def journal_verify_command(ctx: click.Context, db: str) -> None:
    """Check every case's hash chain in the store.

    Prints "OK: N cases, M entries" when every chain holds, or the first bad
    entry (case, position, what is wrong) and how many problems there are.

    Exit status: 0 when intact, 1 when any entry was changed, removed or
    reordered, 2 when the command was misused.
    """
    from .engine import Engine
    from .stores import open_store

    with _engine_logs(False), open_store(_existing(db)) as store:
        engine = Engine(store=store)
        problems = engine.verify()
        cases = len(store)
        entries = sum(len(chain) for _, chain in store.chains()) if not problems else 0
    if not problems:
        click.echo(f"OK: {cases} cases, {entries} entries")
        ctx.exit(DONE)
    first = problems[0]
    click.echo(f"TAMPERED: {first}")
    if len(problems) > 1:
        click.echo(f"{len(problems)} problems in all")
    ctx.exit(FAILED)


@journal_group.command("export")
@_DB_OPTION
@click.option("--case", "case_id", default=None, metavar="ID", help="Only this case's chain.")
@click.pass_context
def journal_export_command(ctx: click.Context, db: str, case_id: str | None) -> None:
    """Write the journal as JSON Lines (one sealed entry a line) to standard output.

    Exit status: 0, 1 when the store has no such case, 2 when the command was misused.
    """
    from .journal import write_jsonl
    from .stores import open_store

    with _engine_logs(False), open_store(_existing(db)) as store:
        if case_id is None:
            write_jsonl(store.chains(), sys.stdout)
            return
        if case_id not in store:
            click.echo(f"no case {case_id!r} in {db}", err=True)
            ctx.exit(FAILED)
        write_jsonl([(case_id, store.entries(case_id))], sys.stdout)
