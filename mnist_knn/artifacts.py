"""Everything the project keeps in models/: one way to write, read, check and rebuild it.

An artifact is one .npz file (arrays, plus a JSON record under the key ``meta``),
read without pickle. Its :class:`Recipe` says what it must have been built from:
its kind and format, the configuration, the data's checksum and the library
versions. A file whose record differs is *stale*; a missing, stale or damaged
file is rebuilt by :func:`load_or_build`, under a lock so that two processes
starting together build it once. Every write goes through a temp file and a
rename: a crash leaves the old file or nothing, never half a file.

The kinds of artifact (the fitted models, the k tuning, the digit map, the model
comparison) each describe their arrays in their own module and use this one
for everything else.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import scipy
import sklearn

try:  # POSIX advisory locks; elsewhere two simultaneous first starts just both build.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# ``progress(fraction, message)``: how long builds report how far they are.
Progress = Callable[[float, str], None]
T = TypeVar("T")


class StaleArtifactWarning(UserWarning):
    """A models/ artifact was missing, stale or corrupt and is being rebuilt."""


class ArtifactError(ValueError):
    """A file in models/ that cannot be used: "<filename> is <reason>".

    ``reason`` starts with "unreadable", "incomplete", "stale" or "missing", then says why.
    """

    def __init__(self, filename: str, reason: str):
        super().__init__(f"{filename} is {reason}")
        self.filename = filename
        self.reason = reason


def no_progress(fraction: float, message: str) -> None:
    """A :data:`Progress` that reports nothing."""


def models_dir() -> Path:
    """The artifacts folder: $MNIST_KNN_MODELS_DIR or the project's models/."""
    return Path(os.environ.get("MNIST_KNN_MODELS_DIR") or PROJECT_ROOT / "models")


def library_versions() -> dict:
    """The versions of what computes the artifacts (another version makes them stale)."""
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


# ------------------------------------------------------------------ files


def atomic_write(path: str | os.PathLike, write: Callable) -> None:
    """Call ``write(file)`` on a temp file in ``path``'s folder, then rename it into place.

    A crash or an exception leaves the old file (or nothing) behind, never half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and a rename."""
    atomic_write(path, lambda fh: fh.write(data))


