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

from ..artifacts import npz_headers
from ..data import idx_bytes
from .limits import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_DRAWINGS,
    MAX_IMPORT_FILE_BYTES,
    MAX_K,
    MAX_PNG_BYTES,
    MAX_ZIP_MEMBERS,
    size_text,
)
from .store import MAX_ROOM, Drawings, clean_room, text_array

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
    importing the same zip twice stores them once. Drawings without a uid (a CSV edited
    by hand) get one derived from their content, for the same reason.

    Bounded work for any file: its size, its zip members, the .npy and IDX headers
    (shapes, types, counts) are checked against :mod:`.limits` *before* anything is
    decompressed or allocated, and every value is checked before it is converted.

    Raises
    ------
    ValueError
        If the file is none of these, is damaged, holds values out of range or more
        than :data:`~.limits.MAX_IMPORT_DRAWINGS` drawings; the message names it.
    """
    try:
        if len(data) > MAX_IMPORT_FILE_BYTES:
            raise ValueError(
                f"the file is {size_text(len(data))}; at most "
                f"{size_text(MAX_IMPORT_FILE_BYTES)} can be imported at once"
            )
        if data[:2] == b"PK":
            members = _zip_members(data)
            if "images.npy" in members:
                items = _read_npz(data)
            elif {IDX_IMAGES, IDX_LABELS} <= members:
                items = _read_idx_zip(data, classify, clean_room(idx_room))
            else:
                raise ValueError(
                    f"a zip, but neither an mnist-knn .npz nor an IDX export "
                    f"(it holds {', '.join(sorted(members)[:5]) or 'nothing'})"
                )
        else:
            items = _read_csv(data)
        return _with_uids(items)
    except (
        ValueError,
        KeyError,
        zipfile.BadZipFile,
        OSError,
        EOFError,
        UnicodeDecodeError,
        csv.Error,
    ) as err:
        raise ValueError(f"{name}: cannot import it: {err}") from None


def _zip_members(data: bytes) -> set[str]:
    """The member names of a zip, refusing one with more than MAX_ZIP_MEMBERS entries.

    The count comes from the end-of-central-directory record, before zipfile builds
    an object per entry.
    """
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        raise ValueError("File is not a zip file, or a damaged one (no central directory)")
    entries = int.from_bytes(data[at + 10 : at + 12], "little")
    if entries > MAX_ZIP_MEMBERS:
        raise ValueError(f"a zip of {entries} files; an export has at most {MAX_ZIP_MEMBERS}")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
    if len(names) > MAX_ZIP_MEMBERS:
        raise ValueError(f"a zip of {len(names)} files; an export has at most {MAX_ZIP_MEMBERS}")
    return set(names)


def _too_many(n: int) -> ValueError:
    return ValueError(
        f"it holds {n:,} drawings; at most {MAX_IMPORT_DRAWINGS:,} can be imported at once. "
        "Split it into smaller files (export one room at a time)"
    )


def _content_uid(items: Drawings, i: int) -> str:
    h = hashlib.sha256()
    for value in (items.created[i], items.room[i], items.session_id[i], items.true_labels[i]):
        h.update(str(value).encode("utf-8", "surrogatepass") + b"\0")
    h.update(np.ascontiguousarray(items.images[i]).tobytes())
    return "c" + h.hexdigest()[:31]


def _with_uids(items: Drawings) -> Drawings:
    """Drawings without a uid get one derived from their content (stable across imports)."""
    missing = [i for i, uid in enumerate(items.uids) if not str(uid).strip()]
    if not missing:
        return items
    uids = items.uids.astype(object)
    for i in missing:
        uids[i] = _content_uid(items, i)
    return replace(items, uids=text_array(str(u) for u in uids))


_EARLIEST, _LATEST = np.datetime64("1970-01-01", "us"), np.datetime64("9999-12-31", "us")


def _check_values(items: Drawings) -> Drawings:
    """Refuse values a drawing cannot have (before anything is cast or stored)."""
    n = len(items.ids)
    for field in items.__dataclass_fields__:
        value = getattr(items, field)
        if len(value) != n:
            raise ValueError(f"{field} has {len(value)} entries for {n} drawings")
    if n > MAX_IMPORT_DRAWINGS:
        raise _too_many(n)
    if items.images.shape[1:] != (28, 28) or items.proba.shape[1:] != (10,):
        raise ValueError("images must be (n, 28, 28) and probabilities (n, 10)")
    for what, labels in (("true", items.true_labels), ("predicted", items.predicted)):
        bad = np.flatnonzero((labels < 0) | (labels > 9))
        if len(bad):
            raise ValueError(
                f"drawing {bad[0] + 1}: its {what} label {labels[bad[0]]} is not a digit 0-9"
            )
    bad = np.flatnonzero(~np.isfinite(items.proba).all(axis=1) | (items.proba < 0).any(axis=1))
    if len(bad):
        raise ValueError(f"drawing {bad[0] + 1}: its probabilities are not 10 numbers >= 0")
    bad = np.flatnonzero((items.k < 1) | (items.k > MAX_K))
    if len(bad):
        raise ValueError(f"drawing {bad[0] + 1}: k = {items.k[bad[0]]} is not in 1-{MAX_K:,}")
    created = items.created
    bad = np.flatnonzero(np.isnat(created) | (created < _EARLIEST) | (created > _LATEST))
    if len(bad):
        raise ValueError(f"drawing {bad[0] + 1}: its date {created[bad[0]]} is not a real date")
    return replace(
        items,
        images=items.images.astype(np.uint8),
        true_labels=items.true_labels.astype(np.uint8),
        predicted=items.predicted.astype(np.uint8),
    )


# The arrays of an npz export: name -> (dtype kinds accepted, shape after the first axis);
# shape None is a 0-d scalar.
_NPZ_LAYOUT = {
    "format_version": ("iu", None),
    "uid": ("U", ()),
    "created": ("M", ()),
    "room": ("U", ()),
    "session_id": ("U", ()),
    "images": ("iu", (28, 28)),
    "true_label": ("iu", ()),
    "predicted_label": ("iu", ()),
    "proba": ("f", (10,)),
    "preset": ("U", ()),
    "k": ("iu", ()),
    "png_data": ("u", ()),
    "png_offsets": ("iu", ()),
}
_MAX_TEXT_CHARS = {"uid": 32, "room": MAX_ROOM, "session_id": 64, "preset": 64}


def _read_npz(data: bytes) -> Drawings:
    heads = npz_headers(data)
    missing = sorted(set(_NPZ_LAYOUT) - set(heads))
    if missing:
        raise ValueError(f"not an mnist-knn .npz export (no {', '.join(missing)})")
    n = heads["uid"].shape[0] if len(heads["uid"].shape) == 1 else -1
    if n > MAX_IMPORT_DRAWINGS:
        raise _too_many(n)
    total = sum(head.nbytes for head in heads.values())
    if total > MAX_IMPORT_BYTES:
        raise ValueError(
            f"its arrays need {size_text(total)} once loaded; at most "
            f"{size_text(MAX_IMPORT_BYTES)} can be imported at once"
        )
    for key, (kinds, rest) in _NPZ_LAYOUT.items():
        head = heads[key]
        want = () if rest is None else (n, *rest)
        if key == "png_data":
            want = head.shape if len(head.shape) == 1 else (-1,)
        elif key == "png_offsets":
            want = (n + 1,)
        if head.dtype.kind not in kinds or head.shape != want:
            raise ValueError(
                f"its array {key} is {head.shape} {head.dtype}, not what an mnist-knn export "
                f"holds ({'a single number' if rest is None else f'{want}'})"
            )
        if key in _MAX_TEXT_CHARS and head.dtype.itemsize // 4 > 4 * _MAX_TEXT_CHARS[key]:
            raise ValueError(f"its array {key} holds texts far too long")
    if heads["png_data"].nbytes > n * MAX_PNG_BYTES:
        raise ValueError(f"its canvas PNGs are larger than {size_text(MAX_PNG_BYTES)} each")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        version = int(npz["format_version"])
        if not 1 <= version <= EXPORT_FORMAT:
            raise ValueError(f"export format {version} is not one this mnist-knn reads")
        offsets, png_data = npz["png_offsets"].astype(np.int64), npz["png_data"]
        if offsets[0] != 0 or offsets[-1] != len(png_data) or (np.diff(offsets) < 0).any():
            raise ValueError("its png_offsets do not split png_data into one PNG per drawing")
        if n and np.diff(offsets).max() > MAX_PNG_BYTES:
            raise ValueError(f"a canvas PNG is larger than {size_text(MAX_PNG_BYTES)}")
        png_bytes = png_data.tobytes()
        items = Drawings(
            ids=np.full(n, -1, dtype=np.int64),
            uids=npz["uid"].astype(str),
            created=npz["created"].astype("datetime64[us]"),
            room=npz["room"].astype(str),
            session_id=npz["session_id"].astype(str),
            images=npz["images"],
            true_labels=npz["true_label"],
            predicted=npz["predicted_label"],
            proba=npz["proba"].astype(np.float64),
            preset=npz["preset"].astype(str),
            k=npz["k"].astype(np.int64) if npz["k"].dtype.kind == "i" else _as_int64(npz["k"]),
            png=tuple(png_bytes[offsets[i] : offsets[i + 1]] for i in range(n)),
        )
    images = items.images
    if images.size and (images.min() < 0 or images.max() > 255):
        raise ValueError(
            f"a pixel is {int(images.max()) if images.max() > 255 else int(images.min())}, "
            "not 0-255"
        )
    return _check_values(items)


def _as_int64(values: np.ndarray) -> np.ndarray:
    if values.size and values.max() > np.iinfo(np.int64).max:
        raise ValueError(f"k = {values.max()} is not in 1-{MAX_K:,}")
    return values.astype(np.int64)


def _int_field(text: str, what: str, line: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"line {line}: {what} {text[:20]!r} is not a whole number") from None
    return value


def _read_csv(data: bytes) -> Drawings:
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if header != CSV_FIELDS:
        raise ValueError("not an mnist-knn CSV export (its header differs)")
    texts: dict[str, list[str]] = {f: [] for f in (*_TEXT_FIELDS, "created_at")}
    ints: dict[str, list[int]] = {"true_label": [], "predicted_label": [], "k": []}
    numbers = []
    for number, row in enumerate(reader, start=2):
        if len(numbers) >= MAX_IMPORT_DRAWINGS:
            raise _too_many(len(numbers) + 1 + sum(1 for _ in reader))
        if len(row) != len(CSV_FIELDS):
            raise ValueError(f"line {number} has {len(row)} fields, not {len(CSV_FIELDS)}")
        for field in texts:
            value = row[CSV_FIELDS.index(field)]
            texts[field].append(value if field == "created_at" else _csv_untext(value))
        for field, values in ints.items():
            value = _int_field(row[CSV_FIELDS.index(field)], field, number)
            if abs(value) > 2**62:
                raise ValueError(f"line {number}: {field} {value:.3g} is out of range")
            values.append(value)
        try:
            numbers.append(np.array(row[8:], dtype=np.float64))
        except ValueError:
            raise ValueError(f"line {number}: a probability or pixel is not a number") from None
    n = len(numbers)
    table = np.array(numbers, dtype=np.float64).reshape(n, 794)
    pixels = table[:, 10:]
    if ((pixels < 0) | (pixels > 255) | (pixels != np.round(pixels))).any():
        raise ValueError("a pixel is not a whole number 0-255")
    try:
        created = np.array(texts["created_at"], dtype="datetime64[us]")
    except ValueError as err:
        raise ValueError(f"a date is not a date ({err})") from None
    return _check_values(
        Drawings(
            ids=np.full(n, -1, dtype=np.int64),
            uids=text_array(texts["uid"]),
            created=created.reshape(n),
            room=text_array(texts["room"]),
            session_id=text_array(texts["session_id"]),
            images=pixels.astype(np.uint8).reshape(n, 28, 28),
            true_labels=np.array(ints["true_label"], dtype=np.int64),
            predicted=np.array(ints["predicted_label"], dtype=np.int64),
            proba=table[:, :10],
            preset=text_array(texts["preset"]),
            k=np.array(ints["k"], dtype=np.int64),
            png=(b"",) * n,
        )
    )


def _read_idx_member(zf: zipfile.ZipFile, member: str, rest: tuple[int, ...]) -> np.ndarray:
    """One IDX .gz member, its header checked before the body is decompressed (streamed,
    never more than the header declares, which must be at most MAX_IMPORT_DRAWINGS)."""
    ndim = 1 + len(rest)
    with zf.open(member) as raw, gzip.GzipFile(fileobj=raw) as gz:
        head = gz.read(4 + 4 * ndim)
        if len(head) < 4 or head[:2] != b"\0\0" or head[2] != 0x08 or head[3] != ndim:
            raise ValueError(f"{member} is not an IDX file of {ndim}-d unsigned bytes")
        if len(head) != 4 + 4 * ndim:
            raise ValueError(f"{member} is truncated")
        shape = tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
        if shape[0] > MAX_IMPORT_DRAWINGS:
            raise _too_many(shape[0])
        if shape[1:] != rest:
            raise ValueError(f"{member} holds {shape}, not {('n', *rest)}")
        need = int(np.prod(shape, dtype=np.int64))
        body = gz.read(need)
        if len(body) != need:
            raise ValueError(f"{member} is truncated: {len(body)} of {need} bytes")
        if gz.read(1):
            raise ValueError(f"{member} holds more than its header declares")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape).copy()


def _read_idx_zip(data: bytes, classify: Classify | None, room: str) -> Drawings:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        images = _read_idx_member(zf, IDX_IMAGES, (28, 28))
        labels = _read_idx_member(zf, IDX_LABELS, ())
    if labels.shape != (len(images),):
        raise ValueError(f"{IDX_LABELS} does not hold one label per image")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{IDX_LABELS} holds the label {labels.max()}, not a digit 0-9")
    if classify is None:
        raise ValueError("an IDX export holds no predictions; a model must classify it")
    n = len(images)
    predicted, proba, preset, k = classify(images)
    digest = hashlib.sha256(data).hexdigest()[:20]
    now = np.datetime64(datetime.now(UTC).replace(tzinfo=None), "us")
    return _check_values(
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
