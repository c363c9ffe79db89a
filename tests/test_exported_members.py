"""The public surface: `arrears.__all__` matches what is exported, and all of it is documented."""

from __future__ import annotations

import inspect
import types
from typing import Any

import pytest

import arrears


def public_names() -> set[str]:
    return {
        name
        for name, value in vars(arrears).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


def isort_key(name: str) -> tuple[int, str]:
    """Constants first, then classes, then functions, each alphabetical (ruff RUF022)."""
    if name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def own_doc(value: Any) -> str:
    doc = value.__doc__ if inspect.isclass(value) or callable(value) else type(value).__doc__
    return inspect.cleandoc(doc or "")


class TestAll:
    def test_sorted(self) -> None:
        """__all__ is sorted: constants, then classes, then functions, each alphabetically."""
        assert arrears.__all__ == sorted(arrears.__all__, key=isort_key)

    def test_no_duplicates(self) -> None:
        """Each name is listed once."""
        assert len(arrears.__all__) == len(set(arrears.__all__))

    def test_matches_the_exported_names(self) -> None:
        """Every public name in the package is in __all__, and every name in __all__ exists."""
        assert set(arrears.__all__) == public_names()

    def test_star_import(self) -> None:
        """`from arrears import *` brings exactly __all__."""
        namespace: dict[str, Any] = {}
        exec("from arrears import *", namespace)
        namespace.pop("__builtins__")
        assert set(namespace) == set(arrears.__all__)

    @pytest.mark.parametrize("name", arrears.__all__)
    def test_defined_in_arrears(self, name: str) -> None:
        """Every exported class and function is defined inside the package, not re-exported."""
        value = getattr(arrears, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__.startswith("arrears.")


class TestDocstrings:
    @pytest.mark.parametrize("name", arrears.__all__)
    def test_every_public_name_is_documented(self, name: str) -> None:
        """Each exported name has its own docstring, not a generated signature."""
        doc = own_doc(getattr(arrears, name))
        assert doc, f"{name} has no docstring"
        assert not doc.startswith(f"{name}("), f"{name} has only a generated docstring"

    @pytest.mark.parametrize(
        "name", [n for n in arrears.__all__ if inspect.isclass(getattr(arrears, n))]
    )
    def test_public_methods_are_documented(self, name: str) -> None:
        """Each public method and property an exported class defines has a docstring."""
        cls = getattr(arrears, name)
        missing = []
        for attr, value in vars(cls).items():
            if attr.startswith("_"):
                continue
            if isinstance(value, (classmethod, staticmethod)):
                value = value.__func__
            documentable = inspect.isfunction(value) or isinstance(value, property)
            if documentable and not (value.__doc__ or "").strip():
                missing.append(attr)
        assert missing == []
