"""Cached loaders shared by every page: MNIST, the models, tuning, comparison, digit map;
the sidebar's preset; builds shown with visible progress."""

from __future__ import annotations

import functools
import operator
import os
import threading
import warnings
from dataclasses import dataclass

import numpy as np
import streamlit as st

from .. import reading, teaching
from ..artifacts import StaleArtifactWarning, mtime
from ..data import Mnist, MnistNotFoundError, load_mnist
from ..evaluation.compare import Comparison, compare_path, load_comparison, read_comparison
from ..evaluation.digit_map import DigitMap, load_map, map_path, map_problem, read_map
from ..evaluation.tuning import Tuning, load_tuning, tuning_path
from ..model import DEFAULT_PRESET, PRESETS, Neighbours
from ..trained import Artifact, artifact_problem, load_artifact

PRESET_KEY = "preset"
# The shared objects a page's cached function may take as arguments, hashed by their ``key``
# (what they were built from and when) rather than by their arrays, which would cost
# more than the work being cached.
HASH_FUNCS = {
    cls: operator.attrgetter("key") for cls in (Mnist, Artifact, Tuning, DigitMap, Comparison)
}
#: ``st.cache_data`` that knows the shared objects: ``@ui.cache_data(show_spinner=False)``.
cache_data = functools.partial(st.cache_data, hash_funcs=HASH_FUNCS)


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


def build_visibly(label: str, build, done):
    """``build(progress)`` inside an ``st.status`` with a progress bar, so nothing looks frozen.

    ``done(result)`` is the status's label once finished. Stale-artifact warnings
    are silenced: the status itself says that something is being built.
    """
    with st.status(label, expanded=True) as status:
        bar = st.progress(0.0, text="starting")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StaleArtifactWarning)
            result = build(lambda fraction, text: bar.progress(min(fraction, 1.0), text=text))
        status.update(label=done(result), state="complete", expanded=False)
    return result


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
    # One element whether or not a build shows: the widgets below keep their place in the
    # page, so the next run does not mount them anew (a drawing canvas would come back
    # empty while its last picture is still read).
    slot = st.empty()
    if problem:
        with slot.container():
            build_visibly(
                f"Building the **{preset}** model ({problem})…",
                lambda progress: load_artifact(preset, data=data, progress=progress),
                lambda artifact: (
                    f"Built the {preset} model in {artifact.meta['build_seconds']:.0f} s"
                ),
            )
        _cached_artifact.clear()
        get_reference.clear()
        nearest.clear()
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
    return _cached_tuning(preset, mtime(tuning_path(preset)))


def run_tuning(preset: str) -> Tuning:
    """Cross-validate ``preset`` now, inside an ``st.status`` with a progress bar.

    If another session is already computing it, waits for that result instead.
    """
    tuning = build_visibly(
        f"Cross-validating the **{preset}** preset…",
        lambda progress: load_tuning(preset, data=get_data(), progress=progress),
        lambda tuning: f"Cross-validated {preset} in {tuning.meta['seconds']:.0f} s",
    )
    _cached_tuning.clear()
    return tuning


def current_preset() -> str:
    """The preset chosen in the sidebar (the default before any choice)."""
    return st.session_state.get(PRESET_KEY, DEFAULT_PRESET)


def preset_selector() -> str:
    """The sidebar's model preset choice, shared by every page."""
    st.session_state.setdefault(PRESET_KEY, DEFAULT_PRESET)
    # The default preset is listed first, so the widget's own default (its first option)
    # is the default preset too. With "baseline" first, a freshly opened Draw page under
    # load (20 browsers on 2 cores), never touched, was seen holding "baseline" in
    # session state: a second model (190 MB) nobody chose.
    return st.sidebar.selectbox(
        "Model preset",
        [DEFAULT_PRESET, *(name for name in PRESETS if name != DEFAULT_PRESET)],
        key=PRESET_KEY,
        format_func=lambda name: name.capitalize(),
        help="\n\n".join(f"**{p.name}**: {p.description}" for p in PRESETS.values()),
    )


