"""`python -m mnist_knn class export|import|delete`: the teacher's actions without a browser,
with the same checks and bounds as the page (issue 15)."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from mnist_knn.__main__ import main
from mnist_knn.classroom.exchange import IDX_IMAGES, IDX_LABELS, read_export
from mnist_knn.classroom.store import DrawingStore
from tests.support.drawing_checks import save_random


@pytest.fixture
def store(tmp_path):
    store = DrawingStore(tmp_path / "class.sqlite")
    save_random(store, ["5B"] * 4 + ["6C"] * 2)
    return store


def run(store, *args) -> int:
    return main(["class", *args, "--store", str(store.url.removeprefix("sqlite:///"))])


def test_export_import_delete_round_trip(store, tmp_path, capsys):
    out = tmp_path / "5b.npz"
    assert run(store, "export", "--room", "5B", "--format", "npz", "--out", str(out)) == 0
    assert "exported 4 drawings" in capsys.readouterr().out
    assert sorted(read_export(out.read_bytes()).true_labels) == [0, 1, 2, 3]
    assert run(store, "delete", "--room", "5B") == 1
    assert "add --yes" in capsys.readouterr().err and store.count() == 6
    assert run(store, "delete", "--room", "5B", "--yes") == 0
    assert store.rooms() == {"6C": 2}
    assert run(store, "import", str(out)) == 0
    assert "imported 4 drawings from 5b.npz (0 were already there)" in capsys.readouterr().out
    assert store.rooms() == {"5B": 4, "6C": 2}
    assert run(store, "import", str(out), "--room", "7A") == 0  # the same uids: stored once
    assert store.rooms() == {"5B": 4, "6C": 2}


def test_an_idx_zip_over_the_cap_is_refused_with_status_1(store, tmp_path, capsys):
    n = 100_000
    header = bytes([0, 0, 8, 3]) + b"".join(s.to_bytes(4, "big") for s in (n, 28, 28))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(IDX_IMAGES, gzip.compress(header + bytes(n * 784), 1))
        zf.writestr(IDX_LABELS, gzip.compress(bytes([0, 0, 8, 1]) + n.to_bytes(4, "big")))
    path = tmp_path / "many.zip"
    path.write_bytes(buffer.getvalue())
    assert run(store, "import", str(path), "--room", "5B") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: many.zip: cannot import it: it holds 100,000 drawings")
    assert store.count() == 6


def test_an_import_past_the_room_cap_is_refused(store, tmp_path, capsys, monkeypatch):
    out = tmp_path / "all.csv"
    assert run(store, "export", "--format", "csv", "--out", str(out)) == 0
    other = DrawingStore(tmp_path / "other.sqlite")
    monkeypatch.setattr(
        DrawingStore.__init__,
        "__kwdefaults__",
        {**DrawingStore.__init__.__kwdefaults__, "max_per_room": 3},
    )
    code = main(["class", "import", str(out), "--store", str(tmp_path / "other.sqlite")])
    assert code == 1
    assert "room “5B” holds 0 drawings; adding 4 would pass the 3" in capsys.readouterr().err
    assert other.count() == 0


def test_a_missing_file_and_an_unsupported_store_are_messages(tmp_path, capsys):
    assert (
        main(["class", "import", str(tmp_path / "nope.npz"), "--store", str(tmp_path / "s")]) == 1
    )
    assert "nope.npz" in capsys.readouterr().err
    assert main(["class", "delete", "--room", "x", "--yes", "--store", "mysql://u:p@h/db"]) == 1
    assert "a mysql database is not supported" in capsys.readouterr().err
