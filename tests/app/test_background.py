"""The server's background builds: the digit map, the tuning and the comparison at start."""

from __future__ import annotations

import threading

from streamlit.testing.v1 import AppTest

from mnist_knn.evaluation.compare import comparison_problem
from mnist_knn.evaluation.digit_map import map_problem
from mnist_knn.evaluation.tuning import tuning_path
from mnist_knn.model import DEFAULT_PRESET


def start_script():
    import streamlit as st

    from mnist_knn import ui

    builds = ui.start_background_builds()
    st.write(sorted(builds))


def test_the_server_builds_the_slow_artifacts_in_the_background(models_dir, monkeypatch):
    monkeypatch.setenv("MNIST_KNN_BACKGROUND", "1")
    from mnist_knn import ui

    ui.start_background_builds.clear()  # an earlier test's server (builds off) cached {}
    at = AppTest.from_function(start_script, default_timeout=60).run()
    assert not at.exception
    for thread in threading.enumerate():
        if thread.name == "mnist-knn-builds":
            thread.join(timeout=600)
    from mnist_knn import ui
    from mnist_knn.data import load_mnist

    builds = ui.start_background_builds()
    assert {name: b.state for name, b in builds.items()} == {
        "digit map": "done",
        "tuning": "done",
        "comparison": "done",
    }
    assert all(b.fraction == 1.0 for b in builds.values())
    data = load_mnist()
    assert map_problem(data) is None and comparison_problem(data) is None
    assert tuning_path(DEFAULT_PRESET).exists()
    ui.start_background_builds.clear()


def test_no_background_builds_when_switched_off(monkeypatch):
    from mnist_knn import ui

    ui.start_background_builds.clear()
    monkeypatch.setenv("MNIST_KNN_BACKGROUND", "0")
    assert ui.start_background_builds() == {}
    assert ui.wait_for_background("digit map") is None
    ui.start_background_builds.clear()
