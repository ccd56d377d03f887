"""AppTest of ui.drawing_feedback, the "Right?" question the Draw page asks after a prediction."""

from __future__ import annotations

import io
import socket

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnist_knn import to_mnist, ui
from mnist_knn.classroom.store import DrawingStore
from mnist_knn.reading import a_digit
from mnist_knn.synthetic import hand_drawing
from tests.support.paths import FEEDBACK_APP as APP


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    path = tmp_path / "class.sqlite"
    monkeypatch.setenv("MNIST_KNN_STORE", str(path))
    return path


def run_app(digit: int = 7, seed: int = 0, room: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["test_digit"] = digit
    at.session_state["test_seed"] = seed
    at.run()
    if room is not None:
        at.sidebar.text_input(key="class_room").input(room).run()
    assert not at.exception
    return at


def predicted(at: AppTest) -> int:
    return int(at.header[0].value.split()[-1])


def test_yes_saves_the_drawing_once_with_everything(store_path):
    at = run_app(7, room="5B 'quoted' 🦄")
    label = predicted(at)
    assert at.button(key="test_feedback_yes").label == f"✓ Yes, it's {a_digit(label)}"
    at.button(key="test_feedback_yes").click().run()
    assert not at.exception
    store = DrawingStore(store_path)
    got = store.query(with_png=True)
    assert len(got) == 1
    assert at.text[0].value == f"saved id: {got.ids[0]}"
    canvas = hand_drawing(7, np.random.default_rng(0))
    np.testing.assert_array_equal(got.images[0], to_mnist(canvas))
    png = np.asarray(Image.open(io.BytesIO(got.png[0])))
    np.testing.assert_array_equal(png, np.asarray(canvas))  # the canvas, pixel for pixel
    assert got.true_labels[0] == label and got.predicted[0] == label
    assert got.room[0] == "5B 'quoted' 🦄" and got.preset[0] == "default" and got.k[0] == 4
    assert got.proba[0].argmax() == label and got.proba[0].sum() == pytest.approx(1)
    assert len(got.session_id[0]) == 32
    article = "an" if label == 8 else "a"
    assert f"Saved as {article} **{label}**" in at.success[0].value
    # Rerunning (a new k, a resize...) does not save the same drawing again.
    at.run()
    assert store.count() == 1
    assert [b.key for b in at.button] == ["test_feedback_undo"]


def test_picking_the_true_digit_saves_it_and_undo_removes_it(store_path):
    at = run_app(4, seed=2)
    label = predicted(at)
    choice = at.pills(key="test_feedback_true")
    assert label not in choice.options and len(choice.options) == 9
    wrong = next(d for d in range(10) if d != label)
    choice.set_value(wrong).run()
    assert not at.exception
    store = DrawingStore(store_path)
    got = store.query()
    assert (got.true_labels.tolist(), got.predicted.tolist()) == ([wrong], [label])
    assert got.room.tolist() == [""]
    at.button(key="test_feedback_undo").click().run()
    assert not at.exception
    assert store.count() == 0
    assert at.button(key="test_feedback_yes")  # the question is back
    assert at.text[0].value == "saved id: None"


def test_two_sessions_get_different_anonymous_ids(store_path):
    for seed in (0, 1):
        at = run_app(1, seed=seed)
        at.button(key="test_feedback_yes").click().run()
    sessions = DrawingStore(store_path).query().session_id
    assert len(set(sessions)) == 2


def test_an_unreachable_store_is_a_message_not_a_traceback(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MNIST_KNN_STORE", f"postgresql://teach:pw-secret@127.0.0.1:{port}/c")
    at = run_app(7)
    at.button(key="test_feedback_yes").click().run()
    assert not at.exception
    message = at.error[0].value
    assert message.startswith("The drawing could not be saved.")
    assert f"teach:***@127.0.0.1:{port}/c" in message and "pw-secret" not in message
    assert at.button(key="test_feedback_yes")  # still asking: nothing was saved
    at.session_state["test_seed"] = 5  # the next drawing: the old error is not about it
    at.run()
    assert not at.error


def test_the_canvas_becomes_a_png_whatever_its_form():
    canvas = hand_drawing(3, np.random.default_rng(1))
    rgba = np.asarray(canvas)
    for given in (canvas, rgba, rgba.astype(np.float32), ui.as_png(canvas)):
        png = ui.as_png(given)
        assert png.startswith(b"\x89PNG")
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png))), rgba)
    assert ui.as_png(None) is None and ui.as_png(b"") is None
