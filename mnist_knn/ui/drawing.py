"""Drawing input: the canvas, picture uploads, their preprocessing with messages for people,
and the current-drawing contract between the Draw page and the teaching pages."""

from __future__ import annotations

import base64
import hashlib
import io

import numpy as np
import streamlit as st
from PIL import Image

from ..preprocess import (
    CANVAS,
    EmptyDrawingError,
    ImageError,
    Steps,
    extract_ink,
    ink_box,
    load_image,
    preprocess_steps,
)
from ..reading import a_digit
from ..synthetic import sample_drawing
from .resources import aligned_neighbours, digit_image, get_data, matched_neighbours

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


# A key of its own in the canvas's initial drawing, counting reloads (Clear, Undo): a new
# value makes the canvas load its initial drawing again. Fabric.js copies unknown keys
# onto its canvas object, so the name must not shadow any of Fabric's (such as "clear").
CLEARS_MARK = "mnistKnnClears"

# streamlit-drawable-canvas shows its toolbar (undo, redo, edit, reset) over the
# canvas's top-right corner, invisible until hovered: a touch that starts there never
# reaches the canvas. The component has no switch for it and draws in a shadow root
# that page styles cannot reach, so this script adds a rule to that shadow root.
# Undo and Clear are Streamlit buttons under the canvas instead.
HIDE_TOOLBAR = """<script>
(() => {
  if (window.mnistKnnHideToolbar) return;
  window.mnistKnnHideToolbar = true;
  const patch = () => {
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const root = host.shadowRoot;
      if (root && !root.querySelector("style[data-mnist-knn]")) {
        const style = document.createElement("style");
        style.dataset.mnistKnn = "toolbar";
        style.textContent = ".dc-toolbar { display: none !important; }";
        root.appendChild(style);
      }
    }
  };
  patch();
  setInterval(patch, 200);
})();
</script>"""


def _canvas_state(key: str) -> dict:
    """The canvas's drawing as the app knows it, kept in session state across pages.

    ``initial``: the drawing the canvas (re)loads (Fabric.js JSON, with
    :data:`CLEARS_MARK`); ``objects`` and ``png``: its latest strokes and picture,
    which a remounted canvas starts from; ``replaced``: the digest of the picture that
    Clear or Undo replaced, which the canvas reports until it has loaded the new one.
    """
    return st.session_state.setdefault(
        f"{key}_state",
        {"initial": {"objects": [], CLEARS_MARK: 0}, "objects": [], "png": None, "replaced": None},
    )


def _sent(key: str) -> tuple[list, str | None] | None:
    """The strokes and picture digest the canvas has sent last, or None if it has not.

    Read in a button's callback this includes a stroke sent just before the click,
    which the widgets rendered by the previous run do not know about yet.
    """
    try:
        drawing = st.session_state[key]["drawing"]
        url = drawing["data"]
    except (KeyError, TypeError):
        return None
    if not url:
        return None
    png = base64.b64decode(url.split(";base64,", 1)[1])
    return list((drawing.get("raw") or {}).get("objects") or []), _digest(png)


def _digest(png: bytes | None) -> str | None:
    return hashlib.sha256(png).hexdigest() if png else None


def _reload(key: str, strokes: int | None) -> None:
    """Reload the canvas with its first ``strokes`` strokes (None: all but the last)."""
    state = _canvas_state(key)
    objects, replaced = state["objects"], state["replaced"]
    sent = _sent(key)
    if sent is not None and sent[1] != state["replaced"]:
        objects, replaced = sent
    objects = objects[:strokes] if strokes is not None else objects[:-1]
    state["initial"] = {"objects": objects, CLEARS_MARK: state["initial"][CLEARS_MARK] + 1}
    state["objects"], state["png"], state["replaced"] = objects, None, replaced


def forget_canvas(key: str) -> None:
    """Drop the canvas component's own state while it is not on the page (e.g. Upload chosen).

    Streamlit keeps a widget's last value through a run that ends in ``st.stop()``;
    without this, a canvas mounted again would return the picture it had before
    while showing its initial drawing. Its strokes stay in :func:`_canvas_state`.
    """
    if key in st.session_state:
        del st.session_state[key]


