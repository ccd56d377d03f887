"""Streamlit glue: cached loaders and widgets shared by the pages (the only Streamlit import)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import uuid
import warnings
from collections.abc import Iterator

import numpy as np
import streamlit as st
from PIL import Image

from . import explain
from .classroom import UseEffect, use_drawings
from .compare import Comparison, compare_path, load_comparison, read_comparison
from .data import Mnist, MnistNotFoundError, load_mnist
from .drawn import CANVAS
from .embedding import DigitMap, load_map, map_path, map_problem, read_map
from .model import (
    DEFAULT_PRESET,
    PRESETS,
    Artifact,
    KNNPipeline,
    Neighbours,
    StaleArtifactWarning,
    artifact_problem,
    load_artifact,
)
from .preprocess import (
    EmptyDrawingError,
    ImageError,
    Steps,
    extract_ink,
    ink_box,
    load_image,
    preprocess_steps,
)
from .store import (
    MAX_ROOM,
    STORE_ENV,
    Drawings,
    DrawingStore,
    StoreError,
    clean_room,
    export_csv,
    export_idx_zip,
    export_npz,
    read_export,
    resolve_url,
)
from .teaching import sample_drawing
from .tuning import Tuning, load_tuning, tuning_path

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


def _build_visibly(label: str, build, done):
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
    if problem:
        _build_visibly(
            f"Building the **{preset}** model ({problem})…",
            lambda progress: load_artifact(preset, data=data, progress=progress),
            lambda artifact: f"Built the {preset} model in {artifact.meta['build_seconds']:.0f} s",
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
    return _cached_tuning(preset, _mtime(tuning_path(preset)))


def run_tuning(preset: str) -> Tuning:
    """Cross-validate ``preset`` now, inside an ``st.status`` with a progress bar.

    If another session is already computing it, waits for that result instead.
    """
    tuning = _build_visibly(
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


def digit_image(image: np.ndarray, scale: int = 4) -> np.ndarray:
    """A 28x28 digit enlarged with nearest-neighbour pixels, dark ink on white, for st.image."""
    big = np.kron(np.asarray(image, dtype=np.uint8), np.ones((scale, scale), dtype=np.uint8))
    return 255 - big


# ------------------------------------------------------------------ Classroom mode
# The drawings store, the sidebar's room name and the Draw page's "Right?" question.

ROOM_KEY = "class_room"
SESSION_ID_KEY = "class_session_id"
_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~:$=\"'")


def md_escape(text: str) -> str:
    """``text`` shown literally in Streamlit markdown (room names are any text)."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in str(text))


def store_url() -> str:
    """The drawings database: $MNIST_KNN_STORE, else the secret of that name, else the default.

    Either may be a SQLAlchemy URL (``postgresql://user:password@host/db``) or a file path.
    """
    if os.environ.get(STORE_ENV):
        return resolve_url(os.environ[STORE_ENV])
    try:
        secret = st.secrets.get(STORE_ENV)
    except Exception:  # no secrets.toml at all (Streamlit raises rather than returning None)
        secret = None
    return resolve_url(secret or None)


@st.cache_resource(show_spinner=False)
def _open_store(url: str) -> DrawingStore:
    return DrawingStore(url)


def _store_unreachable(exc: StoreError) -> None:
    st.error(
        f"The class's drawings cannot be reached.\n\n{exc}\n\n"
        f"Set `{STORE_ENV}` (environment or `.streamlit/secrets.toml`) to a SQLite file "
        "path or a database URL, then reload the page."
    )
    st.stop()


