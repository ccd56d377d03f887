"""Round trip: draw -> "Right?" -> the page shows it -> export -> delete -> re-import -> equal."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mnist_knn import data as mnist_data
from mnist_knn import ui
from mnist_knn.classroom.exchange import IDX_IMAGES, IDX_LABELS
from mnist_knn.classroom.store import DrawingStore
from tests.support.apptest import open_page
from tests.support.drawing_checks import assert_same_drawings
from tests.support.paths import FEEDBACK_APP

ROOM = "Room 7 · O'Neil's 🧮"
PASSWORD = "correct horse"


@pytest.fixture(autouse=True)
def teacher_password(monkeypatch):
    monkeypatch.setenv(ui.TEACHER_ENV, PASSWORD)


def draw_and_answer(digit: int, seed: int, correct: bool) -> tuple[int, int]:
    """One person draws ``digit`` and answers "Right?"; returns (digit read, digit saved).

    ``correct=False`` answers with another digit than the model read (a correction).
    """
    at = AppTest.from_file(FEEDBACK_APP, default_timeout=120)
    at.session_state["test_digit"] = digit
    at.session_state["test_seed"] = seed
    at.session_state["class_room"] = ROOM
    at.run()
    read = int(at.header[0].value.split()[-1])
    answer = digit if read != digit else (digit + 1) % 10
    if correct and read == digit:
        answer = read
        at.button(key="test_feedback_yes").click().run()
    else:
        at.pills(key="test_feedback_true").set_value(answer).run()
    assert not at.exception
    assert f"Saved as {'an' if answer == 8 else 'a'} **{answer}**" in at.success[0].value
    return read, answer


def class_page() -> AppTest:
    """The page as the teacher sees it (unlocked: export, import and delete shown)."""
    return open_page(
        "class_drawings", 180, class_room=ROOM, class_teacher=ui.teacher_token(PASSWORD)
    )


@pytest.mark.parametrize("fmt", ["npz", "csv", "zip"])
def test_draw_save_page_export_reimport(tmp_path, monkeypatch, fmt):
    path = tmp_path / "class.sqlite"
    monkeypatch.setenv("MNIST_KNN_STORE", str(path))
    answers = [draw_and_answer(d, seed, correct=True) for seed, d in enumerate((0, 3, 7, 8))]
    answers.append(draw_and_answer(2, 9, correct=False))
    store = DrawingStore(path)
    original = store.query(room=ROOM, with_png=True)
    assert original.predicted.tolist() == [read for read, _ in answers]
    assert original.true_labels.tolist() == [true for _, true in answers]
    assert original.true_labels[4] != original.predicted[4]  # the correction

    # The page shows them (newest first), in the sidebar's room.
    at = class_page()
    assert at.selectbox(key="class_drawings_filter_room").value == ROOM
    assert {m.label: m.value for m in at.metric}["Drawings"] == "5"
    captions = at.get("image")[0].captions
    assert [c.split(" → ")[0] for c in captions] == [str(t) for _, t in reversed(answers)]

    # Export with the function behind the page's download button, then empty the room.
    export = dict((ext, fn) for _, fn, ext, _ in ui.EXPORTS)[fmt]
    payload = export(store.query(room=ROOM, with_png=True))
    at.checkbox(key="class_drawings_delete_room_sure").check().run()
    at.button(key="class_drawings_delete_room_go").click().run()
    assert store.count() == 0

    # Re-import through the page's uploader.
    at = class_page()
    at.file_uploader(key="class_drawings_import_file").set_value(
        (f"class.{fmt}", payload, "x/y")
    ).run()
    at.button(key="class_drawings_import_go").click().run()
    assert not at.exception
    assert at.success[0].value == f"Imported 5 drawings from class.{fmt}."
    back = store.query(room=ROOM, with_png=True)
    if fmt == "npz":
        assert_same_drawings(back, original)  # everything, canvas PNGs included
    elif fmt == "csv":
        assert_same_drawings(back, original, png=False)
    else:  # IDX holds images and labels; the current model reads them again
        np.testing.assert_array_equal(back.images, original.images)
        np.testing.assert_array_equal(back.true_labels, original.true_labels)
        np.testing.assert_array_equal(back.predicted, original.predicted)
        with zipfile.ZipFile(io.BytesIO(payload)) as zf:
            zf.extractall(tmp_path)
        np.testing.assert_array_equal(mnist_data.read_idx(tmp_path / IDX_IMAGES), back.images)
        labels = mnist_data.read_idx(tmp_path / IDX_LABELS)
        np.testing.assert_array_equal(labels, [t for _, t in answers])
    assert {m.label: m.value for m in at.metric}["Drawings"] == "5"
