"""Every bound of classroom mode in one place: what one import, one room and one refit may hold.

A classroom server has a few GB of memory and serves 30 pupils at once; these keep
any one file, and any one room, to a small fraction of that. Each is checked
*before* the work it bounds (from a file's headers, from the database's counts),
and a refusal says which bound and what to do.
"""

from __future__ import annotations

# Drawings one import may hold (a class of 30 drawing every digit 15 times is 4,500).
MAX_IMPORT_DRAWINGS = 5_000
# Drawings one room may hold; saving or importing beyond it is refused.
MAX_ROOM_DRAWINGS = 20_000
# Drawings "Use them" adds to the training set at most (one room's worth).
MAX_USE_DRAWINGS = MAX_ROOM_DRAWINGS
# Bytes of an export file to import, and of what its members decompress to in all.
MAX_IMPORT_FILE_BYTES = 64 * 1024 * 1024
MAX_IMPORT_BYTES = 64 * 1024 * 1024
# Members a zip (npz or IDX export) may have: an npz export has 13, an IDX export 3.
MAX_ZIP_MEMBERS = 32
# A canvas PNG kept with a drawing (the 280x280 canvas is ~5-30 KB).
MAX_PNG_BYTES = 512 * 1024
# The largest k an imported drawing may say it was read with.
MAX_K = 10_000


def size_text(n: int) -> str:
    """``n`` bytes for people: "12.3 MB"."""
    return f"{n / 1_000_000:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"
