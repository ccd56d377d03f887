"""Classroom mode's Streamlit side: the drawings store, the sidebar's room name, the Draw
page's "Right?" question, and the Class drawings page's gallery, export, import and delete."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import os
import re
import uuid
from collections.abc import Iterator

import numpy as np
import streamlit as st
from PIL import Image

from ..classroom.analysis import UseEffect, use_drawings
from ..classroom.exchange import export_csv, export_idx_zip, export_npz, read_export
from ..classroom.limits import MAX_USE_DRAWINGS
from ..classroom.store import (
    MAX_ROOM,
    RETENTION_ENV,
    STORE_ENV,
    Drawings,
    DrawingStore,
    StoreError,
    clean_room,
    resolve_url,
)
from ..model import KNNPipeline
from ..preprocess import CANVAS, eight_bit
from ..reading import a_digit
from ..trained import Artifact
from .resources import build_visibly, digit_image, get_artifact, get_data

# ------------------------------------------------------------------ Classroom mode
# The drawings store, the sidebar's room name and the Draw page's "Right?" question.

ROOM_KEY = "class_room"
SESSION_ID_KEY = "class_session_id"
_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~:$=\"'")


def md_escape(text: str) -> str:
    """``text`` shown literally in Streamlit markdown (room names are any text)."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in str(text))


def setting(name: str) -> str | None:
    """``$name`` from the environment, else the same key in ``.streamlit/secrets.toml``."""
    if os.environ.get(name):
        return os.environ[name]
    try:
        secret = st.secrets.get(name)
    except Exception:  # no secrets.toml at all (Streamlit raises rather than returning None)
        secret = None
    return str(secret) if secret else None


def store_url() -> str:
    """The drawings database: $MNIST_KNN_STORE, else the secret of that name, else the default.

    Either may be a SQLAlchemy URL (``postgresql://user:password@host/db``) or a file path.
    """
    return resolve_url(setting(STORE_ENV))


# ------------------------------------------------------------------ the teacher role
# A teacher password (environment or secrets.toml) unlocks deleting, importing, exporting
# and "Use them" on the Class drawings page; pupils save drawings and see their own room.
# The unlock lives in this browser session's state only (no accounts, no cookies).

TEACHER_ENV = "MNIST_KNN_TEACHER_PASSWORD"
TEACHER_KEY = "class_teacher"  # not a widget key: a browser cannot set it


def teacher_token(password: str) -> str:
    """What session state keeps of an unlock: a digest of the password, never the password.

    A changed password locks every session that was unlocked with the old one.
    """
    return hashlib.sha256(b"mnist-knn teacher\0" + password.encode("utf-8")).hexdigest()


def teacher_password() -> str | None:
    """The teacher password, or None when none is set (the teacher actions are off)."""
    return setting(TEACHER_ENV)


def is_teacher() -> bool:
    """This session was unlocked with the current teacher password."""
    password = teacher_password()
    token = st.session_state.get(TEACHER_KEY)
    return bool(password and token) and hmac.compare_digest(str(token), teacher_token(password))


def _unlock(key: str) -> None:
    entered = st.session_state.get(key) or ""
    st.session_state[key] = ""  # the password never stays in a widget
    password = teacher_password()
    if password and hmac.compare_digest(entered.encode("utf-8"), password.encode("utf-8")):
        st.session_state[TEACHER_KEY] = teacher_token(password)
        st.session_state[f"{key}_wrong"] = False
    else:
        st.session_state[f"{key}_wrong"] = True


def _lock() -> None:
    st.session_state.pop(TEACHER_KEY, None)


def teacher_login(key: str) -> bool:
    """The teacher's unlock (or lock) controls; True when this session is the teacher's.

    With no password set, says that the teacher actions are off and how to turn them on.
    """
    if not teacher_password():
        st.info(
            "Deleting, importing, exporting and **Use them** are off: no teacher password "
            f"is set. To turn them on, set `{TEACHER_ENV}` in the server's environment or in "
            "`.streamlit/secrets.toml`, then restart the app."
        )
        return False
    if is_teacher():
        col_text, col_lock = st.columns([4, 1], vertical_alignment="center")
        col_text.caption("🔓 Teacher mode: every room, export, import, delete and Use them.")
        col_lock.button("Lock", key=f"{key}_lock", on_click=_lock)
        return True
    st.markdown(
        "**Teacher** · pupils see their own room's drawings; the teacher password unlocks "
        "every room, exporting, importing, deleting and *Use them*."
    )
    col_pw, col_go = st.columns([3, 1], vertical_alignment="bottom")
    col_pw.text_input("Teacher password", type="password", key=f"{key}_password")
    col_go.button("Unlock", key=f"{key}_unlock", on_click=_unlock, args=(f"{key}_password",))
    if st.session_state.get(f"{key}_password_wrong"):
        st.error("That is not the teacher password.")
    return False


