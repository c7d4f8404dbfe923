"""The model builds benchmark's side-by-side baseline: its figures are read from any version's output, the
ratios land in the summary, and a commit that cannot be checked out is refused saying why."""

import pytest

from bench.baseline import BaselineError, run_at
from bench.model_builds import baseline_figures, print_side_by_side
from bench.run_all import headline

OLD_OUTPUT = """engine       versions  full rebuild   nightly   no-op  counts  nightly steps (s)
duckdb      1,001,369        41.3 s    2.04 s  0.55 s  1.15 s  staging 0.502, easy_number_map 0.337
postgres    1,001,369        79.3 s    0.52 s  0.11 s  3.32 s  staging 0.295, easy_number_map 0.027
"""


def test_the_baselines_figures_are_read_from_its_output():
    assert baseline_figures(OLD_OUTPUT) == {"duckdb": (41.3, 2.04), "postgres": (79.3, 0.52)}
    with pytest.raises(RuntimeError, match="no build figures"):
        baseline_figures("Traceback (most recent call last): ...")


def test_the_side_by_side_ratios_reach_the_summary(capsys):
    print_side_by_side("41a7a06", baseline_figures(OLD_OUTPUT), {"duckdb": (49.56, 3.5), "postgres": (80.0, 0.6)})
    out = capsys.readouterr().out
    rows = headline("model_builds", None, out)
    assert ["model builds ÷ 41a7a06's, duckdb, full / nightly", "1.20 / 1.72", "<= 1.5"] in rows
    assert ["model builds ÷ 41a7a06's, postgres, full / nightly", "1.01 / 1.15", "<= 1.5"] in rows
    assert "NO" in out.splitlines()[-2] and out.splitlines()[-1].endswith("yes")


def test_an_unknown_commit_is_refused_saying_what_to_do():
    with pytest.raises(BaselineError, match="unknown commit 'no-such-ref'"):
        run_at("no-such-ref", "bench.model_builds", [])
