"""Take a screenshot of the Dagster UI's asset graph for the README, with headless Chromium.

    make ui                                   # in one terminal (serves http://127.0.0.1:3000)
    make screenshot                           # in another: writes data/screenshots/asset-graph.png
    make screenshot OUT=docs/asset-graph.png  # refreshes the README's pictures (tracked files)

Drives the system's Chromium (Debian: `apt-get install chromium`) through Playwright, which downloads no
browser of its own here: it dismisses the UI's welcome dialog, then pictures the global graph (one box
per layer) and each layer's graph. The UI must already be running.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import urllib.request
from pathlib import Path

DEFAULT_OUT = Path("data") / "screenshots" / "asset-graph.png"
"""Where pictures go unless ``--out`` says otherwise: a git-ignored folder, so a run never overwrites the
README's tracked pictures by accident (``make screenshot OUT=docs/asset-graph.png`` refreshes those)."""
LAYERS = ("extract", "staging", "history", "marts")
LOCATION = "__repository__@pipelines.definitions:defs"  # repository @ code location (workspace.yaml)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def find_chromium() -> str:
    """The path of a Chromium or Chrome binary, or exit saying how to install one."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no Chromium found: install it (Debian: apt-get install chromium)")


def wait_for(url: str, seconds: float) -> None:
    """Return once `url` answers; exit with a clear message after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the Dagster UI does not answer at {url}: start it with `make ui`") from None
            time.sleep(1)


def _open(page, url: str) -> None:
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(2500)
    welcome = page.get_by_role("button", name="Skip")  # the UI's first-visit dialog
    if welcome.count():
        welcome.click()
        page.wait_for_timeout(500)


def screenshot(ui: str, out: Path, width: int, height: int) -> list[Path]:
    """Save the global asset graph (one box per layer, with their dependencies) to ``out``, and each
    layer's own graph next to it as ``<out stem>-<layer>.png``; returns the files written."""
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        _open(page, f"{ui}/asset-groups")
        page.screenshot(path=str(out))
        written.append(out)
        for layer in LAYERS:
            _open(page, f"{ui}/locations/{LOCATION}/asset-groups/{layer}/lineage")
            path = out.with_name(f"{out.stem}-{layer}{out.suffix}")
            page.screenshot(path=str(path))
            written.append(path)
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Wait for the UI, then screenshot its global asset graph."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ui", default="http://127.0.0.1:3000", help="base URL of the running Dagster UI")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args(argv)
    wait_for(f"{args.ui}/server_info", 180)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for path in screenshot(args.ui, args.out, args.width, args.height):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
