"""Every code block in the docs runs, and prints what the docs show it printing.

The pages are README.md and every page under docs/ (sub-folders too).  The
blocks of one page run in order, as a reader would go through them, in a
scratch folder of the page's own that holds links to the repository's
top-level files and folders (so ``examples/policies/...`` is there, and what
a block writes stays out of the repository):

- ``python`` blocks run in one namespace per page.  When the next block is a
  ``text`` block, what the block printed must be that text.
- ``pycon`` blocks are interactive sessions, in the same namespace: each
  ``>>>`` statement must print what follows it, by doctest's rules.
- ``console`` blocks are shell sessions: each ``$ `` line is a command run
  by bash (with this environment's ``arrears`` and ``python`` first on the
  PATH), and the lines up to the next ``$ `` line are what it must print,
  standard output and standard error together.  A ``console`` block with no
  ``$ `` line shows output only and runs nothing.  ``arrears demo``, the one
  slow command, runs once per test session: a page that runs it again gets
  the same output and a copy of the files it wrote.
- ``sh`` and ``bash`` blocks are commands for the reader to type (installing,
  the full benchmarks) and do not run.
- A block with a title, `` ```csv title="portfolio.csv" ``, shows a file: it
  is written to the scratch folder under that name, for the blocks after it.

A block that cannot run here (it needs a server, or files the page does not
make) is marked by an HTML comment right before it, giving the reason:
``<!-- not run: needs a PostgreSQL server -->``; its output is then not
compared either.  A ``python``, ``pycon`` or ``console`` block without the
mark must run.

Log lines are filtered to warnings, as docs/index.md says, except on a page
that starts with ``<!-- logs shown -->``: there the blocks run with
structlog's defaults, as in a fresh Python session, and the log lines are
part of what a block prints.

What is shown and what is printed are compared with doctest's checker:
``...`` stands for any text (an output shown in part), and these values,
which differ from run to run, are normalized on both sides first:

- the wall-clock time that starts a structlog line (``2026-09-01 10:00:00``);
- the id of a key ``arrears journal keygen`` makes, a new one each run
  (``key id: 3623d2b94c343e0c``, ``ed25519 key 3623d2b94c343e0c``).

Pages on packs are generated from the packs and must match them exactly;
docs/errors.md lists every error class of `arrears` (in its tree and its
table), and docs/engine.md shows `Engine`'s signature as the code has it.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import inspect
import io
import logging
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest
import structlog

import arrears
from arrears import ArrearsError, Engine
from arrears.compliance import PACKS
from arrears.compliance.reference import pack_reference

ROOT: Final = Path(__file__).resolve().parent.parent
DOCS: Final = ROOT / "docs"

_BLOCK: Final = re.compile(
    r"(?:<!--\s*not run:\s*(?P<reason>[^\n]*?)\s*-->[ \t]*\n)?"
    r"^```(?P<language>[\w-]*)(?:[ \t]+title=\"(?P<title>[^\"\n]+)\")?[^\n]*\n"
    r"(?P<body>.*?)^```[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
#: Blocks that run, each as its language says; any other fenced block is shown only.
_RUN: Final = frozenset({"python", "pycon", "console"})
_LOGS_SHOWN: Final = "<!-- logs shown -->"
#: Values that differ from run to run, and what they become on both sides of a comparison.
_VARIABLE: Final = (
    (re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?=\[)", re.MULTILINE), "<time> "),
    (re.compile(r"\b(key id:|ed25519 key) [0-9a-f]{16}\b"), r"\1 <key id>"),
)
#: Commands that run once per session (they take long and give the same every time).
_ONCE: Final = frozenset({"arrears demo"})
_CHECKER: Final = doctest.OutputChecker()
_FLAGS: Final = doctest.ELLIPSIS


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page."""

    language: str
    body: str
    line: int
    reason: str | None  # why it does not run, from the mark right before it
    title: str | None = None  # the file it shows, from ``title="NAME"``


def pages() -> list[Path]:
    """README.md, then every page under docs/."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix() if page.is_relative_to(DOCS) else page.name


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a page's *text*, in order."""
    return [
        Block(
            found["language"],
            found["body"],
            text.count("\n", 0, found.start("language")) + 1,
            found["reason"],
            found["title"],
        )
        for found in _BLOCK.finditer(text)
    ]


def normalized(text: str) -> str:
    """*text* with the values that differ from run to run (`_VARIABLE`) replaced."""
    for pattern, replacement in _VARIABLE:
        text = pattern.sub(replacement, text)
    return text


def differences(shown: str, printed: str, where: str) -> list[str]:
    """How *printed* differs from *shown*, as doctest compares (``...`` is any text)."""
    want, got = normalized(shown), normalized(printed)
    if _CHECKER.check_output(want, got, _FLAGS):
        return []
    example = doctest.Example(where, want)
    difference = _CHECKER.output_difference(example, got, _FLAGS | doctest.REPORT_UDIFF)
    return [f"{where} prints other than the docs show:\n{difference}"]


