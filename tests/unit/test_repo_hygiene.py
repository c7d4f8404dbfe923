"""Generated data and secrets must never be committed."""

import re
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


def test_docs_link_nothing_outside_the_repository():
    """A user has the repository only: no page points at a file beside it."""
    tracked = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    outside = []
    for name in tracked:
        text = (ROOT / name).read_text()
        for target in re.findall(r"\]\(([^)#]+)\)|`((?:\.\./)+[^`\s]*)`", text):
            link = next(t for t in target if t)
            if "://" in link:
                continue
            resolved = (ROOT / name).parent.joinpath(link).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                outside.append(f"{name}: {link}")
        if "shared/reference" in text:
            outside.append(f"{name}: shared/reference")
    assert outside == []


def test_the_screenshot_tool_writes_into_ignored_data_by_default():
    import importlib.util

    spec = importlib.util.spec_from_file_location("screenshot_ui", ROOT / "docs" / "screenshot_ui.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.DEFAULT_OUT.parts[0] == "data"
