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


def save_random(store, rooms: list[str], **extra) -> None:
    """Save one random 28x28 drawing per entry of ``rooms`` (labels 0, 1, 2, …, read right).

    ``extra`` values that are callables get the drawing's index (e.g. a session id each).
    """
    rng = np.random.default_rng(0)
    for i, room in enumerate(rooms):
        store.save(
            rng.integers(0, 256, (28, 28), dtype=np.uint8),
            true_label=i,
            predicted=i,
            proba=np.eye(10)[i],
            preset="default",
            k=4,
            room=room,
            **{key: value(i) if callable(value) else value for key, value in extra.items()},
        )