def digit_image(image: np.ndarray, scale: int = 4, frame: bool = False) -> np.ndarray:
    """A 28x28 digit enlarged with nearest-neighbour pixels, dark ink on white, for st.image.

    ``frame`` adds a one-pixel grey border: where the 28x28 field ends on a white page.
    """
    big = 255 - np.kron(np.asarray(image, dtype=np.uint8), np.ones((scale, scale), np.uint8))
    return np.pad(big, 1, constant_values=190) if frame else big


@st.cache_resource(show_spinner=False)
def get_reference(preset: str) -> reading.Reference:
    """How close test digits come to ``preset``'s training set (the yardstick for "far").

    Call :func:`get_artifact` first: it builds the model with visible progress.
    """
    return reading.Reference.from_artifact(_cached_artifact(preset))


@st.cache_data(max_entries=256, show_spinner=False)
def nearest(preset: str, image: np.ndarray) -> Neighbours:
    """The one neighbour search of a 28x28 image (``reading.search``), cached per image.

    Changing k or the weighting re-votes these neighbours without searching again.
    Call :func:`get_artifact` first: it builds the model with visible progress.
    """
    return reading.search(_cached_artifact(preset).model, image)


def aligned_neighbours(preset: str, image: np.ndarray, ind: np.ndarray) -> list | None:
    """``KNNPipeline.align_neighbours`` of a 28x28 image and its neighbours (training-set
    indices ``ind``): each neighbour moved to match it, or None where the preset does not
    rank by tangent distance. Cached per neighbour, so a larger k aligns only the new ones.
    Call :func:`get_artifact` first."""
    if not _cached_artifact(preset).model.rerank:
        return None
    return [_aligned(preset, image, int(i)) for i in np.asarray(ind)]


def matched_neighbours(preset: str, image: np.ndarray, ind: np.ndarray) -> tuple | None:
    """The neighbours (training-set indices ``ind``) of a 28x28 ``image`` as ``preset``
    compared them, each deformed by the variant that matched it, and those deformations
    in words (``teaching.as_matched``; "" where none did); None where the preset has no
    variants. Which variant matched comes from the image's (cached) search; a neighbour
    it does not find in the same place (a stored search's tie) is shown as it is.
    Call :func:`get_artifact` first."""
    model = _cached_artifact(preset).model
    if not model.variants:
        return None
    ind = np.asarray(ind)
    found = nearest(preset, np.asarray(image))
    n = min(len(ind), found.ind.shape[1])
    variant = np.full(len(ind), -1)
    same = found.ind[0, :n] == ind[:n]
    variant[:n][same] = found.variant[0, :n][same]
    images = teaching.neighbour_images(model, get_data().x_train[ind])
    return teaching.as_matched(model, images, variant)


@st.cache_data(max_entries=2048, show_spinner=False)
def _aligned(preset: str, image: np.ndarray, index: int):
    model = _cached_artifact(preset).model
    return model.align_neighbours(image, get_data().x_train[index][None])[0]


def explain_drawing(
    preset: str, image: np.ndarray, k: int, weights: str, stroke: float | None = None
) -> reading.Reading:
    """The vote of ``k`` neighbours of a 28x28 image, explained; the search itself is cached.

    ``stroke``: the drawing's stroke width as drawn (``Steps.stroke``), for the verdict.
    """
    return reading.read(nearest(preset, image), k, weights, get_reference(preset), image, stroke)


@st.cache_resource(show_spinner="Loading the compared models…")
def _cached_comparison(stamp: int, models: bool) -> tuple[Comparison | None, str | None]:
    try:
        return read_comparison(get_data(), models=models), None
    except FileNotFoundError:
        return None, "not built yet"
    except ValueError as exc:  # damaged, stale, or a stored model fails its checks
        return None, str(exc)


def get_comparison(models: bool = False) -> Comparison | None:
    """models/compare.npz (with its fitted models if ``models``), or None when missing or stale.

    Keyed on the file's modification time, so a ``python -m mnist_knn compare``
    run while the app is up is picked up on the next page view. Without models it
    is read in milliseconds; the models take seconds (the forest), once per server.
    """
    return _cached_comparison(mtime(compare_path()), models)[0]


def comparison_error(models: bool = True) -> str | None:
    """Why :func:`get_comparison` gives None (e.g. a stored model file that was tampered
    with), for people; None when it loads."""
    return _cached_comparison(mtime(compare_path()), models)[1]


