"""The lockout state machine of the functional page, on explicit instants."""

from sandbox.auth import (
    ALLOWED_FAILURES,
    MAX_LOCK_SECONDS,
    MSG_EXCEEDED,
    MSG_INCORRECT,
    QUIET_RESET_SECONDS,
    Lockout,
)


def test_five_failures_are_allowed_the_fifth_locks_then_lockouts_double_up_to_the_cap():
    lock, t = Lockout(), 0.0
    for _ in range(ALLOWED_FAILURES - 1):
        outcome = lock.attempt("u", False, t)
        assert (outcome.ok, outcome.message, outcome.kind) == (False, MSG_INCORRECT, "failure")
        t += 1
    expected = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]
    for n, duration in enumerate(expected):
        outcome = lock.attempt("u", False, t)
        assert (outcome.message, outcome.kind) == (MSG_INCORRECT if n == 0 else MSG_EXCEEDED, "lockout_started")
        assert lock.locked_until("u") == t + duration
        ignored = lock.attempt("u", True, t + duration - 0.001)  # correct password, still ignored
        assert (ignored.ok, ignored.kind, ignored.message) == (False, "ignored", MSG_EXCEEDED)
        t += duration
    assert expected[-1] == MAX_LOCK_SECONDS


def test_a_correct_password_an_instant_after_the_fifth_failure_is_refused():
    lock = Lockout()
    for i in range(ALLOWED_FAILURES):
        lock.attempt("u", False, float(i))
    refused = lock.attempt("u", True, ALLOWED_FAILURES - 1 + 0.001)
    assert (refused.ok, refused.kind, refused.message) == (False, "ignored", MSG_EXCEEDED)
    assert lock.attempt("u", True, ALLOWED_FAILURES - 1 + 1.0).ok  # the 1 s lockout is over


def test_success_after_a_lockout_resets_the_counter():
    lock = Lockout()
    for i in range(5):
        lock.attempt("u", False, float(i))
    assert lock.locked_until("u") == 5.0
    assert lock.attempt("u", True, 5.0).ok
    for i in range(ALLOWED_FAILURES - 1):
        assert lock.attempt("u", False, 7.0 + i).kind == "failure"
    assert lock.attempt("u", False, 11.0).kind == "lockout_started"  # counted from zero again: the fifth locks


def test_fifteen_quiet_minutes_reset_and_ignored_attempts_do_not_count():
    lock = Lockout()
    for i in range(6):  # 4 failures, the fifth locks 1 s, the sixth 2 s
        lock.attempt("u", False, float(i) * 2)
    last = 10.0
    assert lock.locked_until("u") == last + 2
    assert lock.attempt("u", False, last + 1).kind == "ignored"
    assert lock.attempt("u", False, last + 2 + 10).kind == "lockout_started"  # 4 s: ignored one did not count
    assert lock.locked_until("u") == last + 12 + 4
    quiet = last + 12 + QUIET_RESET_SECONDS
    assert lock.attempt("u", False, quiet).kind == "failure"  # counter was reset


def test_users_are_independent():
    lock = Lockout()
    for i in range(5):
        lock.attempt("a", False, float(i))
    assert lock.attempt("b", True, 4.5).ok
