"""The shared rate budget: budgets on one folder keep one schedule per (user, endpoint), on fake clocks.

Each budget here has its own :class:`FileStore` (as each process would), all reading one fake wall
clock that only ``sleep`` moves; the real processes are in tests/integration/test_client_shared_budget.py.
"""

import json
import logging

import pytest

from resources.cofaserve.budget import RateBudget
from resources.cofaserve.budget_store import FileStore, MemoryStore, shared_store
from resources.cofaserve.slots import Pacing, SlotState
from tests.unit.test_client_fakes import PASSWORD, USERNAME, FakeApi, FakeClock, json_response, make_client

USER = ("https://api.test/tci", USERNAME)
ROUTE = "GET product/v1/companies/{easyNumber}/catalog"


def shared_budget(folder, clock, identity=USER, per_minute=60.0, **kw):
    store = shared_store(folder, identity, wall_clock=clock.monotonic)
    assert isinstance(store, FileStore)
    return RateBudget(per_minute, safety=1.0, sleep=clock.sleep, store=store, **kw)


def take(budget, clock, key=ROUTE):
    budget.acquire(key)
    return clock.now


# ------------------------------------------------------------------------------------ slot arithmetic


def test_the_slot_arithmetic_is_the_same_in_memory_and_on_disk(tmp_path):
    pacing = Pacing(60.0, safety=1.0)
    memory, disk = MemoryStore(lambda: 100.0), shared_store(tmp_path, USER, wall_clock=lambda: 100.0)
    for store in (memory, disk):
        slots = [store.transact(ROUTE, lambda s, now: s.reserve(now, pacing, ROUTE)[0]) for _ in range(3)]
        assert slots == [100.0, 101.0, 102.0]


def test_a_state_survives_its_round_trip_and_bad_ones_are_refused():
    state = SlotState(next_slot=12.5, last_slot=11.5, blocked_until=3.0, factor=0.5, server_limit=120, touched=11.0)
    assert SlotState.from_dict(json.loads(json.dumps(state.to_dict())), now=10.0, horizon=60.0) == state
    for bad in ([], {"factor": 7}, {"server_limit": "120"}, {"next_slot": "soon"}, {"next_slot": 10_000.0}):
        with pytest.raises(ValueError):
            SlotState.from_dict(bad, now=10.0, horizon=60.0)


# ---------------------------------------------------------------------------- two budgets, one folder


def test_two_budgets_on_one_folder_alternate_slots(tmp_path):
    clock = FakeClock()
    a, b = shared_budget(tmp_path, clock), shared_budget(tmp_path, clock)
    start = clock.now
    times = [take(budget, clock) for budget in (a, b, a, b, a, b)]
    assert times == pytest.approx([start + n for n in range(6)])  # one schedule, one slot a second
    # in memory (the old behaviour) each would have its own schedule: the second one starts at once
    alone_a, alone_b = (RateBudget(60.0, safety=1.0, clock=clock.monotonic, sleep=clock.sleep) for _ in range(2))
    now = take(alone_a, clock)
    assert take(alone_b, clock) == now


def test_a_429_seen_by_one_blocks_the_other_and_slows_both(tmp_path):
    clock = FakeClock()
    a, b = shared_budget(tmp_path, clock, per_minute=6000.0), shared_budget(tmp_path, clock, per_minute=6000.0)
    take(a, clock)
    before = b.rate_per_minute(ROUTE)
    a.observe(ROUTE, 429, {"X-RateLimit-Limit": "6000", "X-RateLimit-Remaining": "0"}, retry_after=30.0)
    start = clock.now
    assert take(b, clock) >= start + 30.0
    assert b.rate_per_minute(ROUTE) < before and b.rate_per_minute(ROUTE) == a.rate_per_minute(ROUTE)


def test_the_server_limit_learned_by_one_paces_the_other(tmp_path):
    clock = FakeClock()
    a, b = shared_budget(tmp_path, clock), shared_budget(tmp_path, clock)
    a.observe(ROUTE, 200, {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "599"}, None)
    assert b.rate_per_minute(ROUTE) == pytest.approx(600)
    # each process keeps its own configuration: a ceiling applies to its own requests
    capped = shared_budget(tmp_path, clock, ceiling_per_minute=60.0)
    assert capped.rate_per_minute(ROUTE) == pytest.approx(60)