def build_comparison() -> Comparison:
    """Train and time what the comparison lacks, inside an ``st.status`` with a progress bar."""
    comparison = build_visibly(
        "Training and timing the models…",
        lambda progress: load_comparison(get_data(), progress=progress),
        lambda comparison: (
            f"Compared {len(comparison.rows)} models in {comparison.meta['build_seconds']:.0f} s"
        ),
    )
    _cached_comparison.clear()
    return comparison


def built_artifact(preset: str) -> Artifact | None:
    """``preset``'s artifact if models/ holds it fresh, else None: nothing is built here."""
    return None if artifact_problem(preset, get_data()) else _cached_artifact(preset)


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
        build_visibly(
            f"Building the digit map ({problem})…",
            lambda progress: load_map(data, progress=progress),
            lambda digit_map: (
                f"Mapped {digit_map.meta['n']:,} digits in "
                f"{digit_map.meta['pca_seconds'] + digit_map.meta['tsne_seconds']:.0f} s"
            ),
        )
        _cached_map.clear()
    return _cached_map(mtime(map_path()))


# ------------------------------------------------------------------ background builds

#: Set to 0 to build nothing at server start (the tests do: they build on demand).
BACKGROUND_ENV = "MNIST_KNN_BACKGROUND"


@dataclass
class BackgroundBuild:
    """One slow artifact built by the server's background thread; read by the pages."""

    name: str  # "digit map", "tuning", "comparison"
    state: str = "waiting"  # waiting, building, done, failed
    fraction: float = 0.0
    text: str = "waiting for the builds before it"
    error: str = ""


# The slow artifacts, in the order the server builds them at start: each is what a first
# visitor of its page would otherwise wait for (t-SNE about a minute, the comparison two).
_BACKGROUND = {
    "digit map": lambda data, progress: load_map(data, progress=progress),
    "tuning": lambda data, progress: load_tuning(DEFAULT_PRESET, data=data, progress=progress),
    "comparison": lambda data, progress: load_comparison(data, progress=progress),
}


def _build_in_background(builds: dict[str, BackgroundBuild]) -> None:
    from threadpoolctl import threadpool_limits

    # One BLAS thread: the pages' own work (a drawing's search) keeps the other core.
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleArtifactWarning)
        data = load_mnist()
        for name, build in _BACKGROUND.items():
            status = builds[name]
            status.state, status.text = "building", "starting"
            for later in builds.values():
                if later.state == "waiting":
                    later.text = f"waiting for the {name}, which the server builds first"

            def progress(fraction, text, status=status):
                status.fraction, status.text = min(float(fraction), 1.0), text

            try:
                build(data, progress)
            except Exception as exc:  # reported on the page, which can still build it itself
                status.state, status.error = "failed", f"{type(exc).__name__}: {exc}"
                continue
            status.state, status.fraction, status.text = "done", 1.0, "done"


@st.cache_resource(show_spinner=False)
def start_background_builds() -> dict[str, BackgroundBuild]:
    """Start (once per server) the thread that builds the slow artifacts; their progress.

    Does nothing when ``$MNIST_KNN_BACKGROUND`` is 0 (an empty dict).
    """
    if os.environ.get(BACKGROUND_ENV, "1") == "0":
        return {}
    builds = {name: BackgroundBuild(name) for name in _BACKGROUND}
    threading.Thread(
        target=_build_in_background, args=(builds,), name="mnist-knn-builds", daemon=True
    ).start()
    return builds


def background_build(name: str) -> BackgroundBuild | None:
    """The background build of ``name`` while it is still to finish, else None."""
    build = start_background_builds().get(name)
    return build if build is not None and build.state in ("waiting", "building") else None


def wait_for_background(name: str) -> None:
    """If the server is building ``name`` in the background, show its progress live and stop
    the page; it reruns by itself once the build is done (so no "not built" note stays)."""
    build = background_build(name)
    if build is None:
        return

    @st.fragment(run_every=1.0)
    def progress() -> None:
        if build.state not in ("waiting", "building"):
            st.rerun(scope="app")
        st.progress(build.fraction, text=f"Building the {name} in the background: {build.text}")

    st.info(
        f"The server started building the **{name}** when it started; this page shows it "
        "as soon as it is ready."
    )
    progress()
    st.stop()
