"""Run a benchmark as another commit has it, for figures measured side by side in one run.

`run_at(ref, module, args)` checks ``ref`` out into a throwaway git worktree (the repository this file is
in), runs ``python -m <module> <args>`` there with that tree first on the import path (the same virtual
environment), removes the worktree and returns what the benchmark printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT


class BaselineError(RuntimeError):
    """The baseline could not be run: no git checkout, an unknown commit, or the benchmark failed."""


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False)


def run_at(ref: str, module: str, args: list[str], timeout: float = 3600) -> str:
    """The standard output of benchmark ``module`` run with ``args`` as commit ``ref`` has it; raise
    BaselineError saying why when it cannot be run or exits non-zero."""
    if shutil.which("git") is None or _git("rev-parse", "--git-dir").returncode != 0:
        raise BaselineError(f"{ROOT} is not a git checkout: the baseline {ref} cannot be checked out "
                            "(run without --baseline)")
    if _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
        raise BaselineError(f"unknown commit {ref!r} in {ROOT}: fetch it, or name another with --baseline")
    folder = Path(tempfile.mkdtemp(prefix="bench-baseline-")) / "tree"
    added = _git("worktree", "add", "--detach", str(folder), ref)
    if added.returncode != 0:
        raise BaselineError(f"git worktree add {ref} failed: {added.stderr.strip()}")
    try:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH")) if p)}
        done = subprocess.run([sys.executable, "-m", module, *args], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=timeout, check=False)
    finally:
        _git("worktree", "remove", "--force", str(folder))
        shutil.rmtree(folder.parent, ignore_errors=True)
    if done.returncode != 0:
        raise BaselineError(f"{module} at {ref} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done.stdout
