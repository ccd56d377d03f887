"""IDX reading and writing, corrupt files, and the real download path over loopback HTTP."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from mnist_knn import data as mnist_data
from mnist_knn.data import MnistNotFoundError, load_mnist, parse_idx, read_idx, write_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
        np.array([7, 0, 9], dtype=np.uint8),
        np.array([[-1, 2], [300, -40000]], dtype=np.int32),
        np.array([0.5, -1.25], dtype=np.float32),
        np.array([[1e300]], dtype=np.float64),
        np.array([-3, 1000], dtype=np.int16),
    ],
)
def test_idx_round_trip(tmp_path, array, suffix):
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


def test_idx_header_is_big_endian_per_spec(tmp_path):
    write_idx(tmp_path / "x", np.zeros((2, 3), dtype=np.uint8))
    raw = (tmp_path / "x").read_bytes()
    assert raw[:4] == bytes([0, 0, 0x08, 2])
    assert raw[4:12] == bytes([0, 0, 0, 2, 0, 0, 0, 3])
    assert len(raw) == 12 + 6


def test_reads_the_shipped_mnist_header():
    labels = read_idx(mnist_data.PROJECT_DATA_DIR / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,)
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01" + b"\x00\x00\x00\x01" + b"\x05", "bad magic number"),
        (b"\x00\x00\x07\x01" + b"\x00\x00\x00\x01" + b"\x05", "unknown IDX data type"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated header"),
        (b"\x00\x00\x08\x01" + b"\x00\x00\x00\x05" + b"\x01\x02", "truncated"),
        (b"\x00\x00\x08\x01" + b"\x00\x00\x00\x01" + b"\x01\x02", "trailing bytes"),
    ],
)
def test_parse_idx_rejects_bad_content(raw, message):
    with pytest.raises(ValueError, match=message) as info:
        parse_idx(raw, "some-file")
    assert "some-file" in str(info.value)


def test_truncated_gzip_names_the_file(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx(path, np.arange(1000, dtype=np.uint8) % 10)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ValueError, match="truncated or corrupt") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx(path, np.arange(1000, dtype=np.uint8) % 10)
    raw = bytearray(path.read_bytes())
    raw[20] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_full_size_file_with_wrong_checksum_is_refused(tmp_path, monkeypatch):
    """A file the size of real MNIST whose bytes differ is corrupt, not a subset."""
    folder = tmp_path / "mnist"
    for key, (stem, _, _) in mnist_data.MNIST_FILES.items():
        (folder).mkdir(exist_ok=True)
        src = mnist_data.PROJECT_DATA_DIR / f"{stem}.gz"
        content = gzip.decompress(src.read_bytes())
        if key == "test_labels":
            content = content[:-1] + bytes([(content[-1] + 1) % 10])
        (folder / stem).write_bytes(content)
    monkeypatch.setenv("MNIST_DIR", str(folder))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte: corrupt") as info:
        load_mnist(download=False)
    assert "delete the damaged file" in str(info.value) and str(folder) in str(info.value)


def test_truncated_shipped_file_says_how_to_restore(tmp_path, monkeypatch):
    """The same message a user would see if data/mnist/ were damaged."""
    monkeypatch.setattr(mnist_data, "PROJECT_DATA_DIR", tmp_path)
    monkeypatch.delenv("MNIST_DIR", raising=False)
    for stem, _, _ in mnist_data.MNIST_FILES.values():
        raw = (mnist_data.PROJECT_ROOT / "data" / "mnist" / f"{stem}.gz").read_bytes()
        (tmp_path / f"{stem}.gz").write_bytes(raw[:-100] if stem.startswith("t10k-images") else raw)
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz") as info:
        load_mnist(download=False)
    assert "git checkout -- data/mnist" in str(info.value)


def test_missing_everywhere_without_download_lists_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(MnistNotFoundError, match="nowhere"):
        load_mnist(download=False)


# ---------------------------------------------------------------- loopback download


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path):
    """A real HTTP server on 127.0.0.1 serving a folder; yields (folder, base URL)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _serve_real_mnist(folder: Path) -> None:
    for stem, _, _ in mnist_data.MNIST_FILES.values():
        (folder / f"{stem}.gz").write_bytes(
            (mnist_data.PROJECT_DATA_DIR / f"{stem}.gz").read_bytes()
        )


def test_download_from_loopback_mirror(tmp_path, monkeypatch, mirror):
    folder, url = mirror
    _serve_real_mnist(folder)
    target = tmp_path / "downloaded"
    monkeypatch.setenv("MNIST_DIR", str(target))
    monkeypatch.setenv("MNIST_MIRRORS", url)
    seen = []
    data = load_mnist(progress=lambda fraction, message: seen.append((fraction, message)))
    assert data.x_train.shape == (60000, 28, 28)
    assert data.y_test[:3].tolist() == [7, 2, 1]
    assert sorted(p.name for p in target.iterdir()) == sorted(
        f"{stem}.gz" for stem, _, _ in mnist_data.MNIST_FILES.values()
    )
    assert seen[-1][0] == 1.0 and "downloaded" in seen[-1][1]


def test_corrupted_download_is_refused_and_leaves_nothing(tmp_path, monkeypatch, mirror):
    folder, url = mirror
    _serve_real_mnist(folder)
    # Same size, one label changed: a valid gzip whose content fails the SHA-256 check.
    stem = "t10k-labels-idx1-ubyte"
    content = bytearray(gzip.decompress((folder / f"{stem}.gz").read_bytes()))
    content[-1] = (content[-1] + 1) % 10
    (folder / f"{stem}.gz").write_bytes(gzip.compress(bytes(content)))
    assert hashlib.sha256(content).hexdigest() != mnist_data.MNIST_FILES["test_labels"][1]

    target = tmp_path / "downloaded"
    monkeypatch.setenv("MNIST_DIR", str(target))
    monkeypatch.setenv("MNIST_MIRRORS", url)
    with pytest.raises(MnistNotFoundError) as info:
        load_mnist(progress=lambda *a: None)
    message = str(info.value)
    assert "checksum mismatch" in message
    assert str(target) in message and url in message
    assert not (target / f"{stem}.gz").exists()
    assert not list(target.glob(".*.tmp")), "a temp file was left behind"


def test_unreachable_mirror_gives_a_clear_error(tmp_path, monkeypatch, mirror):
    _, url = mirror  # serves an empty folder: every file is a 404
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "downloaded"))
    monkeypatch.setenv("MNIST_MIRRORS", url)
    with pytest.raises(MnistNotFoundError, match="404"):
        load_mnist(progress=lambda *a: None)
    assert not list((tmp_path / "downloaded").glob("*"))
