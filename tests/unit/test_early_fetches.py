"""Early by-id fetches (assets/early_fetches.py): a result fetched while the lists page is handed to the by-id
phase instead of a second call, its error raised as the call would raise it; nothing starts once the lists
have ended, the calls not started then are cancelled, and at most 2 x workers wait at once."""

import threading

import pytest

from assets.early_fetches import EarlyFetches


class Getter:
    """A getter that records its calls and, when ``gate`` is given, waits for it to open."""

    def __init__(self, gate: threading.Event | None = None):
        self.calls, self.gate, self.lock = [], gate, threading.Lock()

    def __call__(self, easy: str, key: str):
        with self.lock:
            self.calls.append((easy, key))
        if self.gate is not None:
            assert self.gate.wait(10)
        if key == "missing":
            raise LookupError(f"{key} of {easy} not found")
        return {"easy": easy, "id": key}


def test_a_result_fetched_early_is_handed_over_without_a_second_call():
    getter = Getter()
    with EarlyFetches(getter, workers=2) as early:
        early.want(("123", "d1"))
        early.want(("123", "d1"))  # named twice: fetched once
        early.stop()
        assert early.get("123", "d1") == {"easy": "123", "id": "d1"}
        assert early.get("123", "d2") == {"easy": "123", "id": "d2"}  # not fetched early: fetched now
        assert early.unused == 0
    assert getter.calls == [("123", "d1"), ("123", "d2")]


def test_an_early_error_is_raised_by_get_as_the_call_would_raise_it():
    with EarlyFetches(Getter(), workers=1) as early:
        early.want(("9", "missing"))
        early.stop()
        with pytest.raises(LookupError, match="missing of 9 not found"):
            early.get("9", "missing")


def test_the_same_id_asked_with_another_company_is_fetched_again_and_the_early_one_reported_unused():
    getter = Getter()
    with EarlyFetches(getter, workers=1) as early:
        early.want(("Z1", "d1"))
        early.stop()
        assert early.get("456", "d1") == {"easy": "456", "id": "d1"}
        assert early.unused == 1
    assert getter.calls == [("Z1", "d1"), ("456", "d1")]


def test_nothing_starts_once_the_lists_have_ended():
    getter = Getter()
    with EarlyFetches(getter, workers=2) as early:
        early.stop()
        assert list(early.tap(["a", "b"], lambda r: ("1", r))) == ["a", "b"]  # records pass unchanged
        assert early.started == 0
    assert getter.calls == []


def test_at_most_twice_the_workers_wait_and_those_not_started_are_cancelled_at_the_end_of_the_lists():
    gate = threading.Event()
    getter = Getter(gate)
    with EarlyFetches(getter, workers=1) as early:
        for key in ("a", "b", "c", "d"):
            early.want(("1", key))
        assert early.started == 2  # one running, one queued; c and d left to the by-id phase
        early.stop()  # the queued one is cancelled
        assert early.started == 1
        gate.set()
        assert early.get("1", "a") == {"easy": "1", "id": "a"}
        assert early.get("1", "b") == {"easy": "1", "id": "b"}  # cancelled early: called now
    assert getter.calls == [("1", "a"), ("1", "b")]
