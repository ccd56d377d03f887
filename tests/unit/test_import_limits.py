"""Imports do bounded work for any file: headers and counts checked before anything is
decompressed or allocated, values checked before they are cast (issue 15, findings 1-3 and
the import tracebacks)."""

from __future__ import annotations

import csv
import gzip
import io
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from mnist_knn.classroom.exchange import (
    CSV_FIELDS,
    IDX_IMAGES,
    IDX_LABELS,
    export_csv,
    export_npz,
    read_export,
)
from mnist_knn.classroom.limits import MAX_IMPORT_DRAWINGS
from mnist_knn.classroom.store import DrawingStore
from tests.support.drawing_checks import save_random

pytest_plugins = ["tests.support.store_fixtures"]


def classify(images):
    n = len(images)
    return np.full(n, 7), np.tile(np.eye(10)[7], (n, 1)), "default", 4


@pytest.fixture
def small(tmp_path):
    """Three saved drawings, read back (with their PNGs)."""
    store = DrawingStore(tmp_path / "d.sqlite")
    save_random(
        store,
        ["5B"] * 3,
        session_id=lambda i: f"s{i}",
        canvas_png=lambda i: b"\x89PNG" + bytes([i]) * 20,
    )
    return store.query(with_png=True)


def gz_stream(header: bytes, zeros: int) -> bytes:
    """gzip of ``header`` followed by ``zeros`` zero bytes, compressed in pieces."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(header)]
    block = bytes(1 << 20)
    while zeros > 0:
        parts.append(comp.compress(block[: min(zeros, len(block))]))
        zeros -= len(block)
    parts.append(comp.flush())
    return b"".join(parts)


def idx_header(*shape: int) -> bytes:
    return bytes([0, 0, 0x08, len(shape)]) + b"".join(s.to_bytes(4, "big") for s in shape)


def idx_zip(images_gz: bytes, labels_gz: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(IDX_IMAGES, images_gz)
        zf.writestr(IDX_LABELS, labels_gz)
    return buffer.getvalue()


def peak_bytes(call) -> tuple[int, object]:
    """(peak bytes allocated while running ``call()``, its result or exception)."""
    tracemalloc.start()
    try:
        try:
            result = call()
        except Exception as exc:  # returned for the test to inspect
            result = exc
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_an_idx_zip_bomb_is_refused_before_it_is_decompressed():
    # 10 images declared, 64 MB of zeros after them: a few KB of zip.
    n = 10
    raw = idx_zip(gz_stream(idx_header(n, 28, 28), 64 << 20), gzip.compress(idx_header(n)))
    assert len(raw) < 200_000
    peak, result = peak_bytes(lambda: read_export(raw, "bomb.zip", classify))
    assert isinstance(result, ValueError)
    assert str(result).startswith("bomb.zip: cannot import it")
    assert "holds more than its header declares" in str(result)
    assert peak < 8 << 20  # the old code decompressed all 64 MB first


def test_an_idx_zip_declaring_too_many_images_is_refused_from_its_header():
    n = 100_000  # a 624-byte zip used to add 100,000 drawings
    raw = idx_zip(gz_stream(idx_header(n, 28, 28), n * 784), gz_stream(idx_header(n), n))
    peak, result = peak_bytes(lambda: read_export(raw, "many.zip", classify))
    assert isinstance(result, ValueError)
    assert f"100,000 drawings; at most {MAX_IMPORT_DRAWINGS:,}" in str(result)
    assert peak < 8 << 20


def test_an_idx_zip_at_the_cap_is_imported():
    n = 50
    images = np.random.default_rng(1).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    raw = idx_zip(
        gzip.compress(idx_header(n, 28, 28) + images.tobytes()),
        gzip.compress(idx_header(n) + labels.tobytes()),
    )
    items = read_export(raw, "ok.zip", classify, idx_room="5B")
    np.testing.assert_array_equal(items.images, images)
    np.testing.assert_array_equal(items.true_labels, labels)
    assert set(items.room) == {"5B"} and set(items.predicted) == {7}


def test_an_idx_label_outside_0_to_9_is_refused():
    raw = idx_zip(
        gzip.compress(idx_header(1, 28, 28) + bytes(784)), gzip.compress(idx_header(1) + b"\x0c")
    )
    with pytest.raises(ValueError, match="holds the label 12, not a digit"):
        read_export(raw, "x.zip", classify)


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def export_arrays(items) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(export_npz(items)), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def lying_npy(shape, dtype="<u1") -> bytes:
    """A .npy whose header declares ``shape`` but that holds 16 bytes."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + bytes(16)


def test_an_npz_declaring_huge_arrays_is_refused_from_its_headers(small):
    arrays = export_arrays(small)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, value in arrays.items():
            if key == "images":  # 10 million images: 7.8 GB declared in a few KB
                zf.writestr("images.npy", lying_npy((10_000_000, 28, 28)))
            else:
                with zf.open(f"{key}.npy", "w") as fh:
                    np.lib.format.write_array(fh, value)
    peak, result = peak_bytes(lambda: read_export(buffer.getvalue(), "huge.npz"))
    assert isinstance(result, ValueError)
    assert "huge.npz: cannot import it: array images declares (10000000, 28, 28)" in str(result)
    assert peak < 8 << 20


