"""AppTest of the Draw page through the router (AppTest cannot draw: images are uploaded)."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnist_knn import ui
from mnist_knn.synthetic import SEVEN, ZERO, stroke_image
from tests.support.apptest import open_page
from tests.support.paths import APP


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def draw_page():
    return open_page("draw", 120)


def prediction(at: AppTest) -> tuple[str, str] | None:
    """The Draw page's big prediction, ("7", "sure") or ("7?", "not sure"), or None."""
    for element in at.get("html"):
        found = re.search(r'aria-label="Prediction: (\S+), ([a-z ]+)"', element.proto.body)
        if found:
            return found.group(1), found.group(2)
    return None


def upload(at: AppTest, name: str, content: bytes, mime: str = "image/png") -> AppTest:
    at.segmented_control(key="draw_source").set_value("Upload").run()
    at.file_uploader(key="draw_upload").set_value((name, content, mime)).run()
    assert not at.exception
    return at


def test_blank_canvas_prompts_to_draw_without_a_prediction(draw_page):
    at = draw_page
    assert at.title[0].value == "Draw a digit"
    assert "Draw a digit" in at.info[0].value
    assert prediction(at) is None and len(at.error) == 0
    assert at.button(key="draw_canvas_clear").label == "Clear"
    assert at.button(key="draw_canvas_undo").label == "Undo stroke"
    assert at.button(key="draw_canvas_undo").disabled  # nothing to take back
    # The controls above the canvas, with the preset's k and weighting and the derived brush.
    assert at.slider(key="draw_k").value == 4
    assert at.radio(key="draw_weights").value == "distance"
    assert at.slider(key="draw_brush").value == 23


def test_clear_reloads_the_canvas_in_place(draw_page):
    at = draw_page
    before = at.session_state["draw_canvas_state"]["initial"][ui.CLEARS_MARK]
    at.button(key="draw_canvas_clear").click().run()
    state = at.session_state["draw_canvas_state"]
    assert state["initial"] == {"objects": [], ui.CLEARS_MARK: before + 1}
    assert state["replaced"] is None  # nothing was drawn
    assert "Draw a digit" in at.info[0].value


def test_a_drawing_kept_from_an_earlier_visit_is_restored_and_read(draw_page):
    """A canvas mounted again (back from another page or from Upload) starts with the last
    strokes, and the page reads their picture, not an empty canvas."""
    at = draw_page
    seven = png(stroke_image(SEVEN, width=23))
    stroke = {"type": "path", "path": [["M", 84, 70], ["L", 196, 70], ["L", 126, 224]]}
    at.session_state["draw_canvas_state"] = {
        "initial": {"objects": [], ui.CLEARS_MARK: 3},
        "objects": [stroke],
        "png": seven,
        "replaced": None,
    }
    at.segmented_control(key="draw_source").set_value("Upload").run()
    assert prediction(at) is None  # the drawing is not on screen
    at.segmented_control(key="draw_source").set_value("Draw").run()
    assert not at.exception
    assert at.session_state["draw_canvas_state"]["initial"] == {
        "objects": [stroke],
        ui.CLEARS_MARK: 4,
    }
    assert prediction(at) == ("7", "sure")
    assert not at.button(key="draw_canvas_undo").disabled


def test_upload_mode_without_a_file_shows_no_answer(draw_page):
    at = draw_page
    at.segmented_control(key="draw_source").set_value("Upload").run()
    assert prediction(at) is None
    assert "Upload a picture" in at.info[0].value


def test_uploaded_seven_is_predicted_with_neighbours_and_chart(draw_page):
    at = upload(draw_page, "seven.png", png(stroke_image(SEVEN, width=23)))
    assert prediction(at) == ("7", "sure")
    assert at.success[0].value == "All 4 nearest training digits are 7s."
    images = at.get("image")
    captions = [c for img in images for c in img.captions]
    assert "seven.png" in captions
    assert "What the model reads: 28×28 pixels" in captions
    neighbours = [c for c in captions if "· dist" in c]
    assert len(neighbours) == 4 and all(c.startswith("7 · dist ") for c in neighbours)
    assert len(at.get("plotly_chart")) == 1
    assert "#### Why: the 4 training digits closest to yours" in [m.value for m in at.markdown]
    assert at.caption[-1].value.startswith("Vote: **7** × 4 (100%).")


