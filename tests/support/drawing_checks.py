"""Assertions shared by the classroom tests."""

from __future__ import annotations

import numpy as np

from mnist_knn.classroom.store import Drawings


def assert_same_drawings(a: Drawings, b: Drawings, png: bool = True) -> None:
    """Every column equal (ids aside: the database assigns them)."""
    assert len(a) == len(b)
    for field in ("uids", "room", "session_id", "preset"):
        assert list(getattr(a, field)) == list(getattr(b, field)), field
    for field in ("created", "images", "true_labels", "predicted", "proba", "k"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    if png:
        assert a.png == b.png
