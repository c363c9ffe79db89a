"""Running the `arrears` command in a child process, as a user would, for the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def arrears(
    *args: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``python -m arrears ARGS`` from *cwd* (the repository by default), output as UTF-8.

    *env* adds to (or overrides) the process's environment.
    """
    return subprocess.run(
        [sys.executable, "-m", "arrears", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd or ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
        timeout=timeout,
        check=False,
    )
