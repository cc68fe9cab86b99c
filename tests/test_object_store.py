"""Deleting a folder of objects (``ObjectStore.delete_prefix``), on moto's S3 server over HTTP and on
the directory store: exactly the folder's objects go, nothing beside it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from yaffw.errors import BadInput, NotFound
from yaffw.storage import DirStore, ObjectStore

from tests._scan_helpers import make_store


@pytest.fixture(params=["s3", "dir"])
def store(request, settings, tmp_path: Path) -> ObjectStore:
    return make_store(settings) if request.param == "s3" else DirStore(tmp_path / "objects")


def test_delete_prefix_removes_the_folder_and_nothing_beside_it(store: ObjectStore):
    top = f"t-{uuid.uuid4().hex[:8]}"
    inside = [f"{top}/a/1.ts", f"{top}/a/k/2.ts", f"{top}/a/k/count"]
    beside = [f"{top}/ab/1.ts", f"{top}/a.ts", f"{top}/b/a/1.ts"]  # share the name's start, not the folder
    for key in inside + beside:
        store.put(key, key.encode(), "application/octet-stream")
    try:
        assert store.delete_prefix(f"{top}/a/") == len(inside)
        for key in inside:
            with pytest.raises(NotFound):
                store.get(key)
        assert [store.get(k) for k in beside] == [k.encode() for k in beside]
        assert store.delete_prefix(f"{top}/a/") == 0  # gone already: fine
    finally:
        for key in beside:
            store.delete(key)


@pytest.mark.parametrize("prefix", ["", "/", "a", "../a/", "a//", "a/../b/", "/a/"])
def test_delete_prefix_takes_only_a_whole_folder(store: ObjectStore, prefix: str):
    with pytest.raises(BadInput):
        store.delete_prefix(prefix)
