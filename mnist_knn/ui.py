"""Streamlit glue: cached loaders and widgets shared by the pages (the only Streamlit import)."""

from __future__ import annotations

import warnings

import numpy as np
import streamlit as st

from . import explain
from .data import Mnist, MnistNotFoundError, load_mnist
from .model import (
    DEFAULT_PRESET,
    PRESETS,
    Artifact,
    Neighbours,
    StaleArtifactWarning,
    artifact_problem,
    load_artifact,
)
from .preprocess import EmptyDrawingError, ImageError, Steps, load_image, preprocess_steps

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
        get_reference.clear()
        nearest.clear()
    return _cached_artifact(preset)


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


@st.cache_resource(show_spinner=False)
def get_reference(preset: str) -> explain.Reference:
    """How close test digits come to ``preset``'s training set (the yardstick for "far").

    Call :func:`get_artifact` first: it builds the model with visible progress.
    """
    return explain.Reference.from_evaluation(_cached_artifact(preset).evaluation)


@st.cache_data(max_entries=256, show_spinner=False)
def nearest(preset: str, image: np.ndarray) -> Neighbours:
    """The one neighbour search of a 28x28 image (``explain.search``), cached per image.

    Changing k or the weighting re-votes these neighbours without searching again.
    Call :func:`get_artifact` first: it builds the model with visible progress.
    """
    return explain.search(_cached_artifact(preset).model, image)


def explain_drawing(preset: str, image: np.ndarray, k: int, weights: str) -> explain.Reading:
    """The vote of ``k`` neighbours of a 28x28 image, explained; the search itself is cached."""
    return explain.read(nearest(preset, image), k, weights, get_reference(preset), image)


# Pillow opens more, but these are the formats people have digit pictures in.
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]


def image_upload(label: str, key: str):
    """A file uploader for one picture: (PIL image, file name), (None, name) or (None, None).

    An unreadable file is reported with ``st.error`` naming it, never a traceback.
    """
    upload = st.file_uploader(label, type=UPLOAD_TYPES, key=key)
    if upload is None:
        return None, None
    try:
        return load_image(upload.getvalue(), upload.name), upload.name
    except ImageError as exc:
        st.error(f"{exc}\n\nTry another PNG or JPEG file.")
        return None, upload.name


def drawing_steps(drawing, name: str | None = None) -> Steps | None:
    """:func:`preprocess_steps` of a drawing, or None when there is nothing to classify.

    A blank drawing is not an error (the page prompts to draw); a blank upload
    gets a warning, and anything unreadable an ``st.error`` naming ``name``.
    """
    if drawing is None:
        return None
    try:
        return preprocess_steps(drawing)
    except EmptyDrawingError:
        if name:
            st.warning(f"{name}: no digit found, the picture looks blank.")
    except ImageError as exc:
        st.error(f"{name or 'The drawing'}: {exc}")
    return None
