"""The documentation site: its generated stage-graph page and its API reference.

``python tests/test_docs_site.py`` writes ``docs/stage-graph.md`` from the
code; a test checks the page still matches.  The site itself is built by
``mkdocs build --strict`` in CI (``.ci/run``); the API-reference test reads the
``:::`` directives of ``docs/api/*.md`` and, when ``mkdocs`` and
mkdocstrings are installed, the names mkdocstrings would render for them.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

import arrears
from arrears import Workflow

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
STAGE_GRAPH = DOCS / "stage-graph.md"
API = DOCS / "api"
_DIRECTIVE = re.compile(r"^::: *([\w.]+)[ \t]*\n((?:[ \t]+.*\n?)*)", re.MULTILINE)
_MERMAID = re.compile(r"```mermaid\n(.*?)```", re.DOTALL)

#: The packages whose ``__all__`` the API reference must cover.
PACKAGES = (
    "arrears",
    "arrears.channels",
    "arrears.compliance",
    "arrears.messages",
    "arrears.policy",
    "arrears.scenarios",
    "arrears.stores",
    "arrears.testing",
)


def stage_graph_page() -> str:
    """docs/stage-graph.md, with the diagram of the standard workflow drawn now."""
    template = STAGE_GRAPH.read_text(encoding="utf-8")
    return _MERMAID.sub(lambda _: f"```mermaid\n{Workflow().to_mermaid()}```", template, count=1)


def test_stage_graph_page_is_the_code_output() -> None:
    """Regenerate with ``python tests/test_docs_site.py`` after changing the workflow."""
    text = STAGE_GRAPH.read_text(encoding="utf-8")
    [diagram] = _MERMAID.findall(text)
    assert diagram == Workflow().to_mermaid()


def directives() -> dict[str, list[str] | None]:
    """Every ``::: module`` of the API pages, with its ``members:`` list if it has one."""
    found: dict[str, list[str] | None] = {}
    for page in sorted(API.glob("*.md")):
        for name, options in _DIRECTIVE.findall(page.read_text(encoding="utf-8")):
            members = re.search(r"members:\s*\[([^\]]*)\]", options)
            found[name] = (
                [m.strip().strip("\"'") for m in members.group(1).split(",") if m.strip()]
                if members
                else None
            )
    return found


def test_api_pages_document_every_package() -> None:
    assert set(PACKAGES) <= set(directives())


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_is_in_the_api_reference(package: str) -> None:
    """Each name in ``__all__`` is a listed member or an object its directive renders."""
    module = importlib.import_module(package)
    exported = set(module.__all__)
    members = directives()[package]
    if members is not None:
        assert exported <= set(members)
        return
    rendered = rendered_members(package)
    assert exported - rendered == set(), f"{package}: not in the API reference"


def rendered_members(package: str) -> set[str]:
    """The names mkdocstrings renders for ``::: package`` (griffe's view of the package).

    With no ``members`` option, mkdocstrings renders every public member the
    package exports through ``__all__``; griffe resolves them statically, as
    the site's build does.
    """
    griffe = pytest.importorskip("griffe", reason="the docs extra (mkdocstrings) is not installed")
    loaded = griffe.load(package, search_paths=[str(ROOT / "src")], resolve_aliases=False)
    names: set[str] = set()
    for name, member in loaded.members.items():
        if member.is_public:
            names.add(name)
    return names


def test_built_site_renders_the_api(tmp_path: Path) -> None:
    """The API page of ``arrears`` renders an anchor for every name in ``arrears.__all__``."""
    pytest.importorskip("mkdocstrings", reason="the docs extra is not installed")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"), site_dir=str(tmp_path), strict=False)
    build(config)
    html = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    missing = [name for name in arrears.__all__ if f'id="arrears.{name}"' not in html]
    assert missing == []


if __name__ == "__main__":
    STAGE_GRAPH.write_text(stage_graph_page(), encoding="utf-8")
    sys.stdout.write(f"wrote {STAGE_GRAPH.relative_to(ROOT)}\n")
