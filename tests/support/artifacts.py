"""Helpers for the models/ artifact tests."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mnist_knn.artifacts import read_npz


def age_versions(path) -> None:
    """Rewrite the .npz artifact at ``path`` as if built with another scikit-learn."""
    meta, arrays = read_npz(path)
    meta["versions"]["scikit-learn"] = "0.0"
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)


def assert_stale_then_unreadable(path, problem, read) -> None:
    """``path`` aged to another scikit-learn, then overwritten with garbage, is refused both
    times: ``problem()`` names why, and ``read()`` raises rather than loading it."""
    age_versions(path)
    assert problem() == "stale (versions changed)"
    with pytest.raises(ValueError, match="stale"):
        read()
    path.write_bytes(b"garbage")
    assert "unreadable" in problem()
