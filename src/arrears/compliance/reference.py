"""A pack's reference page, written from the pack itself so it cannot drift from the code.

    python -m arrears.compliance.reference docs/packs

writes one Markdown page per registered pack: each rule's id, what it does,
what its law says with its exceptions and edge cases (`arrears.compliance.notes`),
its kind, its parameters with their values, and its citation.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from .notes import NOTES, PACK_NOTES
from .packs import PACKS, Pack, locales_of
from .rules import Rule

__all__ = ["pack_reference", "write_references"]

_BASE_FIELDS = frozenset({"enabled"})


_SCOPES = frozenset(
    {"channels", "parties", "purposes", "work", "residence", "roles", "relationships"}
)


def _value(value: Any, unset: str = "—") -> str:
    if isinstance(value, list | tuple):
        return ", ".join(f"`{_cell(item)}`" for item in sorted(value, key=str)) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_value(item)}" for key, item in value.items()) or "none"
    if value is None:
        return unset
    return _cell(value)


def _cell(value: Any) -> str:
    """Text for a Markdown table cell: a pipe would end the cell."""
    return str(value).replace("|", "\\|")


def _parameters(rule: Rule) -> list[tuple[str, str]]:
    params = rule.parameters()
    return [
        (name, _value(value, "any" if name in _SCOPES else "—"))
        for name, value in params.items()
        if name not in _BASE_FIELDS or not value  # "enabled" shows only when off
    ]


def pack_reference(pack: Pack) -> str:
    """The Markdown reference page of *pack*."""
    lines = [f"# {pack.id}: {pack.title}", ""]
    if pack.extends:
        bases = ", ".join(f"[{base}]({base}.md)" for base in pack.extends)
        lines += [f"Builds on {bases}: their rules apply first, then these.", ""]
    if pack.source:
        lines += [f"Source: {pack.source}.", ""]
    lines += [
        "Rules marked **[confirm]** take their numbers from secondary reports: they are",
        "parameters to check and, where needed, override in your configuration.",
        "",
        "The lender roles column says whom a rule binds (a policy's `role`): `any` is",
        "every role, creditor, collector and debt buyer alike.",
        "",
        "With a policy's `jurisdictions`, these rules judge the debtors whose",
        "jurisdiction (else residence) maps to this pack, and every loan of a debtor",
        "one of whose loans does: a debtor whose loans carry several jurisdictions is",
        "judged by the rules of all of them ([debtors](../debtors.md#where-the-debtor-is)).",
        *_messages(pack),
        "",
        "| rule | what it does | lender roles | citation |",
        "|---|---|---|---|",
    ]
    for rule in pack.rules:
        roles = _value(None if rule.roles is None else [str(role) for role in rule.roles], "any")
        lines.append(
            f"| [`{rule.id}`](#{rule.id.lower()}) | {_cell(rule.title)} | {roles} "
            f"| {_cell(rule.citation)} |"
        )
    for rule in pack.rules:
        lines += ["", f"## {rule.id}", "", rule.title + ".", ""]
        note = NOTES.get(rule.id)
        if note is not None:
            lines += [note, ""]
        lines += [f"Kind: `{type(rule).__name__}`. Citation: {rule.citation}.", ""]
        lines += ["| parameter | value |", "|---|---|"]
        lines += [f"| `{name}` | {value} |" for name, value in _parameters(rule)]
    if pack.id in PACK_NOTES:
        lines += ["", PACK_NOTES[pack.id]]
    return "\n".join(lines) + "\n"


def _messages(pack: Pack) -> list[str]:
    """The sentence on the language of the messages checked against *pack*, if it has one."""
    found = sorted(locale for locale in locales_of([pack.id]) if locale is not None)
    if not found:
        return []
    return [
        f"With `jurisdictions`, message templates in this pack's language ({', '.join(found)};",
        "a template of another region is for the set of its region when there is one)",
        "are checked against these rules as a policy loads, not against the packs of",
        "another language.",
    ]


def write_references(folder: Path) -> list[Path]:
    """Write the reference page of every registered pack into *folder*; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for pack in PACKS.values():
        path = folder / f"{pack.id}.md"
        path.write_text(pack_reference(pack), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    for written_path in write_references(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/packs")):
        print(written_path)
