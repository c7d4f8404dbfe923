"""A damaged landed file never gives wrong values: flipped bytes, truncation, deletion and garbled or
empty manifests are found by reads, by the warehouse build (which then publishes nothing) and by
`verify_landing`, each naming the path."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest

from resources.landing import DamagedLanding, LandingStore, verify_landing
from resources.warehouse import Warehouse
from tests.support.damage import data_page_offsets, flip
from tests.support.landing_builder import land, ts
from tests.support.policies import TEST_POLICY

DAY = date(2025, 1, 1)


def note(i: int) -> dict:
    return {"notification_id": f"N{i}", "external_id": f"E{i}", "event_type": "DECISION",
            "event_at": ts("2025-01-01 10:00") + timedelta(minutes=i), "easy_number": f"{100000 + i}"}


@pytest.fixture
def landed(tmp_path):
    store = LandingStore(str(tmp_path / "landing"), policy=TEST_POLICY)
    manifest = land(store, "notifications", DAY, "r1", [note(i) for i in range(200)], "2025-01-02 02:00")
    return store, Path(store.join(manifest["files"][0])), manifest


def test_files_are_landed_with_their_digest_and_page_checksums(landed):
    store, path, manifest = landed
    digest = manifest["file_digests"][manifest["files"][0]]
    assert digest["size"] == path.stat().st_size and len(digest["sha256"]) == 64
    assert verify_landing(store, ["notifications"]).damages == []


def test_flipped_bytes_in_a_data_page_fail_every_reader_naming_the_file(landed, tmp_path):
    store, path, _ = landed
    warehouse = Warehouse(f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    warehouse.build(store)
    before = warehouse.query("select count(*) as n from staging.stg_notifications")
    flip(path, data_page_offsets(path)[0])
    with pytest.raises(DamagedLanding, match=str(path)):
        store.read_table("notifications", DAY)
    with pytest.raises(DamagedLanding, match=str(path)):
        warehouse.build(store, full_refresh=True)
    assert warehouse.query("select count(*) as n from staging.stg_notifications") == before  # nothing published
    damage, = verify_landing(store, ["notifications"]).damages
    assert damage.path == str(path) and "no longer matches the digest" in damage.problem


def test_every_random_flip_in_the_file_is_caught(landed):
    store, path, manifest = landed
    original = path.read_bytes()
    rng = random.Random(7)
    for _ in range(60):
        flip(path, rng.randrange(0, len(original) - 4))
        assert len(verify_landing(store, ["notifications"]).damages) == 1
        path.write_bytes(original)
    assert verify_landing(store, ["notifications"]).damages == []


@pytest.mark.parametrize("damage", ["truncated", "deleted"])
def test_a_truncated_or_deleted_file_is_reported_with_its_path(landed, damage):
    store, path, _ = landed
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.unlink()
    found, = verify_landing(store, ["notifications"]).damages
    assert found.path == str(path)
    assert ("truncated" in found.problem) if damage == "truncated" else found.problem == "missing"
    with pytest.raises(DamagedLanding, match=str(path)):
        store.read_table("notifications")


@pytest.mark.parametrize(("content", "said"), [(b"", "empty"), (b'{"partition": "2025-01', "garbled")])
def test_an_empty_or_garbled_manifest_is_named(landed, content, said):
    store, _, _ = landed
    manifest = Path(store.manifest_path("notifications", DAY.isoformat()))  # the day's month file
    manifest.write_bytes(content)
    with pytest.raises(DamagedLanding, match=f"{manifest}.*{said}"):
        store.manifests("notifications")
    damages = verify_landing(store, ["notifications"]).damages
    assert {(d.path, said in d.problem) for d in damages} == {(str(manifest), True)}
    assert [d.partition for d in damages] == [f"{DAY:%Y-%m}-{day:02d}" for day in range(1, 32)]  # every day it holds
