"""Generated data and secrets must never be committed."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ("data/", ".venv/", ".dagster/", "*.duckdb", "*.parquet")


def test_gitignore_covers_generated_data():
    ignored = (ROOT / ".gitignore").read_text().split()
    missing = [pattern for pattern in GENERATED if pattern not in ignored]
    assert missing == [], f".gitignore must list {missing}"


def test_no_generated_file_is_tracked():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    bad = [p for p in tracked if p.endswith((".duckdb", ".parquet")) or p.startswith(("data/", ".venv/"))]
    assert bad == []