def drawing_canvas(key: str, brush: int, size: int = CANVAS) -> np.ndarray | None:
    """A white canvas to draw a digit on, with Undo and Clear buttons under it.

    Returns the drawing on screen as an RGBA array (see :data:`CURRENT_DRAWING_KEY`),
    or None while there is nothing to read (not drawn on yet, or just cleared).
    A canvas of another ``size`` (the presenter view's bigger one) draws with the
    brush scaled alike and returns its picture scaled to the usual
    :data:`~mnist_knn.preprocess.CANVAS` pixels, so it is read exactly as a normal one.

    The drawing lives in session state, not only in the component: a canvas that is
    mounted again (back from another page, or from Upload) starts with the last
    strokes and returns their picture, so the answer beside it is about what is on
    screen. Clear and Undo reload the canvas in place with fewer strokes (a new key
    would mount a new component, whose stylesheet loads after its canvases: strokes
    made meanwhile are lost). Until the reloaded canvas reports back, the component
    still returns the replaced drawing, recognised by its digest and not read.
    """
    # Imported here: the component registers itself on import, which needs a running app.
    from streamlit_drawable_canvas import st_canvas

    state = _canvas_state(key)
    if key not in st.session_state and state["objects"]:
        # A new canvas (the page was left): it starts with the last drawing, and a
        # canvas does not report its initial drawing, so its picture is the saved one.
        state["initial"] = {
            "objects": state["objects"],
            CLEARS_MARK: state["initial"][CLEARS_MARK] + 1,
        }
    st.html(HIDE_TOOLBAR, unsafe_allow_javascript=True)
    canvas = st_canvas(
        stroke_width=max(1, round(brush * size / CANVAS)),
        stroke_color="#000000",
        background_color="#ffffff",
        height=size,
        width=size,
        drawing_mode="freedraw",
        initial_drawing=state["initial"],
        return_image_data=True,
        key=key,
    )
    png = canvas.image_bytes
    digest = _digest(png)
    objects = list((canvas.json_data or {}).get("objects") or [])
    if png is None or digest == state["replaced"]:
        png = state["png"]  # the canvas shows its initial drawing still
    else:
        state["objects"], state["png"], state["replaced"] = objects, png, None
    buttons = st.container(horizontal=True, gap="small")
    buttons.button(
        "Undo stroke",
        key=f"{key}_undo",
        icon=":material/undo:",
        on_click=_reload,
        args=(key, None),
        disabled=not state["objects"],
        help="Take back the last stroke.",
    )
    buttons.button(
        "Clear",
        key=f"{key}_clear",
        icon=":material/delete:",
        on_click=_reload,
        args=(key, 0),
        help="Empty the canvas and draw again (with the mouse, a pen or a finger).",
    )
    if png is None:
        return None
    picture = Image.open(io.BytesIO(png))
    if size != CANVAS:
        picture = picture.convert("RGBA").resize((CANVAS, CANVAS), Image.Resampling.BOX)
    return np.asarray(picture)


# The predicted digit, the biggest thing on the Draw page: readable from the back of a
# classroom on a projector (160 px; the 28x28 image beside it is 142 px).
PREDICTION_FONT_PX = 160
_VERDICT_STYLE = {True: ("sure", "#177233", "#dff3e4"), False: ("not sure", "#8a4b00", "#fff1d6")}


