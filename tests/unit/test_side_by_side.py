"""Work landed side by side (assets/side_by_side.py): each result as soon as its work has finished, and a
failure raised only once every other one has finished and been yielded."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from assets.side_by_side import as_they_finish


def test_results_come_as_they_finish_and_a_failure_after_every_other_result():
    slow_may_finish = threading.Event()

    def slow():
        assert slow_may_finish.wait(10)
        return "slow"

    def broken():
        raise ValueError("the list broke")

    seen = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {"slow": pool.submit(slow), "fast": pool.submit(lambda: "fast"), "broken": pool.submit(broken)}
        results = as_they_finish(futures)
        seen.append(next(results))  # the fast one, while the slow one still runs
        slow_may_finish.set()
        with pytest.raises(ValueError, match="the list broke"):
            seen.extend(results)
    assert seen == [("fast", "fast"), ("slow", "slow")]
