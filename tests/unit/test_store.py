"""The drawings store on SQLite and PostgreSQL: round trips, hostile input, migrations, exports."""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import sqlite3
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from mnist_knn import data as mnist_data
from mnist_knn.classroom import store as store_module
from mnist_knn.classroom.exchange import (
    CSV_FIELDS,
    IDX_IMAGES,
    IDX_LABELS,
    export_csv,
    export_idx_zip,
    export_npz,
    read_export,
    with_room,
)
from mnist_knn.classroom.limits import MAX_ROOM_DRAWINGS
from mnist_knn.classroom.store import (
    MAX_ROOM,
    DrawingStore,
    RoomFullError,
    StoreError,
    clean_room,
    resolve_url,
)
from tests.support.drawing_checks import assert_same_drawings

pytest_plugins = ["tests.support.store_fixtures"]  # store_url, pg_url

HOSTILE_ROOMS = [
    "O'Brien's \"class\"",
    "'; DROP TABLE drawings; --",
    "Robert'); DELETE FROM schema_version; --",
    "% _ \\ LIKE wildcards % _",
    "клас 5-Б · 五年级 · الصف",
    "🦄 emoji 👩🏽‍🏫 room 🏳️‍🌈",
    '=HYPERLINK("http://x")',
    "'quoted",
    "r" * MAX_ROOM,
]


def digit(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (28, 28), dtype=np.uint8)


def save(store, seed=0, **overrides):
    values = dict(
        true_label=seed % 10,
        predicted=(seed * 3) % 10,
        proba=np.random.default_rng(seed).dirichlet(np.ones(10)),
        preset="default",
        k=4,
        room="5B",
        session_id=f"session-{seed}",
        canvas_png=b"\x89PNG fake " + bytes([seed % 256]) * 40,
    )
    values.update(overrides)
    return store.save(digit(seed), **values)


def test_save_then_query_returns_every_value(store_url):
    store = DrawingStore(store_url)
    when = datetime(2025, 3, 4, 10, 11, 12, 123456, tzinfo=UTC)
    proba = np.array([0.05, 0.1, 0.0, 0.7, 0.0, 0.15, 0.0, 0.0, 0.0, 1 / 3 - 1 / 3])
    drawing_id = store.save(
        digit(7),
        true_label=3,
        predicted=3,
        proba=proba,
        preset="baseline",
        k=6,
        room="  Room\t 12 ",
        session_id="abc123",
        canvas_png=b"\x89PNG\r\n...",
        created=when,
    )
    got = store.query(with_png=True)
    assert list(got.ids) == [drawing_id]
    np.testing.assert_array_equal(got.images[0], digit(7))
    assert got.images.dtype == np.uint8
    assert (got.true_labels[0], got.predicted[0], got.k[0]) == (3, 3, 6)
    np.testing.assert_array_equal(got.proba[0], proba)  # exact, not approximately
    assert (got.room[0], got.session_id[0], got.preset[0]) == ("Room 12", "abc123", "baseline")
    assert got.created[0] == np.datetime64("2025-03-04T10:11:12.123456")
    assert got.png == (b"\x89PNG\r\n...",)
    assert store.query().png == (b"",)  # PNGs only when asked for
    assert store.canvas_png(drawing_id) == b"\x89PNG\r\n..."
    assert got.correct.tolist() == [True]


def test_filters_rooms_and_deletes(store_url):
    store = DrawingStore(store_url)
    ids = {seed: save(store, seed, room="A" if seed < 6 else "B") for seed in range(10)}
    save(store, 10, room="")
    assert store.rooms() == {"": 1, "A": 6, "B": 4}
    assert store.count() == 11
    assert len(store.query(room="A")) == 6
    assert list(store.query(room="").true_labels) == [0]
    assert list(store.query(true_label=3).ids) == [ids[3]]
    assert list(store.query(predicted=9).ids) == [ids[3]]  # 3 * 3 = 9
    assert len(store.query(room="B", true_label=3)) == 0
    assert len(store.query(ids=[ids[1], ids[2], 999_999])) == 2
    assert store.delete([ids[1], ids[2], 999_999]) == 2
    assert store.delete_room("A") == 4
    assert store.delete_room("no such room") == 0
    assert store.rooms() == {"": 1, "B": 4}
    assert store.set_true_label(ids[7], 1) is True
    assert store.query(ids=[ids[7]]).true_labels[0] == 1
    assert store.set_true_label(999_999, 1) is False