def test_k_and_weights_re_classify_immediately(draw_page):
    at = upload(draw_page, "zero.png", png(stroke_image(ZERO, width=23)))
    at.slider(key="draw_k").set_value(1).run()
    assert prediction(at)[0] == "0"
    assert "#### Why: the 1 training digit closest to yours" in [m.value for m in at.markdown]
    assert len([c for img in at.get("image") for c in img.captions if "· dist" in c]) == 1
    at.slider(key="draw_k").set_value(9)
    at.radio(key="draw_weights").set_value("uniform").run()
    assert prediction(at)[0] == "0"
    vote = at.caption[-1].value
    assert vote.startswith("Vote: **0** ×") and "Each neighbour counts once." in vote
    assert len([c for img in at.get("image") for c in img.captions if "· dist" in c]) == 9


def test_an_unreadable_upload_names_the_file(draw_page):
    at = upload(draw_page, "notes.png", b"these are my notes, not a picture")
    assert len(at.error) == 1
    assert at.error[0].value.startswith("notes.png: not a readable image; upload a PNG")
    assert prediction(at) is None


def test_a_blank_upload_finds_no_digit(draw_page):
    at = upload(draw_page, "blank.png", png(Image.new("RGB", (64, 64), "white")))
    assert at.warning[0].value == "blank.png: no digit found, the picture looks blank."
    assert prediction(at) is None and len(at.error) == 0


def covered_canvas_script():
    import numpy as np

    from mnist_knn import ui

    covered = np.zeros((280, 280, 4), np.uint8)  # the canvas's RGBA, black all over
    covered[..., 3] = 255
    blank = np.full((280, 280, 4), 255, np.uint8)
    assert ui.drawing_steps(covered) is None
    assert ui.drawing_steps(blank) is None


def test_a_canvas_inked_all_over_says_so_and_a_blank_one_does_not():
    at = AppTest.from_function(covered_canvas_script).run()
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "The box is inked all over, so there is no digit shape to read. "
        "Press **Clear** and draw one digit."
    ]


@pytest.mark.parametrize("mode", ["I;16", "CMYK"])
def test_a_16_bit_or_cmyk_upload_is_predicted_and_saved(draw_page, mode, tmp_path, monkeypatch):
    from mnist_knn.classroom.store import DrawingStore

    monkeypatch.setenv("MNIST_KNN_STORE", str(tmp_path / "class.sqlite"))
    seven = stroke_image(SEVEN, width=23).convert("L")
    if mode == "I;16":
        import numpy as np

        image, fmt = Image.fromarray(np.asarray(seven).astype(np.uint16) * 257), "PNG"
    else:
        image, fmt = seven.convert("CMYK"), "JPEG"
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    at = upload(draw_page, f"seven.{fmt.lower()}", buf.getvalue())
    assert not at.error
    assert prediction(at)[0].rstrip("?") == "7"
    at.button(key="draw_feedback_yes").click().run()
    assert not at.exception and not at.error
    assert any("Saved as a **7**" in s.value for s in at.success)
    saved = DrawingStore(tmp_path / "class.sqlite").query(with_png=True)
    assert len(saved) == 1 and Image.open(io.BytesIO(saved.png[0])).mode in ("L", "RGB")


