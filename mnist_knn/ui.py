"""Streamlit glue: cached loaders and widgets shared by the pages (the only Streamlit import)."""

from __future__ import annotations

import warnings

import numpy as np
import streamlit as st

from .compare import Comparison, compare_path, load_comparison, read_comparison
from .data import Mnist, MnistNotFoundError, load_mnist
from .embedding import DigitMap, load_map, map_path, map_problem, read_map
from .model import (
    DEFAULT_PRESET,
    PRESETS,
    Artifact,
    StaleArtifactWarning,
    artifact_problem,
    load_artifact,
)
from .preprocess import ImageError, extract_ink, ink_box, load_image
from .teaching import sample_drawing

PRESET_KEY = "preset"
# The session-state contract between the Draw page and the teaching pages: the Draw
# page stores its latest canvas here as a numpy uint8 array (H, W, 4), RGBA, as
# streamlit-drawable-canvas returns it (``canvas.image_data``); None, an empty
# canvas or no key at all means "nothing drawn yet".
CURRENT_DRAWING_KEY = "current_drawing"
# The teaching pages' stand-ins when there is no drawing, shared by the three pages:
# the chosen MNIST test digit and the last uploaded image (file name, array).
TEACH_SAMPLE_KEY = "teach_sample"
TEACH_UPLOAD_KEY = "teach_upload"
SOURCES = {"drawing": "Your drawing", "test": "A test digit", "upload": "An uploaded image"}


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


def current_drawing() -> np.ndarray | None:
    """The Draw page's latest canvas (see :data:`CURRENT_DRAWING_KEY`), or None if it has no ink."""
    value = st.session_state.get(CURRENT_DRAWING_KEY)
    if value is None:
        return None
    drawing = np.asarray(value)
    if drawing.ndim != 3 or drawing.shape[2] not in (3, 4) or drawing.size == 0:
        return None
    try:
        ink_box(extract_ink(drawing))
    except ImageError:
        return None
    return drawing


def _set_sample(prefix: str, index: int) -> None:
    st.session_state[TEACH_SAMPLE_KEY] = st.session_state[f"{prefix}_index"] = index


def _sync_sample(prefix: str) -> None:
    st.session_state[TEACH_SAMPLE_KEY] = st.session_state[f"{prefix}_index"]


def teaching_drawing(prefix: str) -> tuple[np.ndarray | None, str]:
    """The drawing a teaching page explains, and a caption saying what it is.

    The Draw page's current drawing when there is one; otherwise (or by choice) an
    MNIST test digit redrawn on a 280x280 canvas, or an uploaded image. The test
    digit and the upload are shared by the teaching pages. Widget keys start with
    ``prefix``. Returns (None, message) when an upload cannot be read.
    """
    n_test = len(get_data().y_test)
    st.session_state.setdefault(TEACH_SAMPLE_KEY, 0)
    st.session_state.setdefault(f"{prefix}_index", st.session_state[TEACH_SAMPLE_KEY] % n_test)
    drawing = current_drawing()
    options = [*(["drawing"] if drawing is not None else []), "test", "upload"]
    left, middle, right = st.columns([2, 2, 1], vertical_alignment="bottom")
    source = left.radio(
        "Explain",
        options,
        format_func=SOURCES.get,
        key=f"{prefix}_source",
        horizontal=True,
        help="Your drawing comes from the Draw page; without one, pick a test digit or upload.",
    )
    if source == "drawing":
        return drawing, "Your drawing from the Draw page."
    if source == "upload":
        upload = middle.file_uploader(
            "Image of a digit",
            type=["png", "jpg", "jpeg", "gif", "bmp", "webp"],
            key=f"{prefix}_upload",
        )
        if upload is not None:
            try:
                image = load_image(upload.getvalue(), upload.name)
                st.session_state[TEACH_UPLOAD_KEY] = (
                    upload.name,
                    np.asarray(image.convert("RGBA")),
                )
            except ImageError as exc:
                return None, str(exc)
        if TEACH_UPLOAD_KEY not in st.session_state:
            return None, "Upload a picture of one handwritten digit (PNG, JPEG…)."
        name, image = st.session_state[TEACH_UPLOAD_KEY]
        return image, f"Your upload **{name}**."
    index = middle.number_input(
        f"Test digit (0 to {n_test - 1:,})",
        min_value=0,
        max_value=n_test - 1,
        step=1,
        key=f"{prefix}_index",
        on_change=_sync_sample,
        args=(prefix,),
    )
    right.button(
        "Another",
        icon=":material/casino:",
        key=f"{prefix}_random",
        on_click=lambda: _set_sample(prefix, int(np.random.default_rng().integers(n_test))),
    )
    digit, label = get_data().x_test[index], int(get_data().y_test[index])
    if drawing is None:
        st.caption("Nothing drawn on the Draw page yet, so here is a test digit instead.")
    return (
        sample_drawing(digit, seed=int(index)),
        f"Test digit #{index:,} (a **{label}**), redrawn at another size and place on a "
        "280×280 canvas, as a hand might have drawn it.",
    )


def _mtime(path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@st.cache_resource(show_spinner="Loading the compared models…")
def _cached_comparison(stamp: int, models: bool) -> Comparison | None:
    try:
        return read_comparison(get_data(), models=models)
    except (FileNotFoundError, ValueError):
        return None


def get_comparison(models: bool = False) -> Comparison | None:
    """models/compare.npz (with its fitted models if ``models``), or None when missing or stale.

    Keyed on the file's modification time, so a ``python -m mnist_knn compare``
    run while the app is up is picked up on the next page view. Without models it
    is read in milliseconds; the models take seconds (the forest), once per server.
    """
    return _cached_comparison(_mtime(compare_path()), models)


def build_comparison() -> Comparison:
    """Train and time what the comparison lacks, inside an ``st.status`` with a progress bar."""
    with st.status("Training and timing the models…", expanded=True) as status:
        bar = st.progress(0.0, text="starting")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StaleArtifactWarning)
            comparison = load_comparison(
                get_data(), progress=lambda f, msg: bar.progress(min(f, 1.0), text=msg)
            )
        status.update(
            label=f"Compared {len(comparison.rows)} models in "
            f"{comparison.meta['build_seconds']:.0f} s",
            state="complete",
            expanded=False,
        )
    _cached_comparison.clear()
    return comparison


def fresh_knn_models() -> dict:
    """Every KNN preset whose artifact is built and fresh, by name (none is built here)."""
    data = get_data()
    return {p: _cached_artifact(p).model for p in PRESETS if not artifact_problem(p, data)}


@st.cache_resource(show_spinner=False)
def _cached_map(stamp: int) -> DigitMap:
    return read_map(get_data())


def get_digit_map() -> DigitMap:
    """The 2-D map of training digits from models/embedding.npz, shared by all sessions.

    Built here with a visible status when missing or stale (t-SNE takes a minute
    or two); re-read when ``python -m mnist_knn embed`` rewrites the file.
    """
    data = get_data()
    problem = map_problem(data)
    if problem:
        with st.status(f"Building the digit map ({problem})…", expanded=True) as status:
            bar = st.progress(0.0, text="starting")
            digit_map = load_map(data, progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
            status.update(
                label=f"Mapped {digit_map.meta['n']:,} digits in "
                f"{digit_map.meta['pca_seconds'] + digit_map.meta['tsne_seconds']:.0f} s",
                state="complete",
                expanded=False,
            )
        _cached_map.clear()
    return _cached_map(_mtime(map_path()))
