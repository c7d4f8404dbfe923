"""`make bench`'s results file (bench/run_all.py): a full run writes it whole; `--only` replaces the sections of the
benchmarks it ran and keeps every other one."""

from bench.common import section
from bench.run_all import Bench, publish

FAST, SLOW = Bench("fast", "Fast one"), Bench("slow", "Slow one")


def test_a_partial_run_replaces_its_own_sections_and_keeps_the_others(tmp_path):
    path = tmp_path / "RESULTS.md"
    publish(path, "# Benchmark results\n", [(FAST, "fast: 1.0"), (SLOW, "slow: 2.0")], "## Soak\n\nexact\n",
            partial=False)
    publish(path, "# another header\n", [(FAST, "fast: 0.5")], "", partial=True)
    text = path.read_text()
    assert section("fast", "Fast one", "fast: 0.5") in text and "fast: 1.0" not in text
    assert section("slow", "Slow one", "slow: 2.0") in text  # not run: kept as it was
    assert text.startswith("# Benchmark results") and "## Soak\n\nexact" in text


def test_a_full_run_writes_the_whole_file(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# old\n\n" + section("gone", "Gone", "old figures"))
    publish(path, "# Benchmark results\n", [(FAST, "fast: 1.0")], "", partial=False)
    text = path.read_text()
    assert "old figures" not in text and section("fast", "Fast one", "fast: 1.0") in text


def test_a_partial_run_without_a_results_file_writes_one(tmp_path):
    path = tmp_path / "RESULTS.md"
    publish(path, "# Benchmark results\n", [(SLOW, "slow: 2.0")], "", partial=True)
    assert section("slow", "Slow one", "slow: 2.0") in path.read_text()