@pytest.mark.parametrize("room", HOSTILE_ROOMS)
def test_any_room_name_round_trips_and_stays_in_its_room(store_url, room):
    store = DrawingStore(store_url)
    save(store, 1, room="neighbours")
    drawing_id = save(store, 2, room=room)
    assert store.rooms() == {"neighbours": 1, room: 1}
    got = store.query(room=room)
    assert list(got.ids) == [drawing_id] and got.room[0] == room
    pattern = room[:-1] + ("%" if room.endswith("_") else "_")
    assert len(store.query(room=pattern)) == 0  # no LIKE, no pattern: exact match only
    back = read_export(export_csv(got))
    assert back.room[0] == room
    assert read_export(export_npz(got)).room[0] == room
    assert store.delete_room(room) == 1
    assert store.rooms() == {"neighbours": 1}  # the other room and the tables survive
    assert DrawingStore(store_url).count() == 1


def test_room_names_are_cleaned_and_bounded(store_url):
    store = DrawingStore(store_url)
    save(store, 1, room="tab\there\nnew line\x00nul \ud800 end")
    assert list(store.rooms()) == ["tab here new line nul end"]
    assert store.rooms() == {"tab here new line nul end": 1}
    # "é" typed as e + combining accent is the same room as the precomposed one
    save(store, 2, room="Cafe\u0301")
    assert store.rooms()["Café"] == 1
    with pytest.raises(ValueError, match=f"at most {MAX_ROOM}"):
        save(store, 3, room="x" * (MAX_ROOM + 1))
    assert store.count() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"true_label": 10}, "digit 0-9"),
        ({"predicted": -1}, "digit 0-9"),
        ({"true_label": True}, "digit 0-9"),
        ({"proba": [0.5, 0.5]}, "10 finite"),
        ({"proba": [np.nan] * 10}, "10 finite"),
        ({"k": 0}, "at least 1"),
        ({"preset": ""}, "preset name is empty"),
    ],
)
def test_malformed_drawings_are_refused(tmp_path, change, message):
    store = DrawingStore(tmp_path / "d.sqlite")
    with pytest.raises(ValueError, match=message):
        save(store, 1, **change)
    with pytest.raises(ValueError, match="28x28"):
        store.save(
            np.zeros((27, 28), np.uint8),
            true_label=1,
            predicted=1,
            proba=np.eye(10)[1],
            preset="default",
            k=4,
        )
    assert store.count() == 0


def test_sqlite_file_is_wal_and_versioned(tmp_path):
    path = tmp_path / "sub" / "folder" / "d.sqlite"
    store = DrawingStore(path)
    save(store, 1)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    assert store.version == len(store_module.MIGRATIONS) == 1


def test_a_new_migration_upgrades_an_existing_database(store_url, monkeypatch):
    store = DrawingStore(store_url)
    drawing_id = save(store, 4)
    store.close()

    import sqlalchemy as sa

    def v2_add_note(conn):
        conn.execute(sa.text("ALTER TABLE drawings ADD COLUMN note VARCHAR(20)"))
        conn.execute(sa.text("UPDATE drawings SET note = 'migrated'"))

    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, v2_add_note])
    upgraded = DrawingStore(store_url)
    assert upgraded.version == 2
    with upgraded.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT max(version) FROM schema_version")).scalar() == 2
        assert conn.execute(sa.text("SELECT id, note FROM drawings")).all() == [
            (drawing_id, "migrated")
        ]
    np.testing.assert_array_equal(upgraded.query().images[0], digit(4))
    DrawingStore(store_url)  # opening again applies nothing twice
    upgraded.close()
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:1])
    with pytest.raises(StoreError, match="schema version 2, newer than"):
        DrawingStore(store_url)


def test_a_database_that_is_not_ours_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE drawings (x INTEGER)")
    with pytest.raises(StoreError, match="not made by mnist-knn"):
        DrawingStore(path)


def test_unreachable_postgresql_is_a_clear_error_without_the_password():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(StoreError) as caught:
        DrawingStore(f"postgresql://teacher:s3cret-pw@127.0.0.1:{port}/class")
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert f"postgresql+psycopg://teacher:***@127.0.0.1:{port}/class" in message
    assert "PostgreSQL server is running" in message and "MNIST_KNN_STORE" in message


def test_unusable_locations_are_clear_errors(tmp_path):
    with pytest.raises(StoreError, match="no database driver"):
        DrawingStore("postgresql+nosuchdriver://u:p@localhost/db")
    with pytest.raises(StoreError, match="SQLite \\*file\\*"):
        DrawingStore("sqlite://")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the folder"):
        DrawingStore(blocker / "d.sqlite")
    damaged = tmp_path / "damaged.sqlite"
    damaged.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"damaged\.sqlite"):
        DrawingStore(damaged)


