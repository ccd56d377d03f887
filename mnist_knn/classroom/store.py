"""Labelled drawings collected from the app's users, in SQLite or PostgreSQL (SQLAlchemy Core).

Their export and import formats (CSV, IDX zip, npz) are in :mod:`.exchange`."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from ..data import PROJECT_ROOT
from .limits import MAX_PNG_BYTES, MAX_ROOM_DRAWINGS

# Where drawings go when neither $MNIST_KNN_STORE nor a Streamlit secret says otherwise
# (gitignored: people's drawings never end up in a commit).
DEFAULT_PATH = PROJECT_ROOT / "classroom" / "drawings.sqlite"
STORE_ENV = "MNIST_KNN_STORE"
# Delete drawings older than this many days (unset: keep them until a teacher deletes them).
RETENTION_ENV = "MNIST_KNN_RETENTION_DAYS"
# The kinds of database the store works with (SQLAlchemy backend names).
SUPPORTED = ("sqlite", "postgresql")
# Writing-direction controls: they make a room name display as another (U+202E turns
# "5B‮gpj.exe" around); removed from room names.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # Arabic letter mark, left-to-right and right-to-left marks
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
# Room names longer than this are refused (the sidebar input stops there too).
MAX_ROOM = 100
MAX_TEXT = 64  # session ids and preset names
# Version of the .npz export layout (bump when it changes; older ones stay readable).
# Any fixed number: the key of the PostgreSQL advisory lock that serialises migrations.
_MIGRATION_LOCK = 7_115_003
_SQLITE_BUSY_MS = 30_000
_PURGE_EVERY_S = 3600  # retention: old drawings are looked for at most this often


class RoomFullError(ValueError):
    """A room already holds :data:`~.limits.MAX_ROOM_DRAWINGS` drawings."""


class StoreError(RuntimeError):
    """The drawings database cannot be used; the message names it (never its password)."""


# ------------------------------------------------------------------ schema


def _drawings_table(metadata: sa.MetaData) -> sa.Table:
    """The drawings table as schema version 1 created it."""
    return sa.Table(
        "drawings",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        # Random, assigned once: an exported drawing imported twice is stored once.
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),  # UTC
        sa.Column("room", sa.String(MAX_ROOM), nullable=False, index=True),
        sa.Column("session_id", sa.String(MAX_TEXT), nullable=False),
        sa.Column("true_label", sa.SmallInteger, nullable=False),
        sa.Column("predicted_label", sa.SmallInteger, nullable=False),
        sa.Column("proba", sa.Text, nullable=False),  # JSON list of 10 floats
        sa.Column("preset", sa.String(MAX_TEXT), nullable=False),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("image", sa.LargeBinary, nullable=False),  # 784 bytes, row-major uint8
        sa.Column("canvas_png", sa.LargeBinary, nullable=True),  # the drawing as drawn
        sa.CheckConstraint("true_label BETWEEN 0 AND 9", name="true_label_digit"),
        sa.CheckConstraint("predicted_label BETWEEN 0 AND 9", name="predicted_label_digit"),
        sa.CheckConstraint("k >= 1", name="k_positive"),
    )


_metadata = sa.MetaData()
drawings = _drawings_table(_metadata)
schema_version = sa.Table(
    "schema_version", _metadata, sa.Column("version", sa.Integer, nullable=False)
)


def _v1_create_drawings(conn: Connection) -> None:
    # A migration creates what *its* version had; when a later one alters the table,
    # freeze a copy of this definition here instead of reusing _drawings_table.
    _drawings_table(sa.MetaData()).create(conn)


# Applied in order, each in the same transaction as its version bump; never edit one
# that has shipped, append a new one.
MIGRATIONS: list[Callable[[Connection], None]] = [_v1_create_drawings]


# ------------------------------------------------------------------ values


def clean_room(name: str | None) -> str:
    """A room name as stored: NFC Unicode, control characters and writing-direction
    overrides (:data:`BIDI_CONTROLS`) removed, spaces collapsed.

    Any other text (quotes, SQL, emoji, any script) is kept as it is: values only ever
    reach the database as bound parameters.

    Raises
    ------
    ValueError
        If the cleaned name is longer than :data:`MAX_ROOM` characters.
    """
    return _clean_text(name, MAX_ROOM, "room name")


def _clean_text(value: str | None, limit: int, what: str) -> str:
    text = unicodedata.normalize("NFC", str(value or ""))
    # PostgreSQL text cannot hold NUL, and lone surrogates cannot be encoded at all.
    text = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch
        for ch in text
        if unicodedata.category(ch) != "Cs" and ch not in BIDI_CONTROLS
    )
    text = " ".join(text.split())
    if len(text) > limit:
        raise ValueError(f"the {what} is {len(text)} characters long; at most {limit} fit")
    return text


def safe_url(url: str | URL) -> str:
    """``url`` for messages: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<not a database URL>"