class _Stdout:
    """Writes to whatever ``sys.stdout`` is now, as a log line printed in a session would."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@contextlib.contextmanager
def logging_as(page_text: str) -> Iterator[None]:
    if page_text.startswith(_LOGS_SHOWN):
        structlog.reset_defaults()
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=_Stdout()))
    else:
        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        yield
    finally:
        structlog.reset_defaults()


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with the repository's top-level files and folders linked in; the cwd."""
    for entry in ROOT.iterdir():
        if not entry.name.startswith("."):
            (tmp_path / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("page", pages(), ids=page_id)
def test_code_blocks_run_and_print_what_is_shown(
    page: Path,
    scratch: Path,
    ran_once: dict[str, tuple[str, Path]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    text = page.read_text(encoding="utf-8")
    found = blocks(text)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    problems: list[str] = []  # every block's, so one run shows them all
    with logging_as(text):
        for index, block in enumerate(found):
            if block.title is not None and not block.reason:
                assert Path(block.title).name == block.title, f"{block.title}: a file name"
                (scratch / block.title).write_text(block.body, encoding="utf-8")
                continue
            if block.language not in _RUN or block.reason:
                continue  # shown only, or marked not runnable with its reason
            where = f"{page_id(page)}:{block.line}"
            if block.language == "python":
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    exec(compile(block.body, where, "exec"), namespace)
                following = found[index + 1] if index + 1 < len(found) else None
                if following is not None and following.language == "text":
                    problems += differences(following.body, out.getvalue(), where)
            elif block.language == "pycon":
                problems += run_session(block, namespace, where)
            else:
                problems += run_commands(block, scratch, where, ran_once, tmp_path_factory)
    assert not problems, "\n".join(problems)


def run_session(block: Block, namespace: dict[str, object], where: str) -> list[str]:
    """A ``pycon`` block, by doctest, in the page's namespace; what failed."""
    test = doctest.DocTestParser().get_doctest(block.body, namespace, where, where, block.line)
    report = io.StringIO()
    runner = doctest.DocTestRunner(checker=_Normalizing(), optionflags=_FLAGS)
    result = runner.run(test, out=report.write, clear_globs=False)
    namespace.update(test.globs)  # the doctest ran on a copy: what it defined goes on
    return [report.getvalue()] if result.failed else []


class _Normalizing(doctest.OutputChecker):
    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        return super().check_output(normalized(want), normalized(got), optionflags)


def commands(body: str) -> list[tuple[int, str, str]]:
    """The ``$ `` commands of a console block: (line in the block, command, output shown)."""
    found: list[tuple[int, str, list[str]]] = []
    for number, line in enumerate(body.splitlines(), start=1):
        if line.startswith("$ "):
            found.append((number, line[2:], []))
        elif found:
            found[-1][2].append(line)
    return [
        (number, command, "".join(f"{line}\n" for line in shown))
        for number, command, shown in found
    ]


@pytest.fixture(scope="session")
def ran_once() -> dict[str, tuple[str, Path]]:
    """What the commands in `_ONCE` printed, and a folder with the files they wrote, by command."""
    return {}


def run_commands(
    block: Block,
    folder: Path,
    where: str,
    ran_once: dict[str, tuple[str, Path]],
    temporary: pytest.TempPathFactory,
) -> list[str]:
    """A ``console`` block's commands, in *folder*; how what they printed differs."""
    problems: list[str] = []
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
        "COLUMNS": "80",
    }
    environment.pop("FORCE_COLOR", None)
    for number, command, shown in commands(block.body):
        line = f"{where.rpartition(':')[0]}:{block.line + number}: $ {command}"
        if command in ran_once:
            printed, wrote = ran_once[command]
            for made in wrote.iterdir():
                shutil.copy2(made, folder / made.name)
        else:
            before = set(folder.iterdir())
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=folder,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=600,
                check=False,
            )
            printed = done.stdout
            if command in _ONCE:
                kept = temporary.mktemp("ran-once")
                for made in set(folder.iterdir()) - before:
                    shutil.copy2(made, kept / made.name)
                ran_once[command] = (printed, kept)
        problems += differences(shown, printed, line)
    return problems


def test_every_block_that_does_not_run_says_why() -> None:
    """A not-run mark gives a reason, and sits on a block that would run."""
    for page in pages():
        for block in blocks(page.read_text(encoding="utf-8")):
            if block.reason is not None:
                where = f"{page_id(page)}:{block.line}"
                assert block.reason.strip(), f"{where}: a not-run mark needs a reason"
                assert block.language in _RUN, f"{where}: a {block.language} block never runs"


def test_the_block_parser_reads_languages_marks_and_commands() -> None:
    text = (
        "Intro\n\n<!-- not run: needs a server -->\n```python\nprint(1)\n```\n\n"
        "```console\n$ arrears test x\nPASS x\n1 passed, 0 failed\n$ true\n```\n"
        '```csv title="rows.csv"\nid,currency\n```\n'
    )
    first, second, third = blocks(text)
    assert (third.language, third.title, third.body) == ("csv", "rows.csv", "id,currency\n")
    assert (first.language, first.body, first.line, first.reason) == (
        "python",
        "print(1)\n",
        4,
        "needs a server",
    )
    assert (second.language, second.reason, second.title) == ("console", None, None)
    assert commands(second.body) == [
        (1, "arrears test x", "PASS x\n1 passed, 0 failed\n"),
        (4, "true", ""),
    ]


def test_only_what_varies_is_normalized() -> None:
    shown = "2026-09-01 10:00:00 [info     ] tick   at=2026-09-02T10:00:00+08:00\n"
    printed = "2031-01-17 23:59:07 [info     ] tick   at=2026-09-02T10:00:00+08:00\n"
    assert normalized(shown) == normalized(printed)
    assert normalized(printed.replace("09-02", "09-03")) != normalized(shown)
    assert normalized("key id: 3623d2b94c343e0c (ed25519)") == "key id: <key id> (ed25519)"
    assert normalized("signed by ed25519 key 3623d2b94c343e0c") == "signed by ed25519 key <key id>"
    assert normalized("root 6b179c691c781d63") == "root 6b179c691c781d63"


def error_classes() -> dict[str, type[ArrearsError]]:
    """Every public `ArrearsError` subclass defined anywhere in `arrears`, by name."""
    for module in pkgutil.walk_packages(arrears.__path__, "arrears."):
        try:
            importlib.import_module(module.name)
        except ModuleNotFoundError as missing:  # an optional extra's dependency
            if (missing.name or "").startswith("arrears"):
                raise
    found: dict[str, type[ArrearsError]] = {}
    waiting: list[type[ArrearsError]] = [ArrearsError]
    while waiting:
        error = waiting.pop()
        if error.__module__.startswith("arrears") and not error.__name__.startswith("_"):
            found[error.__name__] = error
        waiting.extend(error.__subclasses__())
    return found


def test_errors_page_lists_every_error_class() -> None:
    """docs/errors.md draws each error in its tree and gives it a row of its table."""
    page = (DOCS / "errors.md").read_text(encoding="utf-8")
    tree = blocks(page)[0].body
    drawn = set(re.findall(r"^[│├└─ ]*(\w+)", tree, re.MULTILINE))
    rows = set(re.findall(r"^\| `(\w+)` \|", page, re.MULTILINE))
    classes = error_classes()
    assert {"ArrearsError", "InvalidInput", "ChannelsMissing"} <= set(classes)
    assert sorted(set(classes) - drawn) == [], "errors missing from the tree in docs/errors.md"
    assert sorted(set(classes) - rows) == [], "errors without a row in docs/errors.md"
    assert sorted(drawn - set(classes)) == [], "the tree in docs/errors.md names no such error"
    for name, error in classes.items():  # drawn under its parent, as the class derives
        parents = [base.__name__ for base in error.__bases__ if issubclass(base, ArrearsError)]
        if parents:
            line = next(line for line in tree.splitlines() if re.search(rf"\b{name}\b", line))
            above = tree[: tree.index(line)].splitlines()
            depth = len(line) - len(line.lstrip("│├└─ "))
            parent = next(
                row for row in reversed(above) if len(row) - len(row.lstrip("│├└─ ")) < depth
            )
            assert parents[0] in parent, f"{name} is drawn under {parent.strip()}"


def signature(function: Callable[..., object], name: str) -> str:
    """*name*'s call as the docs write it: each argument with its default, no annotations."""
    shown: list[str] = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name == "self":
            continue
        if parameter.kind is parameter.KEYWORD_ONLY and "*" not in shown:
            shown.append("*")
        default = parameter.default
        shown.append(
            parameter.name if default is parameter.empty else f"{parameter.name}={default!r}"
        )
    return f"{name}({', '.join(shown)})"


def test_engine_page_shows_the_constructor_as_it_is() -> None:
    """docs/engine.md gives `Engine`'s signature as the code has it, and a row per argument."""
    page = (DOCS / "engine.md").read_text(encoding="utf-8")
    shown = signature(Engine.__init__, "Engine")
    assert f"`{shown}`" in page, f"docs/engine.md should show {shown}"
    rows = set(re.findall(r"^\| `(\w+)` \|", page[: page.index("## Time")], re.MULTILINE))
    assert rows == set(inspect.signature(Engine.__init__).parameters) - {"self"}


@pytest.mark.parametrize("pack_id", sorted(PACKS))
def test_pack_pages_match_the_packs(pack_id: str) -> None:
    """docs/packs/ is written by `python -m arrears.compliance.reference docs/packs`."""
    page = DOCS / "packs" / f"{pack_id}.md"
    assert page.read_text(encoding="utf-8") == pack_reference(PACKS[pack_id])
