"""The shape of the package: no import cycles between its modules, no module grown too long.

Every import counts: at the top of a module, inside a function (imported late
to save start-up time) and under ``if TYPE_CHECKING:`` (a type-only import
still ties the two layers together).  A package's ``__init__`` is a node of
its own: ``from .policy import Facts`` depends on ``arrears.policy``, while
``from .policy.model import Step`` and ``from .policy import model`` depend on
``arrears.policy.model``.  The parent packages a dotted import runs on the way
are not counted (every module would otherwise depend on ``arrears``).

A module longer than `MAX_LINES` must be named, with its reason, in the table
of docs/architecture.md.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "arrears"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
#: Lines a module may have without a reason in docs/architecture.md.
MAX_LINES = 600
_SECTION = "## Modules above 600 lines"


class Import(NamedTuple):
    """One import of a module of the package by another, with where it is."""

    source: str
    target: str
    line: int


def module_files(package_dir: Path) -> dict[str, Path]:
    """Every module of the package at *package_dir* by dotted name (``__init__``: the package)."""
    modules: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _base(module: str, path: Path, level: int) -> str:
    """The package a relative import of *level* dots in *module* starts from."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return package


def _targets(node: ast.AST, module: str, path: Path, known: Mapping[str, Path]) -> Iterator[str]:
    """The modules of the package an import statement depends on."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in known:  # ``import pkg.mod.Name`` is not a thing, but be safe
                name = name.rpartition(".")[0]
            if name:
                yield name
        return
    if not isinstance(node, ast.ImportFrom):
        return
    if node.level:
        base = _base(module, path, node.level)
        origin = f"{base}.{node.module}" if node.module else base
    else:
        origin = node.module or ""
    for alias in node.names:
        submodule = f"{origin}.{alias.name}"
        if submodule in known:  # ``from .policy import model``: the module itself
            yield submodule
        elif origin in known:  # ``from .policy import Facts``: the package's __init__
            yield origin


def imports(package_dir: Path) -> list[Import]:
    """Every import of a module of the package by another, at any depth of the code."""
    known = module_files(package_dir)
    found: list[Import] = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):  # function bodies and TYPE_CHECKING blocks included
            for target in _targets(node, module, path, known):
                if target != module:
                    found.append(Import(module, target, getattr(node, "lineno", 0)))
    return found


def cycles(edges: list[Import]) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for following in sorted(graph[node]):
            if following not in index:
                visit(following)
                low[node] = min(low[node], low[following])
            elif following in on_stack:
                low[node] = min(low[node], index[following])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def cycle_report(package_dir: Path) -> str:
    """Every import cycle of the package, with the imports that make it; empty when none."""
    edges = imports(package_dir)
    lines = []
    for component in cycles(edges):
        members = set(component)
        lines.append("cycle: " + ", ".join(component))
        for edge in sorted(set(edges)):
            if edge.source in members and edge.target in members:
                lines.append(f"    {edge.source} (line {edge.line}) imports {edge.target}")
    return "\n".join(lines)


# -- the checker itself, on packages made for the purpose ------------------------------------


def _write(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


class TestChecker:
    def test_a_type_only_cycle_is_found(self, tmp_path: Path) -> None:
        package = _write(
            tmp_path,
            {
                "pkg/__init__.py": "",
                "pkg/errors.py": (
                    "from typing import TYPE_CHECKING\n"
                    "if TYPE_CHECKING:\n"
                    "    from .guards import Failure\n"
                ),
                "pkg/guards.py": "from .errors import Denied\n",
                "pkg/leaf.py": "import os\n",
            },
        )
        assert cycles(imports(package)) == [["pkg.errors", "pkg.guards"]]
        report = cycle_report(package)
        assert report.splitlines()[0] == "cycle: pkg.errors, pkg.guards"
        assert "pkg.errors (line 3) imports pkg.guards" in report

    def test_imports_inside_functions_and_submodules_count(self, tmp_path: Path) -> None:
        package = _write(
            tmp_path,
            {
                "pkg/__init__.py": "from .policy import Policy\n",
                "pkg/policy/__init__.py": "from .model import Policy\n",
                "pkg/policy/model.py": (
                    "class Policy:\n"
                    "    def problems(self):\n"
                    "        from . import checks\n"
                    "        return checks\n"
                ),
                "pkg/policy/checks.py": "import pkg.policy.model\n",
                "pkg/engine.py": "from .policy import model\nfrom . import tick\n",
                "pkg/tick.py": "def run():\n    from ..pkg.engine import Engine\n",
            },
        )
        edges = {(edge.source, edge.target) for edge in imports(package)}
        assert edges == {
            ("pkg", "pkg.policy"),
            ("pkg.policy", "pkg.policy.model"),
            ("pkg.policy.model", "pkg.policy.checks"),
            ("pkg.policy.checks", "pkg.policy.model"),
            ("pkg.engine", "pkg.policy.model"),  # the module, not the package
            ("pkg.engine", "pkg.tick"),
        }  # ``..pkg.engine`` from pkg.tick leaves the package: not an edge
        assert cycles(imports(package)) == [["pkg.policy.checks", "pkg.policy.model"]]

    def test_a_package_init_is_a_node_of_its_own(self, tmp_path: Path) -> None:
        package = _write(
            tmp_path,
            {
                "pkg/__init__.py": "from .a import A\n",
                "pkg/a.py": "from . import b\nclass A: ...\n",
                "pkg/b.py": "from pkg import A\n",  # the package, which imports a
            },
        )
        assert cycles(imports(package)) == [["pkg", "pkg.a", "pkg.b"]]

    def test_no_cycle_no_report(self, tmp_path: Path) -> None:
        package = _write(
            tmp_path,
            {
                "pkg/__init__.py": "from .top import run\n",
                "pkg/top.py": "from .low import helper\nfrom .sub.deep import thing\n",
                "pkg/low.py": "from typing import TYPE_CHECKING\nhelper = 1\n",
                "pkg/sub/__init__.py": "",
                "pkg/sub/deep.py": "from ..low import helper\nthing = helper\n",
            },
        )
        assert len(imports(package)) == 4
        assert cycle_report(package) == ""


# -- the package -------------------------------------------------------------------------------


def test_the_checker_sees_the_package() -> None:
    """The walk finds the package's own imports (a checker that saw nothing would pass)."""
    edges = {(edge.source, edge.target) for edge in imports(PACKAGE)}
    assert ("arrears.tick", "arrears.case") in edges
    assert ("arrears.policy.model", "arrears.policy.facts") in edges
    assert len(module_files(PACKAGE)) > 50


