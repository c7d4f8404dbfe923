"""A writer killed with SIGKILL never damages the landing zone (invariant 3).

A subprocess writes a big partition and is killed mid-write (and, in a second test, between renaming its
files and replacing the manifest). The previous run must still be exactly what ``read_table`` returns; a
re-run must then give the same table as a clean run into an empty landing zone.
"""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow.compute as pc
import pytest

from resources.landing import LandingStore

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 3, 1)

WRITER = r"""
import json, sys, time
from datetime import date
from resources.landing import LandingStore
from resources.streams import get_stream

root, run_id, rows, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = LandingStore(root, row_group_size=5_000, rows_per_file=20_000)
if mode == "hang-before-manifest":
    def hang(files):
        print("committing", flush=True)
        time.sleep(600)
    store.put_many_atomic = hang
stream = get_stream("notifications")
with store.open_partition("notifications", date(2026, 3, 1), run_id) as writer:
    for i in range(rows):
        item = {
            "notificationId": f"N{i:08d}", "externalId": f"E{i}", "eventDate": "2026-03-01T%02d:%02d:%02dZ"
            % (i // 3600 % 24, i // 60 % 60, i % 60), "eventType": "DECISION", "easyNumber": f"{10000000 + i}",
            "productCode": "CREDITLIMIT", "orderId": f"O{i}", "status": "DECIDED_FULL", "policyNumber": "P-1",
            "padding": "x" * 400,
        }
        writer.write_record(json.dumps(item, sort_keys=True), f"GET /notifications?page={i // 100 + 1}",
                            stream.flatten(item))
        if i and i % 10_000 == 0:
            print(f"progress {i}", flush=True)
print("done", flush=True)
"""


def run_writer(root: str, run_id: str, rows: int, mode: str = "normal") -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, root, run_id, str(rows), mode],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )


def write_clean(root: str, run_id: str, rows: int) -> None:
    child = run_writer(root, run_id, rows)
    out, _ = child.communicate(timeout=300)
    assert child.returncode == 0 and out.strip().endswith("done")


def kill_when(child: subprocess.Popen, predicate) -> list[str]:
    seen = []
    deadline = time.monotonic() + 120
    for line in child.stdout:
        seen.append(line.strip())
        if predicate(line.strip()):
            break
        assert time.monotonic() < deadline, "the writer never reached the point to kill it"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return seen


def comparable(table):
    return table.drop_columns(["_extracted_at"]).sort_by("notification_id")


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and p.suffix != ".lock")


@pytest.mark.parametrize(
    ("mode", "kill_at"),
    [
        ("normal", lambda line: line.startswith("progress") and int(line.split()[1]) >= 60_000),
        ("hang-before-manifest", lambda line: line == "committing"),
    ],
    ids=["mid-write", "after-rename-before-manifest"],
)
def test_sigkill_leaves_the_previous_run_intact_and_a_rerun_equals_a_clean_run(tmp_path, mode, kill_at):
    root = str(tmp_path / "landing")
    write_clean(root, "run-previous", 12_345)
    store = LandingStore(root)
    previous = store.read_table("notifications", DAY)
    previous_manifest = store.manifest("notifications", DAY)
    assert previous.num_rows == 12_345

    rows = 2_000_000 if mode == "normal" else 45_000
    seen = kill_when(run_writer(root, "run-killed", rows, mode), kill_at)
    assert "done" not in seen

    # The killed run left files behind (proof it was killed mid-way) but no reader sees them.
    leftovers = [f for f in files_under(tmp_path / "landing") if "run=run-killed" in f]
    assert leftovers
    assert store.manifest("notifications", DAY) == previous_manifest
    after_kill = store.read_table("notifications", DAY)
    assert after_kill.equals(previous)
    assert store.current_files("notifications") == [
        str(tmp_path / "landing" / f) for f in previous_manifest["files"]
    ]

    # The dead writer's lock is gone: a re-run goes through and equals a clean run.
    write_clean(root, "run-again", 30_000)
    clean_root = str(tmp_path / "clean")
    write_clean(clean_root, "run-again", 30_000)
    rerun, clean = store.read_table("notifications", DAY), LandingStore(clean_root).read_table("notifications", DAY)
    assert rerun.num_rows == 30_000
    assert comparable(rerun).equals(comparable(clean))
    assert pc.count_distinct(rerun.column("notification_id")).as_py() == 30_000

    # Garbage collection removes what the killed writer left and keeps the current run.
    removed = store.garbage_collect("notifications")
    assert any("run=run-killed" in r for r in removed)
    assert not [f for f in files_under(tmp_path / "landing") if "run=run-killed" in f]
    assert comparable(store.read_table("notifications", DAY)).equals(comparable(clean))
    month = json.loads((tmp_path / "landing/_manifests/notifications/month=2026-03.json").read_text())
    assert month["partitions"]["2026-03-01"]["rows"] == 30_000