def test_resolve_url(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_KNN_STORE", raising=False)
    assert resolve_url() == f"sqlite:///{store_module.DEFAULT_PATH}"
    assert resolve_url(tmp_path / "x.sqlite") == f"sqlite:///{tmp_path}/x.sqlite"
    assert resolve_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert resolve_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    monkeypatch.setenv("MNIST_KNN_STORE", str(tmp_path / "env.sqlite"))
    assert resolve_url() == f"sqlite:///{tmp_path}/env.sqlite"
    assert store_module.safe_url("postgresql+psycopg://u:pw@h/db") == (
        "postgresql+psycopg://u:***@h/db"
    )


# ------------------------------------------------------------------ exports


@pytest.fixture
def filled(tmp_path):
    store = DrawingStore(tmp_path / "d.sqlite")
    for seed in range(12):
        no_png = {"canvas_png": None} if seed == 5 else {}
        save(store, seed, room=HOSTILE_ROOMS[seed % 3], **no_png)
    for seed in range(12, 15):
        save(store, seed, room="=1+2")
    return store


def test_csv_export_columns_and_values(filled):
    items = filled.query()
    text = export_csv(items).decode("utf-8")
    lines = text.splitlines()
    assert lines[0].split(",") == CSV_FIELDS
    assert len(CSV_FIELDS) == 8 + 10 + 784
    import csv

    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 15
    first = rows[0]
    assert first["room"] == HOSTILE_ROOMS[0] and first["true_label"] == "0"
    assert [int(first[f"pixel{i}"]) for i in range(784)] == digit(0).reshape(-1).tolist()
    assert [float(first[f"p{d}"]) for d in range(10)] == items.proba[0].tolist()
    # a spreadsheet would run "=1+2" as a formula: the CSV quotes it with an apostrophe
    assert rows[-1]["room"] == "'=1+2"
    assert rows[1]["room"] == "''; DROP TABLE drawings; --"
    assert_same_drawings(read_export(export_csv(items)), items, png=False)


def test_idx_export_reads_back_with_read_idx(filled, tmp_path):
    items = filled.query()
    with zipfile.ZipFile(io.BytesIO(export_idx_zip(items))) as zf:
        assert set(zf.namelist()) == {IDX_IMAGES, IDX_LABELS, "README.txt"}
        zf.extractall(tmp_path / "idx")
    images = mnist_data.read_idx(tmp_path / "idx" / IDX_IMAGES)
    labels = mnist_data.read_idx(tmp_path / "idx" / IDX_LABELS)
    assert images.shape == (15, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, items.images)
    np.testing.assert_array_equal(labels, items.true_labels)
    assert gzip.decompress((tmp_path / "idx" / IDX_LABELS).read_bytes())[:4] == bytes(
        [0, 0, 8, 1]
    )  # the magic number of MNIST's label files


def test_npz_export_loads_without_pickle_and_round_trips_pngs(filled):
    items = filled.query(with_png=True)
    raw = export_npz(items)
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        assert npz["images"].shape == (15, 28, 28)
        assert npz["room"].dtype.kind == "U"
        assert npz["png_offsets"][-1] == len(npz["png_data"])
    back = read_export(raw)
    assert_same_drawings(back, items)
    assert back.png[5] == b"" and back.png[6].startswith(b"\x89PNG")


def test_reimport_into_a_new_store_is_equal_and_idempotent(store_url, filled):
    items = filled.query(with_png=True)
    target = DrawingStore(store_url)
    assert target.add(read_export(export_npz(items))) == (15, 0)
    assert target.add(read_export(export_npz(items))) == (0, 15)
    assert target.add(read_export(export_csv(items))) == (0, 15)
    assert_same_drawings(target.query(with_png=True), items)
    assert target.rooms() == filled.rooms()


def test_idx_import_needs_a_model_and_is_idempotent(tmp_path, filled):
    items = filled.query()
    raw = export_idx_zip(items)
    with pytest.raises(ValueError, match="no predictions"):
        read_export(raw, "class.zip")

    def classify(images):
        return np.full(len(images), 7), np.tile(np.eye(10)[7], (len(images), 1)), "default", 4

    back = with_room(read_export(raw, "class.zip", classify), "imported")
    target = DrawingStore(tmp_path / "t.sqlite")
    assert target.add(back) == (15, 0)
    assert target.add(with_room(read_export(raw, "class.zip", classify), "imported")) == (0, 15)
    got = target.query()
    np.testing.assert_array_equal(got.images, items.images)
    np.testing.assert_array_equal(got.true_labels, items.true_labels)
    assert set(got.predicted) == {7} and set(got.room) == {"imported"}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "header differs"),
        (b"a,b,c\n1,2,3\n", "header differs"),
        (",".join(CSV_FIELDS).encode() + b"\nshort,row\n", "line 2 has 2 fields"),
        (b"PK\x03\x04 not really a zip", "File is not a zip"),
        (b"\xff\xfe\x00garbage", "codec"),
    ],
)
def test_damaged_imports_are_refused_by_name(payload, message):
    with pytest.raises(ValueError, match=message) as caught:
        read_export(payload, "class-export.csv")
    assert str(caught.value).startswith("class-export.csv: cannot import it")


