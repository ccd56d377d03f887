"""Streamlit glue: cached loaders and widgets shared by the pages (the only Streamlit import)."""

from __future__ import annotations

import warnings

import numpy as np
import streamlit as st

from .data import Mnist, MnistNotFoundError, load_mnist
from .model import (
    DEFAULT_PRESET,
    PRESETS,
    Artifact,
    StaleArtifactWarning,
    artifact_problem,
    load_artifact,
)
from .tuning import Tuning, load_tuning, tuning_path

PRESET_KEY = "preset"


@st.cache_resource(show_spinner="Loading MNIST…")
def get_data() -> Mnist:
    """MNIST, read once per server process and shared by every session."""
    return load_mnist()


@st.cache_resource(show_spinner=False)
def _cached_artifact(preset: str) -> Artifact:
    with warnings.catch_warnings():
        # get_artifact has already built it with visible progress when it was needed.
        warnings.simplefilter("ignore", StaleArtifactWarning)
        return load_artifact(preset, data=get_data())


def get_artifact(preset: str | None = None) -> Artifact:
    """The fitted model and test evaluation of ``preset``, shared by all sessions.

    When models/ lacks a usable artifact, it is built here inside an
    ``st.status`` with a progress bar, so a first start never looks frozen.
    Stops the page with a readable message when MNIST cannot be found.
    """
    preset = preset or current_preset()
    try:
        data = get_data()
    except (MnistNotFoundError, ValueError) as exc:
        st.error(f"MNIST could not be loaded.\n\n{exc}")
        st.stop()
    problem = artifact_problem(preset, data)
    if problem:
        with st.status(f"Building the **{preset}** model ({problem})…", expanded=True) as status:
            bar = st.progress(0.0, text="starting")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", StaleArtifactWarning)
                artifact = load_artifact(
                    preset, data=data, progress=lambda f, msg: bar.progress(min(f, 1.0), text=msg)
                )
            status.update(
                label=f"Built the {preset} model in {artifact.meta['build_seconds']:.0f} s",
                state="complete",
                expanded=False,
            )
        _cached_artifact.clear()
    return _cached_artifact(preset)


@st.cache_resource(show_spinner=False)
def _cached_tuning(preset: str, stamp: int) -> Tuning | None:
    return load_tuning(preset, data=get_data(), build=False)


def get_tuning(preset: str | None = None) -> Tuning | None:
    """The k-tuning cross-validation of ``preset`` from models/, or None if missing or stale.

    Keyed on the file's modification time, so a ``python -m mnist_knn tune``
    run while the app is up is picked up on the next page view.
    """
    preset = preset or current_preset()
    try:
        stamp = tuning_path(preset).stat().st_mtime_ns
    except OSError:
        stamp = 0
    return _cached_tuning(preset, stamp)


def run_tuning(preset: str) -> Tuning:
    """Cross-validate ``preset`` now, inside an ``st.status`` with a progress bar.

    If another session is already computing it, waits for that result instead.
    """
    with st.status(f"Cross-validating the **{preset}** preset…", expanded=True) as status:
        bar = st.progress(0.0, text="starting")
        tuning = load_tuning(
            preset,
            data=get_data(),
            progress=lambda f, msg: bar.progress(min(f, 1.0), text=msg),
        )
        status.update(
            label=f"Cross-validated {preset} in {tuning.meta['seconds']:.0f} s",
            state="complete",
            expanded=False,
        )
    _cached_tuning.clear()
    return tuning


def current_preset() -> str:
    """The preset chosen in the sidebar (the default before any choice)."""
    return st.session_state.get(PRESET_KEY, DEFAULT_PRESET)


def preset_selector() -> str:
    """The sidebar's model preset choice, shared by every page."""
    st.session_state.setdefault(PRESET_KEY, DEFAULT_PRESET)
    return st.sidebar.selectbox(
        "Model preset",
        list(PRESETS),
        key=PRESET_KEY,
        format_func=lambda name: name.capitalize(),
        help="\n\n".join(f"**{p.name}**: {p.description}" for p in PRESETS.values()),
    )


def digit_image(image: np.ndarray, scale: int = 4) -> np.ndarray:
    """A 28x28 digit enlarged with nearest-neighbour pixels, dark ink on white, for st.image."""
    big = np.kron(np.asarray(image, dtype=np.uint8), np.ones((scale, scale), dtype=np.uint8))
    return 255 - big
