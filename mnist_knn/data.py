"""Read and write IDX files; locate, download and verify MNIST."""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .artifacts import PROJECT_ROOT, Progress, atomic_write_bytes

PROJECT_DATA_DIR = PROJECT_ROOT / "data" / "mnist"

# IDX type codes (third byte of the magic number) and the big-endian dtype they hold.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_CODES = {dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()}

# The four MNIST files: SHA-256 and size of the *decompressed* IDX content
# (see data/mnist/README.md), so a re-compressed .gz still verifies.
MNIST_FILES = {
    "train_images": (
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        47040016,
    ),
    "train_labels": (
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        60008,
    ),
    "test_images": (
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        7840016,
    ),
    "test_labels": (
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        10008,
    ),
}

# Public mirrors serving the original gzip files; MNIST_MIRRORS (space or comma
# separated base URLs) replaces this list.
DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)


class MnistNotFoundError(FileNotFoundError):
    """MNIST is neither on disk nor downloadable; the message lists where we looked."""


@dataclass(frozen=True)
class Mnist:
    """The MNIST arrays: images uint8 (n, 28, 28) with ink = 255, labels uint8 (n,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: Path
    checksum: str  # SHA-256 over the four decompressed files, in a fixed order

    @property
    def key(self) -> str:
        """The checksum: what caches know the data by, instead of its arrays."""
        return self.checksum


# --------------------------------------------------------------------------- IDX


def _open_bytes(path: Path) -> bytes:
    """Return the decompressed bytes of ``path`` (gzip when it ends in .gz)."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(
            f"{path}: not a readable {'gzip ' if path.suffix == '.gz' else ''}file "
            f"({exc}); it is truncated or corrupt"
        ) from exc


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse IDX content into a native-endian numpy array.

    Parameters
    ----------
    raw : bytes
        The decompressed IDX bytes.
    name : str
        Used in error messages (usually the file path).

    Raises
    ------
    ValueError
        If the magic number, type code, dimensions or length are wrong.
    """
    if len(raw) < 4:
        raise ValueError(f"{name}: only {len(raw)} bytes, too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{name}: bad magic number {raw[:4].hex()} (an IDX file starts with two zero bytes)"
        )
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ValueError(f"{name}: unknown IDX data type code 0x{code:02x}")
    if ndim == 0:
        raise ValueError(f"{name}: IDX header declares zero dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{name}: truncated header ({len(raw)} bytes, need {header})")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(
            f"{name}: {what}: dimensions {shape} need {expected} bytes, the file has {len(raw)}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (raw or .gz) into a numpy array.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is truncated, corrupt or not IDX; the message names the file.
    """
    path = Path(path)
    return parse_idx(_open_bytes(path), str(path))


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialise ``array`` as IDX bytes (big-endian, header + data)."""
    array = np.asarray(array)
    key = array.dtype.newbyteorder("=")
    if key not in _IDX_CODES:
        raise ValueError(f"IDX cannot hold dtype {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, _IDX_CODES[key], array.ndim])
    header += np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(_IDX_DTYPES[_IDX_CODES[key]], copy=False).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends in .gz."""
    data = idx_bytes(array)
    if Path(path).suffix == ".gz":
        data = gzip.compress(data, compresslevel=6, mtime=0)
    atomic_write_bytes(path, data)


# ------------------------------------------------------------------ locate / load


def _user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mnist-knn" / "mnist"


def candidate_dirs() -> list[Path]:
    """Where ``load_mnist`` looks, in order: $MNIST_DIR, else data/mnist/ and the user cache."""
    env = os.environ.get("MNIST_DIR")
    if env:
        return [Path(env)]
    return [PROJECT_DATA_DIR, _user_cache_dir()]


def _find_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _complete(folder: Path) -> bool:
    return all(_find_file(folder, stem) for stem, _, _ in MNIST_FILES.values())


def _mirrors() -> list[str]:
    env = os.environ.get("MNIST_MIRRORS")
    if env:
        return [m if m.endswith("/") else m + "/" for m in env.replace(",", " ").split()]
    return list(DEFAULT_MIRRORS)


class ConsoleProgress:
    """A ``progress(fraction, message)`` callback drawing a bar on stderr.

    On a terminal the bar redraws in place; in a log (CI) it prints at most one
    line every ``interval`` seconds, plus each step that completes, so logs stay short.
    """

    def __init__(self, stream=None, interval: float = 2.0):
        self.stream = stream or sys.stderr
        self.interval = interval
        self.last = -float("inf")

    def __call__(self, fraction: float, message: str) -> None:
        bar = "#" * int(fraction * 30)
        line = f"{message:<52.52} [{bar:<30}] {fraction:4.0%}"
        if self.stream.isatty():
            end = "\n" if fraction >= 1 else ""
            print(f"\r{line}", end=end, file=self.stream, flush=True)
        elif fraction >= 1 or time.monotonic() - self.last >= self.interval:
            self.last = time.monotonic()
            print(line, file=self.stream, flush=True)


