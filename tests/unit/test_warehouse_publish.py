"""A DuckDB build that fails for lack of disk (copying the published file, building, or syncing) leaves no
`.building` copy behind and the published file untouched; a warehouse that cannot be written is said so."""

from __future__ import annotations

import errno
import os
import shutil

import pytest
import sqlalchemy as sa

from resources.warehouse import WarehouseUnreachable
from resources.warehouse.targets import DuckDBFileTarget


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def published(tmp_path) -> DuckDBFileTarget:
    target = DuckDBFileTarget(tmp_path / "warehouse.duckdb")
    with target.build_connection(fresh=True) as conn:
        conn.execute(sa.text("create table t as select 42 as answer"))
    return target


def answer(target) -> int:
    with target.read_connection() as conn:
        return conn.execute(sa.text("select answer from t")).scalar()


def test_a_full_disk_while_copying_the_published_file_leaves_no_building_copy(tmp_path, monkeypatch):
    target = published(tmp_path)

    def half_copy(src, dst, *args, **kwargs):
        with open(src, "rb") as source, open(dst, "wb") as out:
            out.write(source.read(4096))  # what a disk filling up mid-copy leaves
        disk_full()

    monkeypatch.setattr(shutil, "copyfile", half_copy)
    with pytest.raises(OSError, match="No space left"):
        with target.build_connection(fresh=False):
            pass
    assert not target.building_path.exists()
    assert answer(target) == 42


def test_a_full_disk_while_syncing_the_build_leaves_no_building_copy(tmp_path, monkeypatch):
    target = published(tmp_path)
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        with target.build_connection(fresh=True) as conn:
            conn.execute(sa.text("create table t as select 7 as answer"))
    assert not target.building_path.exists()
    monkeypatch.undo()
    assert answer(target) == 42


def test_a_warehouse_folder_that_cannot_be_written_is_named(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(WarehouseUnreachable, match=str(blocker)):
        DuckDBFileTarget(blocker / "warehouse.duckdb").check_reachable()
    DuckDBFileTarget(tmp_path / "new" / "warehouse.duckdb").check_reachable()  # created when missing
    assert (tmp_path / "new").is_dir()