def test_an_npz_with_too_many_drawings_is_refused_before_loading(small):
    n = 100_000  # compresses to ~1 MB; 78 MB of images once loaded
    arrays = export_arrays(small.subset(np.zeros(n, dtype=np.intp)))
    raw = npz_bytes(**arrays)
    peak, result = peak_bytes(lambda: read_export(raw, "many.npz"))
    assert isinstance(result, ValueError)
    assert f"100,000 drawings; at most {MAX_IMPORT_DRAWINGS:,}" in str(result)
    assert peak < len(raw) + (8 << 20)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.update(format_version=np.array([1, 1])), "format_version is (2,)"),
        (lambda a: a.update(uid=np.array("x")), "array uid is ()"),
        (lambda a: a.update(png_offsets=a["png_offsets"][:2]), "png_offsets is (2,)"),
        (lambda a: a.update(png_offsets=a["png_offsets"][::-1].copy()), "png_offsets do not"),
        (
            lambda a: a.update(true_label=np.array([1, 256, 2], dtype=np.int64)),
            "true label 256 is not a digit",
        ),
        (
            lambda a: a.update(predicted_label=np.array([-1, 1, 2], dtype=np.int64)),
            "predicted label -1 is not a digit",
        ),
        (
            lambda a: a.update(images=np.full((3, 28, 28), 300, dtype=np.int16)),
            "a pixel is 300, not 0-255",
        ),
        (lambda a: a["proba"].__setitem__((1, 3), np.nan), "drawing 2: its probabilities"),
        (lambda a: a.update(k=np.array([4, 10**18, 4])), "k = 1000000000000000000 is not"),
        (lambda a: a.update(images=a["images"].astype(np.float64)), "array images is"),
    ],
)
def test_npz_values_are_checked_not_wrapped(small, change, message):
    arrays = export_arrays(small)
    change(arrays)
    with pytest.raises(ValueError, match="cannot import it") as caught:
        read_export(npz_bytes(**arrays), "class.npz")
    assert message in str(caught.value)


def csv_with(items, **cells) -> bytes:
    rows = list(csv.reader(io.StringIO(export_csv(items).decode())))
    for name, value in cells.items():
        rows[1][CSV_FIELDS.index(name)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ({"true_label": "256"}, "true label 256 is not a digit"),
        ({"true_label": "-1"}, "true label -1 is not a digit"),
        ({"predicted_label": "seven"}, "line 2: predicted_label 'seven' is not a whole number"),
        ({"k": str(10**30)}, "line 2: k 1e+30 is out of range"),
        ({"k": "0"}, "drawing 1: k = 0 is not in 1-10,000"),
        ({"created_at": "20000-01-01T00:00:00"}, "is not a real date"),
        ({"created_at": "NaT"}, "is not a real date"),
        ({"created_at": "yesterday"}, "a date is not a date"),
        ({"p3": "nan"}, "its probabilities are not 10 numbers"),
    ],
)
def test_csv_values_are_messages_not_tracebacks(small, cells, message):
    with pytest.raises(ValueError, match=r"class\.csv: cannot import it") as caught:
        read_export(csv_with(small, **cells), "class.csv")
    assert message in str(caught.value)


def test_a_csv_over_the_cap_is_refused(small):
    header, row = export_csv(small).decode().split("\n")[:2]
    text = header + "\n" + "\n".join([row.replace(row.split(",")[0], "", 1)] * 5_001) + "\n"
    with pytest.raises(ValueError, match="5,001 drawings; at most 5,000"):
        read_export(text.encode(), "big.csv")


def test_csv_rows_without_uid_are_imported_once(tmp_path, small):
    rows = list(csv.reader(io.StringIO(export_csv(small).decode())))
    for row in rows[1:]:
        row[0] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    store = DrawingStore(tmp_path / "t.sqlite")
    assert store.add(read_export(out.getvalue().encode(), "hand.csv")) == (3, 0)
    assert store.add(read_export(out.getvalue().encode(), "hand.csv")) == (0, 3)
    assert store.count() == 3


def test_npz_drawings_without_uid_are_imported_once(tmp_path, small):
    arrays = export_arrays(small)
    arrays["uid"] = np.array(["", "", ""])
    store = DrawingStore(tmp_path / "t.sqlite")
    assert store.add(read_export(npz_bytes(**arrays))) == (3, 0)
    assert store.add(read_export(npz_bytes(**arrays))) == (0, 3)


def test_a_zip_of_many_members_is_refused_before_it_is_listed():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(1000):
            zf.writestr(f"{i}.npy", b"")
    with pytest.raises(ValueError, match="a zip of 1000 files; an export has at most 32"):
        read_export(buffer.getvalue(), "many.zip")