def _download_one(url: str, dest: Path, sha256: str, size: int, progress: Progress) -> None:
    """Fetch ``url`` (a .gz), verify its decompressed SHA-256 and write it atomically."""
    name = dest.name
    with urllib.request.urlopen(url, timeout=30) as response:
        total = int(response.headers.get("Content-Length") or 0)
        chunks, got = [], 0
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            got += len(chunk)
            progress(min(got / total, 1.0) if total else 0.0, f"downloading {name}")
    compressed = b"".join(chunks)
    try:
        content = gzip.decompress(compressed)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ValueError(f"{url}: not a valid gzip file ({exc})") from exc
    digest = hashlib.sha256(content).hexdigest()
    if len(content) != size or digest != sha256:
        raise ValueError(
            f"{url}: checksum mismatch (got SHA-256 {digest[:12]}…, {len(content)} bytes; "
            f"expected {sha256[:12]}…, {size} bytes)"
        )
    atomic_write_bytes(dest, compressed)
    progress(1.0, f"downloaded {name}")


def download_mnist(folder: Path, progress: Progress | None = None) -> Path:
    """Download the four MNIST files into ``folder``, trying each mirror in turn.

    Every file is verified (SHA-256 of the decompressed content) before it is
    renamed into place, so a failed or corrupted download leaves nothing behind.

    Raises
    ------
    MnistNotFoundError
        If no mirror served a valid copy of every file.
    """
    progress = progress or ConsoleProgress()
    errors: list[str] = []
    for stem, sha256, size in MNIST_FILES.values():
        if _find_file(folder, stem):
            continue
        for mirror in _mirrors():
            try:
                _download_one(
                    mirror + stem + ".gz", folder / (stem + ".gz"), sha256, size, progress
                )
                break
            except urllib.error.HTTPError as exc:
                errors.append(f"{mirror}{stem}.gz: HTTP {exc.code} {exc.reason}")
            except (OSError, ValueError) as exc:  # URLError is an OSError
                errors.append(f"{mirror}{stem}.gz: {getattr(exc, 'reason', exc)}")
        else:
            raise MnistNotFoundError(
                f"could not download {stem}.gz into {folder}:\n  " + "\n  ".join(errors)
            )
    return folder


def _read_verified(path: Path, sha256: str, size: int, hasher) -> np.ndarray:
    raw = _open_bytes(path)
    hasher.update(raw)
    # A full-size file must be the real MNIST; a smaller one is a deliberate subset.
    if len(raw) == size and hashlib.sha256(raw).hexdigest() != sha256:
        raise ValueError(
            f"{path}: corrupt (SHA-256 does not match the MNIST checksum in data/mnist/README.md)"
        )
    return parse_idx(raw, str(path))


def _restore_hint(folder: Path) -> str:
    if folder.resolve() == PROJECT_DATA_DIR.resolve():
        return "restore it with `git checkout -- data/mnist`"
    return f"delete the damaged file from {folder} to download it again"


def load_mnist(*, download: bool = True, progress: Progress | None = None) -> Mnist:
    """Load MNIST as uint8 arrays.

    Looks in ``$MNIST_DIR`` if set, else in the project's data/mnist/, else in
    the user cache directory; when none holds all four files and ``download`` is
    true, downloads them (verified, atomically) into ``$MNIST_DIR`` or the cache.

    Returns
    -------
    Mnist
        ``x_train`` (n, 28, 28), ``y_train`` (n,), ``x_test``, ``y_test``, all
        uint8, the folder they came from and a checksum of their content.

    Raises
    ------
    MnistNotFoundError
        If the files are nowhere and cannot be downloaded (the message lists
        every folder and mirror tried).
    ValueError
        If a file is truncated or corrupt (the message names the file).
    """
    dirs = candidate_dirs()
    folder = next((d for d in dirs if _complete(d)), None)
    if folder is None:
        target = dirs[0] if os.environ.get("MNIST_DIR") else dirs[-1]
        looked = "\n  ".join(str(d) for d in dirs)
        if not download:
            raise MnistNotFoundError(f"MNIST not found; looked in:\n  {looked}")
        try:
            folder = download_mnist(target, progress)
        except MnistNotFoundError as exc:
            raise MnistNotFoundError(
                f"MNIST not found; looked in:\n  {looked}\nand the download failed: {exc}\n"
                "Copy the four IDX .gz files into one of those folders, or set MNIST_DIR."
            ) from None
    hasher = hashlib.sha256()
    try:
        arrays = {
            key: _read_verified(_find_file(folder, stem), sha256, size, hasher)
            for key, (stem, sha256, size) in MNIST_FILES.items()
        }
    except ValueError as exc:
        raise ValueError(f"{exc}; {_restore_hint(folder)}") from None
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise ValueError(
                f"{folder}: {split} images have shape {images.shape} {images.dtype}, "
                "expected (n, 28, 28) uint8"
            )
        if labels.shape != (len(images),):
            raise ValueError(
                f"{folder}: {len(images)} {split} images but labels of shape {labels.shape}"
            )
        if labels.size and int(labels.max()) > 9:  # uint8: never below 0
            raise ValueError(
                f"{folder}: the {split} labels hold {int(labels.max())}, not a digit 0-9; "
                "these are not MNIST's label files"
            )
    return Mnist(
        arrays["train_images"],
        arrays["train_labels"],
        arrays["test_images"],
        arrays["test_labels"],
        folder,
        hasher.hexdigest(),
    )
