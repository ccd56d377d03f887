"""The class's drawings as files: CSV, IDX (MNIST's own format, zipped) and npz exports, and
reading such files back, checked, for import into the store."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from ..data import idx_bytes, parse_idx
from .store import Drawings, clean_room, text_array

EXPORT_FORMAT = 1


CSV_FIELDS = [
    "uid", "created_at", "room", "session_id", "true_label", "predicted_label", "preset", "k",
    *(f"p{d}" for d in range(10)),
    *(f"pixel{i}" for i in range(784)),
]  # fmt: skip
_TEXT_FIELDS = ("uid", "room", "session_id", "preset")
# A spreadsheet runs a cell starting with one of these as a formula: such text gets a
# leading apostrophe in the CSV (and an apostrophe itself one more), removed on import.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
IDX_IMAGES = "drawings-images-idx3-ubyte.gz"
IDX_LABELS = "drawings-labels-idx1-ubyte.gz"


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_untext(value: str) -> str:
    return value[1:] if value.startswith("'") else value


def _iso(value: np.datetime64) -> str:
    return np.datetime_as_string(value, unit="us")


def export_csv(items: Drawings) -> bytes:
    """The drawings as UTF-8 CSV: metadata, p0-p9, then pixel0-pixel783 (row-major).

    Everything but the canvas PNGs; :func:`read_export` reads it back.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for i in range(len(items)):
        writer.writerow(
            [
                _csv_text(str(items.uids[i])),
                _iso(items.created[i]),
                _csv_text(str(items.room[i])),
                _csv_text(str(items.session_id[i])),
                int(items.true_labels[i]),
                int(items.predicted[i]),
                _csv_text(str(items.preset[i])),
                int(items.k[i]),
                *(repr(float(p)) for p in items.proba[i]),
                *(int(v) for v in items.images[i].reshape(-1)),
            ]
        )
    return out.getvalue().encode("utf-8")