def test_no_import_cycles() -> None:
    """No two modules of arrears import each other, directly or through others."""
    report = cycle_report(PACKAGE)
    assert report == "", f"import cycles between modules of arrears:\n{report}"


# -- long modules ----------------------------------------------------------------------------


def long_module_table(text: str) -> dict[str, tuple[int, str]]:
    """The table of the section on long modules: ``{module: (lines, why)}``."""
    _, found, rest = text.partition(f"\n{_SECTION}\n")
    assert found, f"docs/architecture.md has no section {_SECTION!r}"
    section = re.split(r"^#{1,2} ", rest, maxsplit=1, flags=re.MULTILINE)[0]
    rows = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    assert cells, f"no table in {_SECTION!r}"
    assert [cell.lower() for cell in cells[0]] == ["module", "lines", "why"], cells[0]
    table: dict[str, tuple[int, str]] = {}
    for row in cells[2:]:  # after the header and its ``|---|`` line
        assert len(row) == 3, f"a row of three cells expected: {row}"
        module, lines, why = row
        module = module.strip("`")
        assert module not in table, f"{module} is listed twice"
        assert lines.isdigit(), f"{module}: lines {lines!r} is not a number"
        table[module] = (int(lines), why)
    return table


def test_the_table_is_read() -> None:
    text = (
        "# Architecture\n\n## Modules above 600 lines\n\n| module | lines | why |\n|---|---|---|\n"
        "| `pkg.big` | 900 | one state machine |\n| pkg.other | 700 | generated |\n\n"
        "## Layers\n\n| a | b | c |\n|---|---|---|\n| x | 1 | y |\n"
    )
    assert long_module_table(text) == {
        "pkg.big": (900, "one state machine"),
        "pkg.other": (700, "generated"),
    }
    with pytest.raises(AssertionError, match="no section"):
        long_module_table("# Architecture\n")


def long_module_problems(
    lengths: Mapping[str, int], table: Mapping[str, tuple[int, str]]
) -> list[str]:
    """Modules above `MAX_LINES` with no reason in *table*, and rows for modules not above it."""
    problems = [
        f"{module} has {lines} lines and no reason in docs/architecture.md"
        for module, lines in sorted(lengths.items())
        if lines > MAX_LINES and not (module in table and table[module][1])
    ]
    problems.extend(
        f"{module} is listed in docs/architecture.md but has {lengths.get(module, 0)} lines"
        for module in sorted(table)
        if lengths.get(module, 0) <= MAX_LINES
    )
    return problems


def test_long_module_problems() -> None:
    table = {"pkg.big": (900, "one state machine"), "pkg.gone": (700, "was long")}
    lengths = {"pkg.big": 950, "pkg.long": 601, "pkg.short": 600, "pkg.empty_why": 800}
    assert long_module_problems(lengths, {**table, "pkg.empty_why": (800, "")}) == [
        "pkg.empty_why has 800 lines and no reason in docs/architecture.md",
        "pkg.long has 601 lines and no reason in docs/architecture.md",
        "pkg.gone is listed in docs/architecture.md but has 0 lines",
    ]
    assert (
        long_module_problems({"pkg.big": 950, "pkg.short": 600}, {"pkg.big": table["pkg.big"]})
        == []
    )


def test_long_modules_are_explained() -> None:
    """A module above `MAX_LINES` lines is in docs/architecture.md's table with a reason.

    A row for a module that is gone or back under the limit fails too: the
    table says what is true now.
    """
    table = long_module_table(ARCHITECTURE.read_text(encoding="utf-8"))
    lengths = {
        module: len(path.read_text(encoding="utf-8").splitlines())
        for module, path in module_files(PACKAGE).items()
    }
    assert long_module_problems(lengths, table) == []
