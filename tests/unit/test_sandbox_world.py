"""World generation: deterministic, the same whether advanced in one step or day by day, and volumes."""

from datetime import date, timedelta

from sandbox import truth
from sandbox.world import World

TODAY = date(2026, 11, 23)


def _dump(world: World) -> dict[str, bytes]:
    return {e: b"".join(truth.export(world, e)) for e in truth.ENTITIES if e != "malformed"}


def test_same_seed_same_world_and_another_seed_differs():
    a, b = World.create(7, 150, TODAY), World.create(7, 150, TODAY)
    assert _dump(a) == _dump(b)
    assert _dump(World.create(8, 150, TODAY))["deliveries"] != _dump(a)["deliveries"]


def test_one_step_equals_many_steps():
    epoch = TODAY - timedelta(days=3 * 365)
    stepped = World.create(7, 150, TODAY, epoch)
    for k in range(1, 6):
        stepped.advance_to(TODAY + timedelta(days=k))
    jumped = World.create(7, 150, TODAY, epoch)
    jumped.advance_to(TODAY + timedelta(days=5))
    direct = World.create(7, 150, TODAY + timedelta(days=5), epoch)
    assert _dump(stepped) == _dump(jumped) == _dump(direct)


def test_the_clock_never_goes_back():
    world = World.create(7, 50, TODAY)
    try:
        world.advance_to(TODAY - timedelta(days=1))
    except ValueError as exc:
        assert "backwards" in str(exc)
    else:
        raise AssertionError("went back")


def test_volumes_and_awkward_instants_for_1000_companies():
    world = World.create(42, 1000, TODAY)
    conn = world.conn
    orders = conn.execute("SELECT COUNT(DISTINCT order_id) FROM order_versions").fetchone()[0]
    deliveries = conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
    assert 1500 < orders < 6000 and 2000 < deliveries < 9000
    days = {r[0] for r in conn.execute("SELECT DISTINCT order_at / 86400 FROM order_versions")}
    assert len(days) == (TODAY - world.epoch).days  # every day has new orders
    midnight = conn.execute("SELECT COUNT(*) FROM deliveries WHERE decision_at % 86400 = 0").fetchone()[0]
    last_second = conn.execute("SELECT COUNT(*) FROM deliveries WHERE decision_at % 86400 = 86399").fetchone()[0]
    assert midnight > 50 and last_second > 50
    statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM deliveries")}
    assert {"DECIDED_FULL", "REDUCED", "UNDER_WITHDRAWAL", "WITHDRAWN", "UNDER_CANCELLATION", "CANCELLED",
            "EXPIRED", "DELIVERED", "DECIDED_REFUSED", "STATUS_FULLFILLED"} <= statuses
    order_statuses = {r[0] for r in conn.execute("SELECT DISTINCT status FROM order_versions")}
    assert "STATUS_PENDING_DEBTOR_VALIDATION" in order_statuses and "STATUS_REJECTED" in order_statuses
    assert conn.execute("SELECT COUNT(*) FROM easy_links WHERE delivery_id IS NOT NULL").fetchone()[0] > 10
    assert conn.execute("SELECT MAX(decision_at) FROM deliveries").fetchone()[0] < world.visible_before
