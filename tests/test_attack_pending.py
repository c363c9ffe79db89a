"""Defects found by attacking the library that are not fixed yet, each a reproduction.

Each test states the behaviour the documentation promises or an operator
needs, and is marked ``xfail(strict=True)``: it fails today, and the day a
change makes it pass, the strict mark fails the suite so that the mark is
taken off and the test kept.
"""

from __future__ import annotations

# None pending: each reproduction, once fixed, lives with the tests of what it is about.