def test_a_429_wakes_a_sleeper_of_another_budget_onto_a_later_slot(tmp_path):
    """The 429 arrives while b sleeps towards its slot: b takes a new slot after the block."""
    clock = FakeClock()
    a = shared_budget(tmp_path, clock)
    sleeps = []

    def sleep_while_a_meets_a_429(seconds):
        if not sleeps:
            a.observe(ROUTE, 429, {}, retry_after=20.0)
        sleeps.append(seconds)
        clock.sleep(seconds)

    store = shared_store(tmp_path, USER, wall_clock=clock.monotonic)
    b = RateBudget(60.0, safety=1.0, sleep=sleep_while_a_meets_a_429, store=store)
    start = take(a, clock)
    take(b, clock)
    assert clock.now >= start + 20.0 and sum(sleeps) >= 20.0  # slept past the block, on a new slot


# ---------------------------------------------------------------------------------- what never shares


def test_other_users_servers_and_routes_never_share(tmp_path):
    clock = FakeClock()
    budgets = [
        shared_budget(tmp_path, clock),
        shared_budget(tmp_path, clock, identity=("https://api.test/tci", "another.user")),
        shared_budget(tmp_path, clock, identity=("https://other.test/tci", USERNAME)),
    ]
    start = clock.now
    assert [take(budget, clock) for budget in budgets] == [start] * 3
    assert take(budgets[0], clock, key="GET product/v1/companies/products") == start
    files = sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".json")
    assert len(files) == 4  # three users, two routes of the first one
    everything = "".join(files) + "".join((tmp_path / f).read_text() for f in files)
    assert USERNAME not in everything and "other.test" not in everything and PASSWORD not in everything


# ---------------------------------------------------------------------------------- damage and fallbacks


@pytest.mark.parametrize("damage", [b"{not json", b'{"next_slot": 1e', b"", b"\xff\xfe", b'{"next_slot": 1e12}'])
def test_a_corrupt_or_truncated_state_file_is_rebuilt(tmp_path, caplog, damage):
    clock = FakeClock()
    a = shared_budget(tmp_path, clock)
    take(a, clock)
    path = shared_store(tmp_path, USER).path(ROUTE)
    path.write_bytes(damage)
    b = shared_budget(tmp_path, clock)
    with caplog.at_level(logging.WARNING):
        start = clock.now
        assert take(b, clock) == start  # a fresh schedule, no stall
    assert json.loads(path.read_text())["route"] == ROUTE
    assert take(a, clock) == pytest.approx(start + 1.0)  # and shared again from there
    assert ("damaged" in caplog.text) == bool(damage)


def test_an_unusable_folder_falls_back_to_memory_and_says_so_once(tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    api = FakeApi()
    api.route("/tci/product/v1/companies/12345678/catalog",
              lambda r: json_response(200, {"easyNumber": "12345678", "products": []}))
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            with make_client(tmp_path, api, budget_dir=blocker / "budget") as client:
                assert client.rate_budget.shared_folder is None
                assert client.get_catalog("12345678").ok
    assert caplog.text.count("paces its requests alone") == 1


def test_a_folder_that_stops_working_sends_the_process_back_to_memory(tmp_path, caplog):
    clock = FakeClock()
    folder = tmp_path / "budget"
    budget = shared_budget(folder, clock)
    take(budget, clock)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    folder.write_text("gone")
    with caplog.at_level(logging.WARNING):
        start = clock.now
        assert take(budget, clock) == start and take(budget, clock) == pytest.approx(start + 1.0)
    assert budget.shared_folder is None and "stopped working" in caplog.text


def test_the_client_shares_through_the_default_folder_unless_told_not_to(tmp_path):
    with make_client(tmp_path, FakeApi()) as client:
        assert client.rate_budget.shared_folder == tmp_path / "cofaserve-budget"
    with make_client(tmp_path, FakeApi(), budget_dir=tmp_path / "elsewhere") as client:
        assert client.rate_budget.shared_folder == tmp_path / "elsewhere"
    with make_client(tmp_path, FakeApi(), shared_budget=False) as client:
        assert client.rate_budget.shared_folder is None
