"""`make soak` rewrites its own section of RESULTS.md and nothing else: the marker of the section after it
(a benchmark's `<!-- bench:... -->`) once went with it, and that benchmark's next run appended a copy."""

from bench.soak import write_results

BEFORE = """# Benchmark results

## Soak

old soak figures

<!-- bench:budget_backfill -->
## Backfill at the rate budget

budget figures
<!-- /bench:budget_backfill -->
"""


def test_the_soak_section_is_replaced_and_the_next_section_keeps_its_marker(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text(BEFORE)
    assert write_results("## Soak\n\nnew soak figures\n", path)
    text = path.read_text()
    assert "new soak figures" in text and "old soak figures" not in text
    assert text.count("<!-- bench:budget_backfill -->") == 1 and "budget figures" in text
    assert text.index("new soak figures") < text.index("<!-- bench:budget_backfill -->")