def export_idx_zip(items: Drawings) -> bytes:
    """A zip of two IDX .gz files in MNIST's own format: the images and the true labels."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        images = np.ascontiguousarray(items.images, dtype=np.uint8).reshape(-1, 28, 28)
        labels = np.asarray(items.true_labels, dtype=np.uint8)
        zf.writestr(IDX_IMAGES, gzip.compress(idx_bytes(images), mtime=0))
        zf.writestr(IDX_LABELS, gzip.compress(idx_bytes(labels), mtime=0))
        zf.writestr(
            "README.txt",
            f"{len(items)} labelled drawings collected by mnist-knn, in MNIST's IDX format\n"
            f"(28x28 uint8, ink = 255; labels are the digits people said they drew).\n"
            f"{IDX_IMAGES}: images, {IDX_LABELS}: labels.\n",
        )
    return buffer.getvalue()


def export_npz(items: Drawings) -> bytes:
    """Every column (canvas PNGs included) as .npz, readable with ``allow_pickle=False``.

    The PNGs are concatenated in ``png_data`` (uint8); drawing i's is
    ``png_data[png_offsets[i]:png_offsets[i + 1]]`` (empty when it has none).
    """
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(p) for p in items.png])
    png_data = np.frombuffer(b"".join(items.png), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        format_version=np.array(EXPORT_FORMAT),
        uid=text_array(items.uids),
        created=items.created.astype("datetime64[us]"),
        room=text_array(items.room),
        session_id=text_array(items.session_id),
        images=np.asarray(items.images, dtype=np.uint8),
        true_label=np.asarray(items.true_labels, dtype=np.uint8),
        predicted_label=np.asarray(items.predicted, dtype=np.uint8),
        proba=np.asarray(items.proba, dtype=np.float64),
        preset=text_array(items.preset),
        k=np.asarray(items.k, dtype=np.int64),
        png_data=png_data,
        png_offsets=offsets,
    )
    return buffer.getvalue()


Classify = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, str, int]]


def read_export(
    data: bytes, name: str = "upload", classify: Classify | None = None, idx_room: str = ""
) -> Drawings:
    """Read an export of :func:`export_npz`, :func:`export_csv` or :func:`export_idx_zip`.

    An IDX zip holds only images and labels: ``classify(images)`` must then return
    (predicted labels, probabilities (n, 10), preset name, k), e.g. the current model's.
    Its drawings go to ``idx_room`` and get uids derived from the file's content, so
    importing the same zip twice stores them once.

    Raises
    ------
    ValueError
        If the file is none of these, or is damaged; the message names it.
    """
    try:
        if data[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
            if "images.npy" in names:
                return _read_npz(data)
            if {IDX_IMAGES, IDX_LABELS} <= names:
                return _read_idx_zip(data, classify, clean_room(idx_room))
            raise ValueError(
                f"a zip, but neither an mnist-knn .npz nor an IDX export "
                f"(it holds {', '.join(sorted(names)[:5]) or 'nothing'})"
            )
        return _read_csv(data)
    except (ValueError, KeyError, zipfile.BadZipFile, OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{name}: cannot import it: {err}") from None


def _validated(items: Drawings) -> Drawings:
    n = len(items.ids)
    for field in items.__dataclass_fields__:
        value = getattr(items, field)
        if len(value) != n:
            raise ValueError(f"{field} has {len(value)} entries for {n} drawings")
    if items.images.shape[1:] != (28, 28) or items.proba.shape[1:] != (10,):
        raise ValueError("images must be (n, 28, 28) and probabilities (n, 10)")
    if n and (items.true_labels.max() > 9 or items.predicted.max() > 9):
        raise ValueError("a label is not a digit 0-9")
    return items


def _read_npz(data: bytes) -> Drawings:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        version = int(npz["format_version"])
        if version > EXPORT_FORMAT:
            raise ValueError(f"export format {version} is newer than this mnist-knn reads")
        offsets, png_data = npz["png_offsets"], npz["png_data"].tobytes()
        n = len(npz["uid"])
        return _validated(
            Drawings(
                ids=np.full(n, -1, dtype=np.int64),
                uids=npz["uid"].astype(str),
                created=npz["created"].astype("datetime64[us]"),
                room=npz["room"].astype(str),
                session_id=npz["session_id"].astype(str),
                images=npz["images"].astype(np.uint8),
                true_labels=npz["true_label"].astype(np.uint8),
                predicted=npz["predicted_label"].astype(np.uint8),
                proba=npz["proba"].astype(np.float64),
                preset=npz["preset"].astype(str),
                k=npz["k"].astype(np.int64),
                png=tuple(png_data[offsets[i] : offsets[i + 1]] for i in range(n)),
            )
        )


def _read_csv(data: bytes) -> Drawings:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = next(reader, None)
    if header != CSV_FIELDS:
        raise ValueError("not an mnist-knn CSV export (its header differs)")
    rows = list(reader)
    for number, row in enumerate(rows, start=2):
        if len(row) != len(CSV_FIELDS):
            raise ValueError(f"line {number} has {len(row)} fields, not {len(CSV_FIELDS)}")
    n = len(rows)

    def column(name, convert=str):
        at = CSV_FIELDS.index(name)
        return [convert(row[at]) for row in rows]

    numbers = np.array([row[8:] for row in rows], dtype=np.float64).reshape(n, 794)
    pixels = numbers[:, 10:]
    if ((pixels < 0) | (pixels > 255) | (pixels != np.round(pixels))).any():
        raise ValueError("a pixel is not a whole number 0-255")
    return _validated(
        Drawings(
            ids=np.full(n, -1, dtype=np.int64),
            uids=text_array(column("uid", _csv_untext)),
            created=np.array(column("created_at"), dtype="datetime64[us]"),
            room=text_array(column("room", _csv_untext)),
            session_id=text_array(column("session_id", _csv_untext)),
            images=pixels.astype(np.uint8).reshape(n, 28, 28),
            true_labels=np.array(column("true_label", int), dtype=np.uint8),
            predicted=np.array(column("predicted_label", int), dtype=np.uint8),
            proba=numbers[:, :10],
            preset=text_array(column("preset", _csv_untext)),
            k=np.array(column("k", int), dtype=np.int64),
            png=(b"",) * n,
        )
    )


def _read_idx_zip(data: bytes, classify: Classify | None, room: str) -> Drawings:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        images = parse_idx(gzip.decompress(zf.read(IDX_IMAGES)), IDX_IMAGES)
        labels = parse_idx(gzip.decompress(zf.read(IDX_LABELS)), IDX_LABELS)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"{IDX_IMAGES} holds {images.shape} {images.dtype}, not 28x28 uint8")
    if labels.shape != (len(images),) or labels.dtype != np.uint8:
        raise ValueError(f"{IDX_LABELS} does not hold one uint8 label per image")
    if classify is None:
        raise ValueError("an IDX export holds no predictions; a model must classify it")
    n = len(images)
    predicted, proba, preset, k = classify(images)
    digest = hashlib.sha256(data).hexdigest()[:20]
    now = np.datetime64(datetime.now(UTC).replace(tzinfo=None), "us")
    return _validated(
        Drawings(
            ids=np.full(n, -1, dtype=np.int64),
            uids=text_array(f"{digest}{i:012d}" for i in range(n)),
            created=np.full(n, now, dtype="datetime64[us]"),
            room=text_array([room] * n),
            session_id=text_array(["import"] * n),
            images=images,
            true_labels=labels,
            predicted=np.asarray(predicted, dtype=np.uint8),
            proba=np.asarray(proba, dtype=np.float64),
            preset=text_array([preset] * n),
            k=np.full(n, int(k), dtype=np.int64),
            png=(b"",) * n,
        )
    )


def with_room(items: Drawings, room: str) -> Drawings:
    """The same drawings, all in ``room``."""
    return replace(items, room=text_array([clean_room(room)] * len(items)))
