"""Every Python block in the docs runs, and prints what the ``text`` block after it shows.

The blocks of one page run in order in one namespace, as a reader would paste
them; log lines are filtered to warnings, as the docs' index says.  Pages in
sub-folders run too.  A block that cannot run here (it needs a server, say) is
marked by an HTML comment right before it, giving the reason:
``<!-- not run: needs a PostgreSQL server -->``; the text block after it is
then not compared either.  Pages on packs are generated from the packs and must
match them exactly.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from pathlib import Path

import pytest
import structlog

from arrears.compliance import PACKS
from arrears.compliance.reference import pack_reference

DOCS = Path(__file__).resolve().parent.parent / "docs"
_BLOCK = re.compile(
    r"(?:<!--\s*not run:\s*(?P<reason>[^\n]*?)\s*-->[ \t]*\n)?```(\w+)\n(.*?)```", re.DOTALL
)


def pages() -> list[Path]:
    return [DOCS.parent / "README.md", *sorted(DOCS.rglob("*.md"))]


def page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix() if page.is_relative_to(DOCS) else page.name


@pytest.mark.parametrize("page", pages(), ids=page_id)
def test_code_blocks_run_and_print_what_is_shown(
    page: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(DOCS.parent)  # the pages' paths are relative to the repository
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        blocks = _BLOCK.findall(page.read_text(encoding="utf-8"))
        namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
        for index, (reason, language, body) in enumerate(blocks):
            if language != "python":
                continue
            if reason:
                continue  # marked not runnable, with its reason, right before the block
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(body, f"{page_id(page)}[{index}]", "exec"), namespace)
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if following is not None and following[1] == "text":
                assert out.getvalue() == following[2], f"{page_id(page)} block {index}"
    finally:
        structlog.reset_defaults()


@pytest.mark.parametrize("pack_id", sorted(PACKS))
def test_pack_pages_match_the_packs(pack_id: str) -> None:
    """docs/packs/ is written by `python -m arrears.compliance.reference docs/packs`."""
    page = DOCS / "packs" / f"{pack_id}.md"
    assert page.read_text(encoding="utf-8") == pack_reference(PACKS[pack_id])