def get_store() -> DrawingStore:
    """The drawings store shared by all sessions; stops the page with a readable error.

    A store that could not be opened is not cached, so the next run tries again.
    """
    try:
        return _open_store(store_url())
    except StoreError as exc:
        _store_unreachable(exc)


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Run store reads; if the database fails meanwhile, say so and stop the page."""
    try:
        yield
    except StoreError as exc:
        _store_unreachable(exc)


def session_id() -> str:
    """An anonymous random id of this browser session (saved with its drawings)."""
    return st.session_state.setdefault(SESSION_ID_KEY, uuid.uuid4().hex)


def current_room() -> str:
    """The class / room name typed in the sidebar, cleaned ("" when none)."""
    try:
        return clean_room(st.session_state.get(ROOM_KEY, ""))
    except ValueError:
        return ""


def room_input() -> str:
    """The sidebar's optional class / room name, saved with every drawing; returns it cleaned."""
    st.sidebar.text_input(
        "Class / room",
        key=ROOM_KEY,
        max_chars=MAX_ROOM,
        placeholder="e.g. 5B or Tuesday club",
        help="Drawings you confirm on the Draw page are saved under this name, so a class "
        "can look at its own drawings on the Class drawings page. Leave it empty for none.",
    )
    return current_room()


def _as_png(canvas) -> bytes | None:
    """The canvas as PNG bytes (already PNG bytes, a PIL image, or an RGBA / grey array)."""
    if canvas is None or isinstance(canvas, bytes | bytearray):
        return bytes(canvas) if canvas else None
    if isinstance(canvas, Image.Image):
        image = canvas
    else:  # the drawable canvas gives uint8 RGBA; be lenient with other numeric arrays
        image = Image.fromarray(np.clip(np.asarray(canvas), 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _feedback_save(state_key: str, digest: str, label: int, drawing: dict) -> None:
    try:
        store = _open_store(store_url())
        drawing_id = store.save(**drawing, true_label=label, session_id=session_id())
    except (StoreError, ValueError) as exc:
        st.session_state[f"{state_key}_error"] = (digest, str(exc))
        return
    st.session_state[f"{state_key}_error"] = None
    st.session_state[state_key][digest] = (drawing_id, label, drawing["room"])


def _feedback_pick(state_key: str, pick_key: str, digest: str, drawing: dict) -> None:
    label = st.session_state.get(pick_key)
    st.session_state[pick_key] = None  # ready for the next drawing
    if label is not None:
        _feedback_save(state_key, digest, int(label), drawing)


def _feedback_undo(state_key: str, digest: str) -> None:
    drawing_id = st.session_state[state_key].pop(digest)[0]
    try:
        _open_store(store_url()).delete([drawing_id])
    except StoreError as exc:
        st.session_state[f"{state_key}_error"] = (digest, str(exc))


def drawing_feedback(
    image28: np.ndarray,
    canvas_png,
    prediction: int,
    proba,
    preset: str,
    k: int,
    key_prefix: str = "draw",
) -> int | None:
    """Ask "Right?" under a prediction and save the answer with the drawing.

    Renders a "✓ Yes, it's a <prediction>" button and a row of the other digits
    ("No, it is a …"); either saves the drawing to the store (see
    :meth:`~mnist_knn.store.DrawingStore.save`) with the sidebar's room name and
    this session's anonymous id. Once saved, the same drawing shows "Saved" and an
    Undo button instead, so one drawing is saved once.

    Parameters
    ----------
    image28 : array (28, 28) uint8
        The MNIST-style image the model classified (``to_mnist``'s result).
    canvas_png : bytes, PIL image, array or None
        The drawing as drawn: PNG bytes, or the canvas's RGBA array (made PNG here).
    prediction : int
        The digit the model read.
    proba : array of 10 floats
        The model's probabilities.
    preset, k : str, int
        The model preset and number of neighbours that made the prediction.
    key_prefix : str
        Prefix of the widget keys (one per page that asks).

    Returns
    -------
    int or None
        The saved drawing's id, or None while it is not saved.
    """
    state_key = f"{key_prefix}_feedback_saved"
    saved = st.session_state.setdefault(state_key, {})
    image28 = np.ascontiguousarray(image28, dtype=np.uint8)
    digest = hashlib.sha256(image28.tobytes()).hexdigest()[:24]
    error_digest, error = st.session_state.get(f"{state_key}_error") or (None, None)
    if digest in saved:
        _, label, room = saved[digest]
        where = f" of room **{md_escape(room)}**" if room else ""
        col_text, col_undo = st.columns([4, 1], vertical_alignment="center")
        col_text.success(f"Saved as a **{label}** to the class's drawings{where}. Thank you!")
        col_undo.button(
            "Undo",
            key=f"{key_prefix}_feedback_undo",
            on_click=_feedback_undo,
            args=(state_key, digest),
            help="Delete this drawing from the class's drawings again.",
        )
    else:
        drawing = dict(
            image=image28,
            canvas_png=_as_png(canvas_png),
            predicted=int(prediction),
            proba=np.asarray(proba, dtype=np.float64),
            preset=preset,
            k=int(k),
            room=current_room(),
        )
        st.markdown(f"**Right?** The model read a **{int(prediction)}**.")
        col_yes, col_no = st.columns([1, 3], vertical_alignment="bottom")
        col_yes.button(
            f"✓ Yes, it's a {int(prediction)}",
            key=f"{key_prefix}_feedback_yes",
            on_click=_feedback_save,
            args=(state_key, digest, int(prediction), drawing),
            type="primary",
        )
        pick_key = f"{key_prefix}_feedback_true"
        col_no.segmented_control(
            "No, I drew a …",
            [d for d in range(10) if d != int(prediction)],
            key=pick_key,
            on_change=_feedback_pick,
            args=(state_key, pick_key, digest, drawing),
        )
        st.caption(
            "Your answer saves this drawing for the class: the 28×28 image, the drawing, both "
            "digits, the probabilities, the model used, the time, an anonymous session id "
            "and the room name from the sidebar."
        )
    if error and error_digest == digest:  # about this drawing, not an earlier one
        st.error(f"The drawing could not be saved. {error}")
    return saved.get(digest, (None,))[0]


@st.cache_resource(show_spinner=False)
def _refits() -> dict:
    """(preset, digest of the drawings) -> (refitted model, UseEffect), a few at most."""
    return {}


def use_drawings_effect(preset: str, items: Drawings) -> tuple[KNNPipeline, UseEffect]:
    """The preset refitted with ``items`` added to its training set, and what it changes.

    Cached apart from the plain model, by preset and the drawings' content; the
    first computation shows its progress in an ``st.status``.
    """
    key = (preset, items.digest())
    cache = _refits()
    if key not in cache:
        artifact = get_artifact(preset)
        result = _build_visibly(
            f"Adding {len(items)} drawings to the training set and refitting **{preset}**…",
            lambda progress: use_drawings(
                artifact.preset,
                get_data(),
                artifact.model,
                artifact.evaluation,
                items.images,
                items.true_labels,
                progress=progress,
            ),
            lambda result: f"Refitted with {len(items)} drawings in {result[1].seconds:.0f} s",
        )
        while len(cache) >= 4:  # each holds a model as large as the plain one
            cache.pop(next(iter(cache)))
        cache[key] = result
    return cache[key]


FLASH_KEY = "class_flash"
EXPORTS = (
    ("CSV", export_csv, "csv", "text/csv"),
    ("IDX, MNIST's format (zip)", export_idx_zip, "zip", "application/zip"),
    ("NumPy .npz (with the PNGs)", export_npz, "npz", "application/octet-stream"),
)


def flash_message() -> None:
    """Show (once) the message an action left for the next run."""
    if message := st.session_state.pop(FLASH_KEY, None):
        level, text = message
        (st.error if level == "error" else st.success)(text)


def drawing_gallery(items: Drawings, confidence: bool = False, scale: int = 3) -> None:
    """The drawings as a grid of 28x28 images captioned "drawn → read" (✗ when misread)."""
    if not len(items):
        st.caption("No drawings to show.")
        return
    captions = []
    for drawn, read, proba in zip(items.true_labels, items.predicted, items.proba, strict=True):
        text = f"{drawn} → {read}"
        if confidence:
            text += f" ({proba[read]:.0%})"
        elif drawn != read:
            text += " ✗"
        captions.append(text)
    st.image([digit_image(img, scale) for img in items.images], caption=captions, width=28 * scale)


def _room_label(room: str | None) -> str:
    return "all rooms" if room is None else f"room “{md_escape(room or '(no room)')}”"


def export_drawings(drawings_db: DrawingStore, room: str | None, count: int, key: str) -> None:
    """Download buttons for the drawings of ``room`` (None: all) as CSV, IDX zip and npz.

    Each file is made only when its button is clicked.
    """
    st.markdown(f"**Export** the {count} drawings of {_room_label(room)}")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", room or "").strip("-")[:40]
    stem = "class-drawings" + (f"-{slug}" if slug else "-all" if room is None else "")
    for col, (label, export, ext, mime) in zip(st.columns(3), EXPORTS, strict=True):
        col.download_button(
            label,
            lambda export=export: export(drawings_db.query(room=room, with_png=True)),
            file_name=f"{stem}.{ext}",
            mime=mime,
            key=f"{key}_{ext}",
            on_click="ignore",
            disabled=count == 0,
        )


def import_drawings(drawings_db: DrawingStore, artifact: Artifact, key: str) -> None:
    """Upload an export (npz, CSV or IDX zip) back into the store."""
    st.markdown(
        "**Import** an export of this page (from here or another classroom). An IDX zip holds "
        "only images and labels: the current model reads them, and they go to the sidebar's room."
    )
    upload = st.file_uploader("Export file", type=["npz", "csv", "zip"], key=f"{key}_file")
    if not st.button("Import", key=f"{key}_go", disabled=upload is None):
        return

    def classify(images):
        result = artifact.model.search(images)
        return result.labels, result.proba, artifact.preset.name, artifact.preset.k

    try:
        items = read_export(upload.getvalue(), upload.name, classify, idx_room=current_room())
        added, present = drawings_db.add(items)
    except (ValueError, StoreError) as exc:
        st.error(str(exc))
        return
    st.session_state[FLASH_KEY] = (
        "success",
        f"Imported {added} drawings from {upload.name}"
        + (f" ({present} were already here)." if present else "."),
    )
    st.rerun()


def _delete_ids(drawings_db: DrawingStore, ids: list[int], key: str) -> None:
    try:
        n = drawings_db.delete(ids)
    except StoreError as exc:
        st.session_state[FLASH_KEY] = ("error", f"Nothing was deleted. {exc}")
        return
    st.session_state[FLASH_KEY] = ("success", f"Deleted {n} drawing{'s' if n != 1 else ''}.")
    st.session_state[f"{key}_ids"] = []
    st.session_state[f"{key}_ids_sure"] = False


def _delete_room(drawings_db: DrawingStore, room: str, key: str) -> None:
    try:
        n = drawings_db.delete_room(room)
    except StoreError as exc:
        st.session_state[FLASH_KEY] = ("error", f"Nothing was deleted. {exc}")
        return
    label = room or "(no room)"
    st.session_state[FLASH_KEY] = ("success", f"Deleted room “{label}” and its {n} drawings.")
    st.session_state[f"{key}_room_sure"] = False


def delete_drawings(
    drawings_db: DrawingStore, shown: Drawings, room: str | None, room_count: int, key: str
) -> None:
    """Delete chosen drawings, or a whole room, each behind a "Yes, delete" checkbox."""
    st.markdown("**Delete**")
    names = {
        int(i): f"#{i}: drawn {t}, read {p}" + (f", {r}" if room is None and r else "")
        for i, t, p, r in zip(
            shown.ids, shown.true_labels, shown.predicted, shown.room, strict=True
        )
    }
    chosen = st.multiselect(
        "Drawings to delete (those matching the filters, newest first)",
        list(reversed(names)),
        format_func=names.get,
        key=f"{key}_ids",
    )
    sure = st.checkbox(
        f"Yes, delete the {len(chosen)} selected drawings",
        key=f"{key}_ids_sure",
        disabled=not chosen,
    )
    st.button(
        "Delete selected",
        key=f"{key}_ids_go",
        disabled=not (chosen and sure),
        on_click=_delete_ids,
        args=(drawings_db, chosen, key),
    )
    if room is None:
        st.caption("Choose a room above to delete a whole room.")
        return
    sure_room = st.checkbox(
        f"Yes, delete all {room_count} drawings of {_room_label(room)}", key=f"{key}_room_sure"
    )
    st.button(
        "Delete the room",
        key=f"{key}_room_go",
        type="primary",
        disabled=not sure_room,
        on_click=_delete_room,
        args=(drawings_db, room, key),
    )


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

    A blank drawing is not an error (the page prompts to draw); a canvas inked
    all over and a blank upload get a warning, and anything unreadable an
    ``st.error`` naming ``name``.
    """
    if drawing is None:
        return None
    try:
        return preprocess_steps(drawing)
    except EmptyDrawingError:
        if name:
            st.warning(f"{name}: no digit found, the picture looks blank.")
        elif np.asarray(drawing)[..., :3].mean() < 128:  # all one colour, and not white
            st.warning(
                "The box is inked all over, so there is no digit shape to read. "
                "Press **Clear** and draw one digit."
            )
    except ImageError as exc:
        st.error(f"{name or 'The drawing'}: {exc}")
    return None


# A key of its own in the canvas's initial drawing, counting Clears: a new value makes
# the canvas reload its (empty) initial drawing. Fabric.js copies unknown keys onto
# its canvas object, so the name must not shadow any of Fabric's (such as "clear").
CLEARS_MARK = "mnistKnnClears"


def _clear_canvas(key: str, digest: str | None) -> None:
    st.session_state[f"{key}_clears"] += 1
    st.session_state[f"{key}_cleared"] = digest


def drawing_canvas(key: str, brush: int) -> np.ndarray | None:
    """A white canvas to draw a digit on, and a Clear button under it.

    Returns the drawing as the canvas's RGBA array (see :data:`CURRENT_DRAWING_KEY`),
    or None while there is nothing to read (not drawn on yet, or just cleared).

    Clear empties the canvas in place: the canvas keeps its key and is sent a new
    empty initial drawing (see :data:`CLEARS_MARK`), which it loads and reports
    back. A new key would mount a new component instead, and its stylesheet loads
    after its canvases: for a moment (seconds on a busy machine) the drawing layer
    sits below the white box and strokes made on the box are lost. Until the
    cleared canvas reports back, the component still holds the drawing that was
    on it when Clear was pressed; that one is recognised by its digest and ignored.
    """
    # Imported here: the component registers itself on import, which needs a running app.
    from streamlit_drawable_canvas import st_canvas

    clears = st.session_state.setdefault(f"{key}_clears", 0)
    canvas = st_canvas(
        stroke_width=brush,
        stroke_color="#000000",
        background_color="#ffffff",
        height=CANVAS,
        width=CANVAS,
        drawing_mode="freedraw",
        initial_drawing={"objects": [], CLEARS_MARK: clears},
        return_image_data=True,
        key=key,
    )
    png = canvas.image_bytes
    digest = hashlib.sha256(png).hexdigest() if png else None
    st.button(
        "Clear",
        key=f"{key}_clear",
        icon=":material/delete:",
        on_click=_clear_canvas,
        args=(key, digest),
        help="Draw with the mouse or a finger. Undo and redo are in the canvas's "
        "toolbar, which shows when you point at (or touch) the canvas.",
    )
    if digest is None or digest == st.session_state.get(f"{key}_cleared"):
        return None
    return np.asarray(Image.open(io.BytesIO(png)))


def share_drawing(drawing) -> None:
    """Keep the Draw page's drawing (canvas array or uploaded image) for the teaching pages."""
    if drawing is not None and not isinstance(drawing, np.ndarray):
        drawing = np.asarray(drawing.convert("RGBA"))
    st.session_state[CURRENT_DRAWING_KEY] = drawing


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
    comparison = _build_visibly(
        "Training and timing the models…",
        lambda progress: load_comparison(get_data(), progress=progress),
        lambda comparison: (
            f"Compared {len(comparison.rows)} models in {comparison.meta['build_seconds']:.0f} s"
        ),
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
        _build_visibly(
            f"Building the digit map ({problem})…",
            lambda progress: load_map(data, progress=progress),
            lambda digit_map: (
                f"Mapped {digit_map.meta['n']:,} digits in "
                f"{digit_map.meta['pca_seconds'] + digit_map.meta['tsne_seconds']:.0f} s"
            ),
        )
        _cached_map.clear()
    return _cached_map(_mtime(map_path()))