def write_npz(path: str | os.PathLike, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and the JSON record ``meta`` as one .npz, atomically."""
    arrays = dict(arrays, meta=np.array(json.dumps(meta)))
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


@dataclass(frozen=True)
class NpyHeader:
    """What one array of an .npz declares in its .npy header, before any of it is read."""

    shape: tuple[int, ...]
    dtype: np.dtype
    stored_bytes: int  # the member's uncompressed size, as its zip entry declares it

    @property
    def nbytes(self) -> int:
        """The bytes the array needs once loaded (Python ints: no overflow)."""
        count = 1
        for side in self.shape:
            count *= side
        return count * self.dtype.itemsize


# A deflated .npy member claiming more than this many times its compressed size is a
# bomb: deflate itself cannot exceed ~1032x.
_MAX_DEFLATE_RATIO = 1100


def _human(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)  # pragma: no cover


def npz_headers(source, max_bytes: int | None = None) -> dict[str, NpyHeader]:
    """The shape and dtype of every array of an .npz, read from the headers only.

    ``source`` is a path, a file object or bytes. Nothing is decompressed beyond
    each member's few-hundred-byte .npy header, so a file declaring huge arrays
    costs nothing to refuse. Each declared size must fit in its zip member (and a
    deflated member in a plausible compression ratio); with ``max_bytes``, the
    arrays together must need at most that much memory.

    Raises
    ------
    FileNotFoundError
        If ``source`` is a path that does not exist.
    ValueError
        If the file is no .npz, holds objects (pickles) or declares too much; the
        message says which array.
    """
    if isinstance(source, bytes | bytearray):
        source = io.BytesIO(source)
    headers: dict[str, NpyHeader] = {}
    total = 0
    try:
        with zipfile.ZipFile(source) as zf:
            for info in zf.infolist():
                name = info.filename.removesuffix(".npy")
                if info.filename == name:
                    raise ValueError(f"{info.filename} is not a .npy array")
                if (
                    info.compress_type != zipfile.ZIP_STORED
                    and info.file_size > _MAX_DEFLATE_RATIO * max(info.compress_size, 1)
                ):
                    raise ValueError(f"array {name} claims an impossible compression ratio")
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
                    elif version in ((2, 0), (3, 0)):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
                    else:
                        raise ValueError(f"array {name}: unknown .npy version {version}")
                    header_size = fh.tell()
                if dtype.hasobject:
                    raise ValueError(f"array {name} holds Python objects (pickles are refused)")
                head = NpyHeader(tuple(int(s) for s in shape), dtype, info.file_size)
                if head.nbytes > info.file_size - header_size:
                    raise ValueError(
                        f"array {name} declares {head.shape} {dtype} "
                        f"({_human(head.nbytes)}) but its entry holds "
                        f"{_human(max(info.file_size - header_size, 0))}"
                    )
                total += head.nbytes
                headers[name] = head
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"not a readable .npz ({exc or type(exc).__name__})") from None
    if max_bytes is not None and total > max_bytes:
        raise ValueError(
            f"its arrays need {_human(total)}, more than the {_human(max_bytes)} allowed"
        )
    return headers


# read_meta's last answer per file, with the file's identity when it was read: every page
# view checks its model is fresh, and parsing the zip each time was 12% of a busy server's
# CPU (30 sessions drawing, profiled). A file written, replaced or truncated since (new
# inode, size or times) is read again.
_META_SEEN: dict[str, tuple[tuple, str]] = {}


def _identity(path: str | os.PathLike) -> tuple:
    st = os.stat(path)
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def read_meta(path: str | os.PathLike) -> object:
    """Only the JSON record of an .npz artifact (cheap: the arrays are not read, and an
    unchanged file is not read again).

    Raises as :func:`read_npz` does.
    """
    key = os.fspath(path)
    try:
        identity = _identity(path)
    except FileNotFoundError:
        raise
    except OSError:
        return _read(path, arrays=False)[0]  # which says what is wrong with it
    seen = _META_SEEN.get(key)
    if seen is not None and seen[0] == identity:
        return json.loads(seen[1])  # a fresh copy: callers may change theirs
    meta = _read(path, arrays=False)[0]
    _META_SEEN[key] = (identity, json.dumps(meta))
    return meta


def read_npz(path: str | os.PathLike) -> tuple[object, dict[str, np.ndarray]]:
    """The JSON ``meta`` entry and every array of an .npz artifact, read without pickle.

    Raises
    ------
    FileNotFoundError
        If there is no file.
    ValueError
        ``"<name> is unreadable (…)"`` if it is truncated, corrupt or not such an artifact.
    """
    return _read(path, arrays=True)


def _read(path, arrays: bool) -> tuple[object, dict[str, np.ndarray]]:
    try:
        npz_headers(path)  # declared sizes checked before anything is allocated
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            return meta, {key: npz[key] for key in npz.files if arrays and key != "meta"}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ArtifactError(Path(path).name, f"unreadable ({exc})") from exc


def mtime(path: str | os.PathLike) -> int:
    """The file's modification time in ns, 0 when it does not exist (a cache key)."""
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return 0


# ------------------------------------------------------------------ recipes


@dataclass(frozen=True)
class Recipe:
    """What one file in models/ must have been built from; hashable, so usable as a cache key.

    Parameters
    ----------
    filename : str
        The file's name in :func:`models_dir`, e.g. ``"default.npz"``.
    kind : str
        What it holds, for people ("model", "tuning", "digit map", "comparison").
    format : int
        The layout version of this kind; bump it when the arrays or a field's meaning change.
    config : str
        Canonical JSON of the settings it was built with (``"null"``: any settings).
    data_checksum : str
        The checksum of the MNIST files it was computed from.
    extra_versions : tuple of (str, str)
        Versions of libraries beyond :func:`library_versions` that shaped it.
    """

    filename: str
    kind: str
    format: int
    config: str = "null"
    data_checksum: str = ""
    extra_versions: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def make(cls, filename: str, kind: str, format: int, config, data_checksum: str, **versions):
        """A recipe from a plain ``config`` (any JSON value) and extra library ``versions``."""
        return cls(
            filename,
            kind,
            format,
            json.dumps(config, sort_keys=True),
            data_checksum,
            tuple(sorted(versions.items())),
        )

    @property
    def path(self) -> Path:
        """Where the file lives (models/ as it is configured now)."""
        return models_dir() / self.filename

    def record(self) -> dict:
        """The fields a fresh file's ``meta`` must hold, as :meth:`save` writes them."""
        record = {
            "kind": self.kind,
            "format": self.format,
            "data_checksum": self.data_checksum,
            "versions": library_versions() | dict(self.extra_versions),
        }
        config = json.loads(self.config)
        return record if config is None else record | {"config": config}

    def stale_reason(self, meta) -> str | None:
        """``"stale (<field> changed)"`` for the first record field ``meta`` disagrees on."""
        for key, want in self.record().items():
            if not isinstance(meta, dict) or meta.get(key) != want:
                return f"stale ({key} changed)"
        return None

    def problem(self) -> str | None:
        """Why the file cannot be used as it is (None when it looks fresh).

        Reads only the record, so it is cheap enough for every page view; damage
        inside the arrays is caught when they are read.
        """
        try:
            meta = read_meta(self.path)
        except FileNotFoundError:
            return "not built yet"
        except ArtifactError as exc:
            return exc.reason
        return self.stale_reason(meta)

    def read(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The file's record and arrays, refusing a stale one.

        Raises
        ------
        FileNotFoundError
            If there is no file.
        ArtifactError
            ``"<name> is unreadable (…)"`` or ``"<name> is stale (…)"``.
        """
        meta, arrays = read_npz(self.path)
        if reason := self.stale_reason(meta):
            raise ArtifactError(self.filename, f"{reason}")
        return meta, arrays

    def save(self, arrays: dict[str, np.ndarray], meta: dict | None = None, **facts) -> dict:
        """Write ``arrays`` with ``meta`` and ``facts`` (timings…) under this recipe's record.

        Returns the record written (the recipe's fields win over ``meta``'s).
        """
        meta = (meta or {}) | facts | self.record()
        write_npz(self.path, meta, arrays)
        return meta

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the file's build lock (models/<name>.lock) for the block."""
        path = self.path.with_suffix(".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as fh:
            if fcntl:
                fcntl.flock(fh, fcntl.LOCK_EX)
            yield


def load_or_build(
    recipe: Recipe,
    read: Callable[[], T],
    build: Callable[[], T],
    *,
    rebuild: bool = False,
    warn: bool = True,
) -> T:
    """``read()`` the artifact of ``recipe``; if it is missing, stale or damaged, ``build()`` it.

    ``read`` raises FileNotFoundError or ValueError (with the reason) when it cannot
    use the file; ``build`` makes the artifact and saves it. A rebuild is announced
    with a :class:`StaleArtifactWarning` (unless ``warn`` is false). Two processes
    starting together build once: the second waits on the lock, then reads.
    """
    with recipe.lock():
        if not rebuild:
            try:
                return read()
            except FileNotFoundError:
                reason = "not built yet"
            except ValueError as exc:
                reason = str(exc)
            if warn:
                warnings.warn(
                    f"models/{recipe.filename} {reason}: rebuilding it",
                    StaleArtifactWarning,
                    stacklevel=3,
                )
        return build()