def test_an_npz_with_pickled_objects_is_refused():
    buffer = io.BytesIO()
    np.savez(
        buffer, images=np.zeros((1, 28, 28), np.uint8), room=np.array([{"evil": 1}], dtype=object)
    )
    with pytest.raises(ValueError, match="upload"):
        read_export(buffer.getvalue())


def test_proba_is_stored_as_json_text(tmp_path):
    store = DrawingStore(tmp_path / "d.sqlite")
    save(store, 3)
    with sqlite3.connect(tmp_path / "d.sqlite") as conn:
        text, image = conn.execute("SELECT proba, image FROM drawings").fetchone()
    assert len(json.loads(text)) == 10 and len(image) == 784


def test_another_kind_of_database_names_the_supported_kinds():
    with pytest.raises(StoreError) as caught:
        DrawingStore("mysql://teacher:hunter2@db.example.org/class")
    message = str(caught.value)
    assert "a mysql database is not supported" in message
    assert "SQLite" in message and "postgresql://" in message and "MNIST_KNN_STORE" in message
    assert "hunter2" not in message


def test_writing_direction_overrides_are_removed_from_room_names(tmp_path):
    assert clean_room("5B\u202egpj.exe") == "5Bgpj.exe"
    assert clean_room("\u2067class\u2069 \u200f7") == "class 7"
    assert clean_room("👩🏽‍🏫 room") == "👩🏽‍🏫 room"  # the zero-width joiner stays
    store = DrawingStore(tmp_path / "d.sqlite")
    save(store, room="\u202eB5")
    assert store.rooms() == {"B5": 1}


def test_a_room_holds_at_most_max_per_room_drawings(store_url):
    assert DrawingStore(store_url).max_per_room == MAX_ROOM_DRAWINGS == 20_000
    store = DrawingStore(store_url, max_per_room=3)
    for seed in range(3):
        save(store, seed, room="5B")
    with pytest.raises(RoomFullError, match="room “5B” holds 3 drawings; adding 1 would pass"):
        save(store, 3, room="5B")
    save(store, 4, room="6C")
    items = DrawingStore(store_url).query(room="6C")
    more = with_room(items, "6C")
    twice = read_export(export_npz(more))  # the same uid: already there, not counted
    assert store.add(twice) == (0, 1)
    with pytest.raises(RoomFullError, match="room “5B” holds 3 drawings; adding 1"):
        store.add(
            with_room(read_export(export_csv(items).replace(items.uids[0].encode(), b"")), "5B")
        )
    assert store.rooms() == {"5B": 3, "6C": 1}


def test_a_deleted_sqlite_file_is_noticed_not_saved_into(tmp_path):
    path = tmp_path / "d.sqlite"
    store = DrawingStore(path)
    save(store, 0)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreError, match="the file was deleted while the app was running"):
        save(store, 1)
    with pytest.raises(StoreError, match="was deleted"):
        store.query()
    assert not path.exists() or DrawingStore(path).count() == 0


def test_a_replaced_sqlite_file_is_noticed(tmp_path):
    path = tmp_path / "d.sqlite"
    store = DrawingStore(path)
    save(store, 0)
    other = tmp_path / "other.sqlite"
    DrawingStore(other).close()
    os.replace(other, path)
    with pytest.raises(StoreError, match="replaced by another file"):
        save(store, 1)


def test_retention_deletes_old_drawings(tmp_path, monkeypatch):
    path = tmp_path / "d.sqlite"
    store = DrawingStore(path)
    old = datetime.now(UTC) - timedelta(days=40)
    save(store, 0, created=old)
    save(store, 1, created=old + timedelta(days=15))
    save(store, 2)
    assert store.count() == 3
    assert DrawingStore(path, retention_days=30).count() == 2
    monkeypatch.setenv("MNIST_KNN_RETENTION_DAYS", "7")
    kept = DrawingStore(path)
    assert kept.retention_days == 7 and kept.count() == 1
    save(kept, 3, created=old)  # saving purges too (here: the store just purged, so not yet)
    kept._purged_at = float("-inf")
    save(kept, 4)
    assert sorted(kept.query().true_labels.tolist()) == [2, 4]
    monkeypatch.setenv("MNIST_KNN_RETENTION_DAYS", "a month")
    with pytest.raises(StoreError, match="MNIST_KNN_RETENTION_DAYS='a month': give the number"):
        DrawingStore(path)
