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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import click
import structlog

from .testing import ScenarioInvalid, check_policy, run_scenario

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