def resolve_url(location: str | os.PathLike | None = None) -> str:
    """The SQLAlchemy URL of a store given as a URL, a file path or nothing.

    ``None`` means ``$MNIST_KNN_STORE`` when set, else the project's
    classroom/drawings.sqlite. A plain path is a SQLite file. ``postgresql://``
    URLs use psycopg 3 (the driver in requirements.txt).
    """
    location = location if location is not None else os.environ.get(STORE_ENV) or DEFAULT_PATH
    text = str(location).strip()
    if "://" not in text:
        path = Path(text).expanduser().resolve()
        return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    return text


def retention_from_env(text: str | None = None) -> float | None:
    """Days to keep drawings: ``text``, else ``$MNIST_KNN_RETENTION_DAYS`` (None: keep them all).

    Raises
    ------
    StoreError
        If it is set to something other than a positive number.
    """
    text = str(text if text is not None else os.environ.get(RETENTION_ENV, "")).strip()
    if not text:
        return None
    try:
        days = float(text)
    except ValueError:
        days = float("nan")
    if not 0 < days < 1e6:
        raise StoreError(
            f"{RETENTION_ENV}={text!r}: give the number of days to keep drawings (e.g. 30), "
            "or unset it to keep them until they are deleted"
        )
    return days


@dataclass(frozen=True)
class Drawings:
    """A set of saved drawings, one array per column (row i of each is drawing i).

    ``png`` holds each drawing's canvas PNG, or ``b""`` when there is none (or when
    it was not requested).
    """

    ids: np.ndarray  # (n,) int64, the database's row ids (-1 before saving)
    uids: np.ndarray  # (n,) str, stable across export / import
    created: np.ndarray  # (n,) datetime64[us], UTC
    room: np.ndarray  # (n,) str
    session_id: np.ndarray  # (n,) str
    images: np.ndarray  # (n, 28, 28) uint8, ink = 255
    true_labels: np.ndarray  # (n,) uint8
    predicted: np.ndarray  # (n,) uint8
    proba: np.ndarray  # (n, 10) float64
    preset: np.ndarray  # (n,) str
    k: np.ndarray  # (n,) int64
    png: tuple[bytes, ...]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def correct(self) -> np.ndarray:
        """(n,) bool: the model read the digit that was drawn."""
        return self.true_labels == self.predicted

    def subset(self, mask) -> Drawings:
        """The drawings selected by a boolean mask (or one bool), an index array or a slice."""
        rows = np.arange(len(self))
        if not isinstance(mask, slice) and np.asarray(mask).dtype == bool:
            mask = np.broadcast_to(np.asarray(mask), rows.shape)
        index = rows[mask]
        values = {f: getattr(self, f)[index] for f in self.__dataclass_fields__ if f != "png"}
        return Drawings(**values, png=tuple(self.png[i] for i in index))

    def digest(self) -> str:
        """SHA-256 over the images and true labels (what a refit learns from)."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.images, dtype=np.uint8).tobytes())
        h.update(np.ascontiguousarray(self.true_labels, dtype=np.uint8).tobytes())
        return h.hexdigest()


def empty_drawings() -> Drawings:
    return _drawings_from_rows([])


def text_array(values: Iterable[str]) -> np.ndarray:
    values = list(values)
    return np.array(values, dtype=str) if values else np.array([], dtype="<U1")


def _drawings_from_rows(rows: list, with_png: bool = False) -> Drawings:
    n = len(rows)
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    proba = np.zeros((n, 10), dtype=np.float64)
    for i, row in enumerate(rows):
        images[i] = _decode_image(row.image, row.id)
        proba[i] = _decode_proba(row.proba, row.id)
    return Drawings(
        ids=np.array([r.id for r in rows], dtype=np.int64),
        uids=text_array(r.uid for r in rows),
        created=np.array([r.created_at for r in rows], dtype="datetime64[us]"),
        room=text_array(r.room for r in rows),
        session_id=text_array(r.session_id for r in rows),
        images=images,
        true_labels=np.array([r.true_label for r in rows], dtype=np.uint8),
        predicted=np.array([r.predicted_label for r in rows], dtype=np.uint8),
        proba=proba,
        preset=text_array(r.preset for r in rows),
        k=np.array([r.k for r in rows], dtype=np.int64),
        png=tuple(bytes(r.canvas_png or b"") if with_png else b"" for r in rows),
    )


def _decode_image(raw: bytes, row_id) -> np.ndarray:
    if raw is None or len(raw) != 28 * 28:
        raise StoreError(f"drawing {row_id}: its image is damaged ({len(raw or b'')} bytes)")
    return np.frombuffer(bytes(raw), dtype=np.uint8).reshape(28, 28)


def _decode_proba(text: str, row_id) -> np.ndarray:
    try:
        values = np.array(json.loads(text), dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise StoreError(f"drawing {row_id}: its probabilities are damaged ({err})") from None
    if values.shape != (10,):
        raise StoreError(f"drawing {row_id}: {values.size} probabilities instead of 10")
    return values


def _check_digit(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= value <= 9:
        raise ValueError(f"{what} must be a digit 0-9, got {value!r}")
    return int(value)


def _row_values(
    image,
    true_label,
    predicted,
    proba,
    preset,
    k,
    room="",
    session_id="",
    canvas_png=None,
    created=None,
    uid=None,
) -> dict:
    """Validated column values for one drawing (raises ValueError for people)."""
    image = np.asarray(image)
    if image.shape != (28, 28):
        raise ValueError(f"a drawing is a 28x28 image, got shape {image.shape}")
    if image.dtype != np.uint8:
        if not np.issubdtype(image.dtype, np.integer) or image.min() < 0 or image.max() > 255:
            raise ValueError(f"a drawing holds uint8 pixels 0-255, got {image.dtype}")
        image = image.astype(np.uint8)
    proba = np.asarray(proba, dtype=np.float64).reshape(-1)
    if proba.shape != (10,) or not np.isfinite(proba).all():
        raise ValueError(f"probabilities must be 10 finite numbers, got {proba.shape}")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    preset = _clean_text(preset, MAX_TEXT, "preset name")
    if not preset:
        raise ValueError("the preset name is empty")
    if canvas_png and len(canvas_png) > MAX_PNG_BYTES:
        raise ValueError(
            f"the drawing's picture is {len(canvas_png):,} bytes; at most "
            f"{MAX_PNG_BYTES:,} are kept with a drawing"
        )
    if created is None:
        created = datetime.now(UTC)
    if isinstance(created, np.datetime64):
        created = created.astype("datetime64[us]").item()
    if created.tzinfo is not None:
        created = created.astimezone(UTC).replace(tzinfo=None)
    return {
        "uid": _clean_text(uid, 32, "uid") or uuid.uuid4().hex,
        "created_at": created,
        "room": clean_room(room),
        "session_id": _clean_text(session_id, MAX_TEXT, "session id"),
        "true_label": _check_digit(true_label, "the true label"),
        "predicted_label": _check_digit(predicted, "the predicted label"),
        "proba": json.dumps([float(p) for p in proba]),
        "preset": preset,
        "k": k,
        "image": np.ascontiguousarray(image).tobytes(),
        "canvas_png": bytes(canvas_png) if canvas_png else None,
    }


# ------------------------------------------------------------------ the store


class DrawingStore:
    """The labelled drawings, in the database at ``url`` (see :func:`resolve_url`).

    One code path for SQLite and PostgreSQL: SQLAlchemy Core statements with bound
    parameters only. SQLite files run in WAL mode with a busy timeout, and writes take
    the write lock when they begin (``BEGIN IMMEDIATE``), so concurrent writers queue
    instead of failing. Opening a store creates or migrates its schema.

    Raises
    ------
    StoreError
        If the database cannot be reached, is not ours or is newer than this code.
    """

    def __init__(
        self,
        url: str | os.PathLike | None = None,
        *,
        max_per_room: int = MAX_ROOM_DRAWINGS,
        retention_days: float | str | None = None,
    ):
        self.url = resolve_url(url)
        self.safe_url = safe_url(self.url)
        self.max_per_room = int(max_per_room)
        self.retention_days = (
            retention_from_env(retention_days)
            if retention_days is None or isinstance(retention_days, str)
            else float(retention_days)
        )
        self._file_id: tuple[int, int] | None = None
        self._purged_at = float("-inf")
        self.engine = self._make_engine()
        with self._errors("open"):
            self._migrate()
        self._file_id = self._current_file_id()
        self.purge_expired()

    # -------------------------------------------------------------- plumbing

    def _make_engine(self) -> Engine:
        try:
            url = make_url(self.url)
        except exc.ArgumentError:
            raise StoreError(
                f"{self.url!r} is neither a database URL nor a file path; set {STORE_ENV} to "
                "a path such as classroom/drawings.sqlite or a URL such as "
                "postgresql://user:password@host/dbname"
            ) from None
        self.dialect = url.get_backend_name()
        if self.dialect not in SUPPORTED:
            raise StoreError(
                f"{self.safe_url}: a {self.dialect} database is not supported; the drawings "
                "store works with a SQLite file (a path such as classroom/drawings.sqlite) or "
                f"PostgreSQL (postgresql://user:password@host/dbname). Set {STORE_ENV} to one."
            )
        self.sqlite_path = Path(url.database) if self.dialect == "sqlite" and url.database else None
        try:
            if self.dialect != "sqlite":
                # Replicas outlive database restarts: test pooled connections before use.
                return sa.create_engine(url, pool_pre_ping=True)
            if not url.database or url.database == ":memory:":
                raise StoreError("the drawings store needs a SQLite *file*, not :memory:")
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url)
        except (exc.NoSuchModuleError, ImportError) as err:
            raise StoreError(
                f"no database driver for {self.safe_url} ({err}); "
                "install the requirements (pip install -r requirements.txt)"
            ) from None
        except OSError as err:
            raise StoreError(f"cannot create the folder of {self.safe_url}: {err}") from None
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine

    @contextlib.contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn database failures into a StoreError naming the store and what to do.

        First checks that a SQLite file is still the one opened: deleted or replaced
        under a running app, it would take saves into a file nobody will see again.
        """
        self._check_file(action)
        try:
            yield
        except exc.SQLAlchemyError as err:
            reason = str(getattr(err, "orig", None) or err).strip().splitlines()
            reason = reason[0] if reason else type(err).__name__
            hint = (
                "Check that the PostgreSQL server is running and the URL is right"
                if self.dialect != "sqlite"
                else "Check that the file's folder is writable and the file is not damaged"
            )
            raise StoreError(
                f"cannot {action} the drawings database {self.safe_url}: {reason}. "
                f"{hint}, or point {STORE_ENV} elsewhere."
            ) from None

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        """A connection in a write transaction (committed on success)."""
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_write=True)
            with conn.begin():
                yield conn

    def _current_file_id(self) -> tuple[int, int] | None:
        if self.sqlite_path is None:
            return None
        try:
            st = self.sqlite_path.stat()
        except FileNotFoundError:
            return None
        return st.st_dev, st.st_ino

    def _check_file(self, action: str) -> None:
        if self._file_id is None:
            return
        now = self._current_file_id()
        if now != self._file_id:
            what = "deleted" if now is None else "replaced by another file"
            raise StoreError(
                f"cannot {action} the drawings database {self.safe_url}: the file was {what} "
                "while the app was running, so nothing was saved or read. Restore the file "
                "(or keep the new one) and restart the app."
            )

    def _migrate(self) -> None:
        with self._write() as conn:
            if self.dialect == "postgresql":
                # Replicas starting together: one migrates, the others wait and then see it.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            schema_version.create(conn, checkfirst=True)
            version = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
            if version is None:
                if sa.inspect(conn).has_table("drawings"):
                    raise StoreError(
                        f"{self.safe_url} has a drawings table but no schema version: "
                        "it was not made by mnist-knn; choose another database"
                    )
                version = 0
                conn.execute(schema_version.insert(), {"version": 0})
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.safe_url} has schema version {version}, newer than this "
                    f"mnist-knn knows ({len(MIGRATIONS)}); update mnist-knn"
                )
            for migration in MIGRATIONS[version:]:
                migration(conn)
            if version < len(MIGRATIONS):
                conn.execute(schema_version.update().values(version=len(MIGRATIONS)))
        self.version = len(MIGRATIONS)

    def close(self) -> None:
        """Close the pooled connections."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"DrawingStore({self.safe_url!r})"

    # -------------------------------------------------------------- writing

    def save(
        self,
        image,
        *,
        true_label: int,
        predicted: int,
        proba,
        preset: str,
        k: int,
        room: str = "",
        session_id: str = "",
        canvas_png: bytes | None = None,
        created: datetime | None = None,
    ) -> int:
        """Save one labelled drawing; return its id.

        Parameters
        ----------
        image : array (28, 28) uint8
            The MNIST-style image the model saw (ink = 255).
        true_label, predicted : int
            The digit the person drew, and the one the model read.
        proba : array of 10 floats
            The model's probabilities.
        preset, k : str, int
            The model that made the prediction.
        room : str
            The class or room name (any text up to :data:`MAX_ROOM` characters).
        session_id : str
            An anonymous id of the browser session.
        canvas_png : bytes, optional
            The drawing as drawn (the canvas as a PNG).
        created : datetime, optional
            When it was drawn (default: now); stored in UTC.

        Raises
        ------
        ValueError
            If a value is malformed (shape, range, length).
        StoreError
            If the database cannot be written.
        """
        values = _row_values(
            image, true_label, predicted, proba, preset, k, room, session_id, canvas_png, created
        )
        self.purge_expired()
        with self._errors("save to"), self._write() as conn:
            self._check_room_space(conn, {values["room"]: 1})
            return int(conn.execute(drawings.insert(), values).inserted_primary_key[0])

    def _check_room_space(self, conn: Connection, adding: dict[str, int]) -> None:
        """Refuse (RoomFullError) when a room would exceed :attr:`max_per_room`."""
        for room, n in adding.items():
            query = sa.select(sa.func.count()).select_from(drawings)
            have = int(conn.execute(query.where(drawings.c.room == room)).scalar())
            if have + n > self.max_per_room:
                label = f"room “{room}”" if room else "the drawings without a room"
                raise RoomFullError(
                    f"{label} holds {have:,} drawings; adding {n:,} would pass the "
                    f"{self.max_per_room:,} one room keeps. Export and delete old drawings "
                    "first, or use another room name."
                )

    def purge_expired(self) -> int:
        """Delete the drawings older than :attr:`retention_days` (when set); return how many.

        Runs when the store opens and, at most hourly, before a save.
        """
        if not self.retention_days or time.monotonic() - self._purged_at < _PURGE_EVERY_S:
            return 0
        cutoff = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=self.retention_days)
        with self._errors("delete old drawings from"), self._write() as conn:
            n = conn.execute(drawings.delete().where(drawings.c.created_at < cutoff)).rowcount
        self._purged_at = time.monotonic()
        return n

    def add(self, items: Drawings) -> tuple[int, int]:
        """Insert a set of drawings (an import); return (added, already there).

        A drawing whose uid is already stored is skipped, so importing the same
        export twice stores it once. All or nothing: one transaction.

        Raises
        ------
        RoomFullError
            If a room would hold more than :attr:`max_per_room` drawings (nothing added).
        """
        rows = [
            _row_values(
                items.images[i],
                int(items.true_labels[i]),
                int(items.predicted[i]),
                items.proba[i],
                str(items.preset[i]),
                int(items.k[i]),
                str(items.room[i]),
                str(items.session_id[i]),
                items.png[i] or None,
                items.created[i],
                str(items.uids[i]),
            )
            for i in range(len(items))
        ]
        with self._errors("import into"), self._write() as conn:
            existing: set[str] = set()
            uids = [row["uid"] for row in rows]
            for start in range(0, len(uids), 500):
                chunk = uids[start : start + 500]
                existing.update(
                    conn.execute(sa.select(drawings.c.uid).where(drawings.c.uid.in_(chunk)))
                    .scalars()
                    .all()
                )
            new, seen = [], set(existing)
            for row in rows:
                if row["uid"] not in seen:
                    seen.add(row["uid"])
                    new.append(row)
            per_room: dict[str, int] = {}
            for row in new:
                per_room[row["room"]] = per_room.get(row["room"], 0) + 1
            self._check_room_space(conn, per_room)
            if new:
                conn.execute(drawings.insert(), new)
        return len(new), len(rows) - len(new)

    def set_true_label(self, drawing_id: int, true_label: int) -> bool:
        """Correct the true digit of one drawing; False if there is no such drawing."""
        label = _check_digit(true_label, "the true label")
        with self._errors("update"), self._write() as conn:
            result = conn.execute(
                drawings.update().where(drawings.c.id == int(drawing_id)).values(true_label=label)
            )
        return result.rowcount == 1

    def delete(self, ids: Iterable[int]) -> int:
        """Delete the drawings with these ids; return how many there were."""
        ids = [int(i) for i in ids]
        deleted = 0
        with self._errors("delete from"), self._write() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                deleted += conn.execute(drawings.delete().where(drawings.c.id.in_(chunk))).rowcount
        return deleted

    def delete_room(self, room: str) -> int:
        """Delete every drawing of ``room``; return how many there were."""
        with self._errors("delete from"), self._write() as conn:
            return conn.execute(
                drawings.delete().where(drawings.c.room == clean_room(room))
            ).rowcount

    # -------------------------------------------------------------- reading

    def count(self) -> int:
        with self._errors("read"), self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(drawings)).scalar())

    def rooms(self) -> dict[str, int]:
        """Room name -> number of drawings, in name order ("" is the drawings without room)."""
        query = (
            sa.select(drawings.c.room, sa.func.count())
            .group_by(drawings.c.room)
            .order_by(drawings.c.room)
        )
        with self._errors("read"), self.engine.connect() as conn:
            return {room: int(n) for room, n in conn.execute(query)}

    def query(
        self,
        room: str | None = None,
        true_label: int | None = None,
        predicted: int | None = None,
        *,
        ids: Iterable[int] | None = None,
        with_png: bool = False,
    ) -> Drawings:
        """The drawings matching every given filter, oldest first.

        ``room=None`` means every room; ``""`` the drawings saved without one.
        """
        columns = [c for c in drawings.c if with_png or c.name != "canvas_png"]
        stmt = sa.select(*columns).order_by(drawings.c.id)
        if room is not None:
            stmt = stmt.where(drawings.c.room == clean_room(room))
        if true_label is not None:
            stmt = stmt.where(drawings.c.true_label == _check_digit(true_label, "true_label"))
        if predicted is not None:
            stmt = stmt.where(drawings.c.predicted_label == _check_digit(predicted, "predicted"))
        if ids is not None:
            stmt = stmt.where(drawings.c.id.in_([int(i) for i in ids]))
        with self._errors("read"), self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return _drawings_from_rows(rows, with_png)

    def canvas_png(self, drawing_id: int) -> bytes | None:
        """The canvas PNG of one drawing (None if it has none or does not exist)."""
        stmt = sa.select(drawings.c.canvas_png).where(drawings.c.id == int(drawing_id))
        with self._errors("read"), self.engine.connect() as conn:
            value = conn.execute(stmt).scalar()
        return bytes(value) if value else None


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    # pysqlite would BEGIN (deferred) by itself on the first write; let _sqlite_on_begin do it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")  # WAL's usual pairing: durable at checkpoints
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # A write transaction takes the write lock up front: a deferred one that read first
    # could not upgrade while another writer holds it, and would fail instead of waiting.
    write = conn.get_execution_options().get("sqlite_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
