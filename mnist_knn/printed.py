"""Progress from what scikit-learn prints: TSNE and Pipeline have no progress callback,
but with ``verbose`` they print a line per stage. :func:`printed_lines` hands those lines
to a function while a build runs."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator


class _Lines:
    """Stands in for ``sys.stdout``: a line printed by the building thread that ``claim``
    returns True for is taken (not printed); everything else, and everything printed by
    other threads (a server's sessions), goes to the real stdout unchanged."""

    def __init__(self, stream, claim: Callable[[str], bool]) -> None:
        self.stream, self.claim = stream, claim
        self.thread = threading.get_ident()
        self.taken = False  # print() writes its line, then the newline on its own

    def write(self, text: str) -> int:
        ours = threading.get_ident() == self.thread
        if ours and self.taken and text == "\n":
            self.taken = False
            return len(text)
        if ours and self.claim(text):
            self.taken = not text.endswith("\n")
            return len(text)
        return self.stream.write(text)

    def __getattr__(self, name):  # flush, isatty, encoding, ... of the real stream
        return getattr(self.stream, name)


@contextlib.contextmanager
def printed_lines(claim: Callable[[str], bool]) -> Iterator[None]:
    """While inside, each line printed by this thread goes to ``claim(line)`` first; a line
    it returns True for is not printed."""
    lines = _Lines(sys.stdout, claim)
    sys.stdout = lines
    try:
        yield
    finally:
        if sys.stdout is lines:
            sys.stdout = lines.stream
        else:  # something replaced stdout after us: keep it, and pass everything on
            lines.thread = None