@st.cache_resource(show_spinner=False)
def _open_store(url: str, retention: str | None) -> DrawingStore:
    return DrawingStore(url, retention_days=retention)


def _store() -> DrawingStore:
    """The shared store of the configured URL and retention (raises StoreError)."""
    return _open_store(store_url(), setting(RETENTION_ENV))


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
        return _store()
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


def as_png(canvas) -> bytes | None:
    """The canvas as PNG bytes (already PNG bytes, a PIL image, or an RGBA / grey array).

    Pictures larger than the canvas are scaled down to fit it (CANVAS px a side), and
    any mode is made 8-bit first: what is kept with a drawing stays small (well under
    :data:`~mnist_knn.classroom.limits.MAX_PNG_BYTES`) whatever was uploaded.
    """
    if canvas is None or isinstance(canvas, bytes | bytearray):
        return bytes(canvas) if canvas else None
    if isinstance(canvas, Image.Image):
        image = eight_bit(canvas)
    else:  # the drawable canvas gives uint8 RGBA; be lenient with other numeric arrays
        image = Image.fromarray(np.clip(np.asarray(canvas), 0, 255).astype(np.uint8))
    if max(image.size) > CANVAS:
        image = image.copy()
        image.thumbnail((CANVAS, CANVAS), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _feedback_save(state_key: str, digest: str, label: int, drawing: dict) -> None:
    if isinstance(drawing["canvas_png"], np.ndarray):  # the canvas: made PNG only now
        drawing = dict(drawing, canvas_png=as_png(drawing["canvas_png"]))
    try:
        store = _store()
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
        _store().delete([drawing_id])
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
        article, digit = a_digit(label).split()
        col_text.success(
            f"Saved as {article} **{digit}** to the class's drawings{where}. Thank you!"
        )
        col_undo.button(
            "Remove it",
            icon=":material/remove_circle_outline:",
            key=f"{key_prefix}_feedback_undo",
            on_click=_feedback_undo,
            args=(state_key, digest),
            help="Delete this drawing from the class's drawings again.",
        )
    else:
        drawing = dict(
            image=image28,
            # The canvas's array (already kept in session state) is made PNG only when
            # saved: encoding it on every drawing was 5 ms of each Draw rerun. A picture
            # (an upload) is made small PNG bytes now, not kept whole for the callback.
            canvas_png=canvas_png if isinstance(canvas_png, np.ndarray) else as_png(canvas_png),
            predicted=int(prediction),
            proba=np.asarray(proba, dtype=np.float64),
            preset=preset,
            k=int(k),
            room=current_room(),
        )
        article, digit = a_digit(prediction).split()
        st.markdown(f"**Right?** The model read {article} **{digit}**.")
        col_yes, col_no = st.columns([1, 3], vertical_alignment="bottom")
        col_yes.button(
            f"✓ Yes, it's {a_digit(prediction)}",
            key=f"{key_prefix}_feedback_yes",
            on_click=_feedback_save,
            args=(state_key, digest, int(prediction), drawing),
            type="primary",
        )
        pick_key = f"{key_prefix}_feedback_true"
        # Pills wrap onto a second line on a phone (a segmented control clipped the 9).
        col_no.pills(
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


def use_drawings_effect(
    preset: str, items: Drawings
) -> tuple[KNNPipeline, UseEffect] | tuple[None, None]:
    """The preset refitted with ``items`` added to its training set, and what it changes.

    Cached apart from the plain model, by preset and the drawings' content; the
    first computation shows its progress in an ``st.status``. More drawings than
    :data:`~mnist_knn.classroom.limits.MAX_USE_DRAWINGS` get a message and (None, None).
    """
    if len(items) > MAX_USE_DRAWINGS:
        st.warning(
            f"{len(items):,} drawings are more than the {MAX_USE_DRAWINGS:,} that can be added "
            "to the training set at once: choose one room."
        )
        return None, None
    key = (preset, items.digest())
    cache = _refits()
    if key not in cache:
        artifact = get_artifact(preset)
        result = build_visibly(
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
