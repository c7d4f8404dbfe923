"""The peer comparison still runs our production extraction (a reshaping once left it calling an asset that
no longer existed, and nothing but `make bench` noticed): ours and the bare loop, on a small world, land
the same rows, and the CPU figure the ratio is made of is there, the median of the runs asked for."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.common import RESULT_PREFIX, ROOT

pytestmark = [pytest.mark.timeout(600)]


def test_ours_and_the_bare_loop_land_the_same_rows_with_their_cpu_measured():
    done = subprocess.run(
        [sys.executable, "-m", "bench.peer_comparison", "--companies", "60", "--loaders", "bare,ours",
         "--no-profile", "--repeat", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=540,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(line for line in reversed(done.stdout.splitlines()) if line.startswith(RESULT_PREFIX))
    runs = json.loads(line[len(RESULT_PREFIX):])["runs"]
    ours, bare = runs["ours"]["figures"], runs["bare"]["figures"]
    for stream in ("portfolio", "notifications"):
        assert ours[stream]["rows"] == bare[stream]["rows"] > 0, (stream, ours, bare)
    assert ours["cpu_per_100k_rows"] > 0 and runs["ours"]["cpu_s"] > 0
    assert len(runs["ours"]["cpu_s_runs"]) == 2 and runs["ours"]["cpu_s"] == min(runs["ours"]["cpu_s_runs"])  # the median of two: the lower