def big_prediction(
    label: int, sure: bool, runner_up: int | None = None, size: int = PREDICTION_FONT_PX
) -> None:
    """The prediction as one big digit ("7", or "7?" when not sure) over its verdict
    ("not sure: or a 1?" when the other digit it might be is known); ``size``: the
    digit's font size in px (the verdict grows with it)."""
    word, ink, paper = _VERDICT_STYLE[bool(sure)]
    if not sure and runner_up is not None:
        word = f"not sure: or {a_digit(runner_up)}?"
    verdict_px = max(20, size // 8)
    text = f"{int(label)}" if sure else f"{int(label)}?"
    st.html(
        f"""<div class="mnist-prediction" role="status" aria-label="Prediction: {text}, {word}"
  style="display:flex;flex-direction:column;align-items:flex-start;gap:0.25rem">
  <div style="font-size:1rem;opacity:0.75">Prediction</div>
  <div class="mnist-prediction-digit" style="font-size:{size}px;line-height:0.9;
    font-weight:700;font-variant-numeric:tabular-nums">{text}</div>
  <div class="mnist-prediction-verdict" style="font-size:{verdict_px}px;font-weight:600;color:{ink};
    background:{paper};border-radius:0.5rem;padding:0.1rem 0.6rem">{word}</div>
</div>""",
        width="content",
    )


def compact_top(phone_order: tuple[str, ...] = ()) -> None:
    """Less empty space above the page's title (Streamlit leaves 6rem), for short screens.

    ``phone_order``: keys of the page's top-level containers, in the order a phone
    (a screen under 700 px wide) shows them after the title, e.g. the canvas and its
    answer first, the controls under them.
    """
    # The flex item of the page's column is the wrapper around the keyed container.
    order = " ".join(
        f"[data-testid='stLayoutWrapper']:has(> .st-key-{key}){{order:{i + 1}}}"
        for i, key in enumerate(phone_order)
    )
    st.html(
        "<style>[data-testid='stMainBlockContainer']{padding-top:2.5rem !important}"
        # On a phone the header bar (60 px, with the sidebar's button) is taller than that
        # space and its white covered the title's top: see-through there.
        f"@media (max-width: 700px){{{order}[data-testid='stHeader']{{background:transparent}}}}"
        "</style>"
    )


def neighbour_gallery(
    preset: str,
    query: np.ndarray,
    ind,
    captions=None,
    notes=None,
    scale: int = 3,
    moves: bool = True,
) -> None:
    """The neighbours (training-set indices ``ind``) of a 28x28 ``query``, in a wrapping row.

    Each picture has its plain-text caption (``captions``) and, under it, its Markdown
    note (``notes``). Where ``preset`` ranks neighbours by tangent distance, each stored
    picture has beside it the neighbour moved to match the query, and the move in words
    (unless ``moves`` is False: the moves cost a few ms per neighbour). Where ``preset``
    measures deformed variants, each neighbour one matched has beside it the neighbour
    as compared, deformed that way, and the deformation in words.
    """
    ind = np.asarray(ind)
    x_train = get_data().x_train
    aligned = aligned_neighbours(preset, np.asarray(query), ind) if moves else None
    matched = matched_neighbours(preset, query, ind) if aligned is None else None
    shows_matched = matched is not None and any(matched[1])
    paired = aligned is not None or shows_matched
    if shows_matched:
        st.caption(
            "Where a training digit matched better slightly deformed, the right picture "
            "shows it as it was compared: deskewed, blurred, then turned, resized, shifted "
            "or its strokes thickened or thinned, as said under it."
        )
    if aligned is not None:
        st.caption(
            "Left: the training digit as stored. Right: the same digit moved the way tangent "
            "distance matched it to this one (turned, resized, shifted, strokes thickened), "
            "after the slant of both was evened out."
        )
    gap = np.full((28 * scale + 2, 2 * scale), 255, np.uint8)
    with st.container(horizontal=True, wrap=True, gap="small"):
        for j, i in enumerate(ind):
            picture = digit_image(x_train[i], scale, frame=paired)
            note = notes[j] if notes is not None else ""
            if aligned is not None:
                moved = np.round(aligned[j].image * 255).astype(np.uint8)
                picture = np.hstack([picture, gap, digit_image(moved, scale, frame=True)])
                note = "  \n".join(filter(None, [note, f"→ {aligned[j].words()}"]))
            elif shows_matched and matched[1][j]:
                shown = np.round(matched[0][j] * 255).astype(np.uint8)
                picture = np.hstack([picture, gap, digit_image(shown, scale, frame=True)])
                note = "  \n".join(filter(None, [note, f"→ {matched[1][j]}"]))
            with st.container(width=picture.shape[1] + 4, gap=None):
                st.image(picture, caption=captions[j] if captions is not None else None)
                if note:
                    st.caption(note)


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
        f"Test digit #{index:,} ({a_digit(label).replace(' ', ' **')}**), redrawn at another "
        "size and place on a 280×280 canvas, as a hand might have drawn it.",
    )


def teaching_digit(prefix: str, what: str) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """:func:`teaching_drawing`, and the 28x28 image the model receives of it.

    Returns (drawing, digit, caption). When the drawing cannot be read (an empty
    canvas, a blank or broken upload) ``digit`` is None and the caption says so,
    "Nothing to ``what``: …", for the page to show.
    """
    drawing, caption = teaching_drawing(prefix)
    if drawing is None:
        return None, None, caption
    try:
        return drawing, preprocess_steps(drawing).result, caption
    except ImageError as exc:
        return drawing, None, f"Nothing to {what}: {exc}."