def test_presenter_view_big_canvas_answer_and_neighbours_and_back():
    """/draw?presenter=1: the big canvas (its picture read at the usual size), the big
    answer, the k neighbours; no controls. The switch goes back with k kept."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["draw_k"] = 6  # chosen in the normal view
    at.query_params["presenter"] = "1"
    seven = stroke_image(SEVEN, width=23).resize((ui.PRESENTER_CANVAS,) * 2)
    at.session_state["draw_canvas_presenter_state"] = {
        "initial": {"objects": [], ui.CLEARS_MARK: 0},
        "objects": [{"type": "path", "path": [["M", 132, 110], ["L", 308, 110]]}],
        "png": png(seven),
        "replaced": None,
    }
    at.run().switch_page("app_pages/draw.py").run()
    assert not at.exception
    assert at.toggle(key=ui.PRESENTER_KEY).value is True
    assert prediction(at) == ("7", "sure")
    digit = next(e.proto.body for e in at.get("html") if "mnist-prediction-digit" in e.proto.body)
    assert f"font-size:{ui.PRESENTER_PREDICTION_PX}px" in digit
    assert "The 6 closest training digits" in "\n".join(m.value for m in at.markdown)
    (neighbours,) = at.image  # the neighbours, nothing else
    assert len(neighbours.captions) == 6 and neighbours.captions.count("7") >= 4
    assert not at.get("slider")  # no k, no brush: a projector shows the drawing and answer
    assert any('[data-testid="stSidebar"]' in e.proto.body for e in at.get("html"))

    at.toggle(key=ui.PRESENTER_KEY).set_value(False).run()
    assert not at.exception
    assert "presenter" not in at.query_params
    assert at.slider(key="draw_k").value == 6  # kept while its slider was not shown
    assert at.slider(key="draw_brush").value == 23
    # The normal view's button opens it again, and the address says so.
    at.button(key="draw_presenter_open").click().run()
    assert not at.exception and not at.get("slider")
    assert at.query_params["presenter"] == "1"
    assert prediction(at) == ("7", "sure")


def test_best_preset_shows_each_neighbour_moved_to_match_the_drawing():
    at = open_page("draw", 300, preset="best")
    at = upload(at, "seven.png", png(stroke_image(SEVEN, width=23)))
    assert prediction(at)[0] == "7"
    assert not [c for c in at.caption if c.value.startswith("→ ")]  # on request only
    at.toggle(key="draw_moves").set_value(True).run()
    assert not at.exception
    pairs = [img for img in at.get("image") if any("· dist" in c for c in img.captions)]
    assert len(pairs) == 4
    moves = [c.value for c in at.caption if c.value.startswith("→ ")]
    assert (
        len(moves) == 4
    )  # one "→ turned 3° clockwise, ..." (or "→ already lined up") per neighbour
    assert any("tangent distance matched it" in c.value for c in at.caption)


def test_default_preset_shows_the_variant_each_neighbour_matched_as(draw_page):
    """default measures its candidates against deformed variants: each neighbour matched by
    one has beside it that variant and the deformation in words, exactly as the search says."""
    from mnist_knn import reading
    from mnist_knn.preprocess import to_mnist
    from mnist_knn.teaching import VARIANT_WORDS
    from mnist_knn.trained import load_artifact

    drawing = stroke_image(SEVEN, width=23)
    model = load_artifact("default").model
    found = reading.search(model, to_mnist(drawing))
    expected = [VARIANT_WORDS[model.variants[v]] for v in found.variant[0, :4] if v >= 0]
    at = upload(draw_page, "seven.png", png(drawing))
    assert not at.exception and prediction(at)[0] == "7"
    notes = [c.value[2:] for c in at.caption if c.value.startswith("→ ")]
    assert notes == expected and expected  # this seven matches some neighbours deformed
    explained = any("matched better slightly deformed" in c.value for c in at.caption)
    assert explained == bool(expected)
    # k re-votes the same search: 8 neighbours, the first 4 matched as before.
    at.slider(key="draw_k").set_value(8).run()
    more = [c.value[2:] for c in at.caption if c.value.startswith("→ ")]
    assert more[: len(expected)] == expected
    assert more == [VARIANT_WORDS[model.variants[v]] for v in found.variant[0, :8] if v >= 0]
