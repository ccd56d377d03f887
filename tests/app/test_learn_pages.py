"""AppTest of the teaching pages: How it works, Compare models, Digit map."""

from __future__ import annotations

import io

import numpy as np
import pytest
import streamlit as st

from mnist_knn import load_mnist, ui
from mnist_knn.evaluation import digit_map
from mnist_knn.synthetic import ONE, stroke_image
from tests.support.apptest import open_page


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def frame(at, column):
    """The table that has ``column`` (AppTest does not expose a dataframe's key)."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------ How it works


def test_how_it_works_explains_a_test_digit_without_a_drawing():
    at = open_page("how_it_works")
    assert at.title[0].value == "How it works"
    assert at.radio(key="how_it_works_source").options == ["A test digit", "An uploaded image"]
    assert "Test digit #0 (a **7**)" in at.caption[1].value
    assert [h.value for h in at.header][:2] == [
        "1. From drawing to 28×28",
        "2. The distance to every training digit (3,000)",
    ]
    ablation = frame(at, "switched_off")
    assert ablation["switched_off"].tolist() == [
        "nothing",
        "Cropped",
        "Stroke width evened",
        "Fitted to 20×20",
        "Centred by mass",
        "Deskewed",
        "Blurred",  # the default preset's image steps: deskew, then blur
        "Cropped, Stroke width evened, Fitted to 20×20, Centred by mass, Deskewed, Blurred",
    ]
    assert metric(at, "Prediction with every step") == "7"
    assert len(frame(at, "share")) == 4  # the default preset's k
    assert "knn_from_scratch" in at.code[0].value
    assert any("Same prediction, same 4 neighbours" in s.value for s in at.success)
    # default searches on edge directions and does not re-rank: no deformations to show.
    markdown = "\n".join(m.value for m in at.markdown)
    assert "distance between the 60 numbers of the drawing" in markdown
    assert "The deformation that made each neighbour match" not in markdown
    at.select_slider(key="how_it_works_step").set_value("model").run()
    markdown = "\n".join(m.value for m in at.markdown)
    assert "principal components of the training edge maps" in markdown
    assert "in each of 8 directions" in markdown


def test_how_it_works_with_best_shows_the_re_ranking_and_each_deformation():
    at = open_page("how_it_works", preset="best")
    markdown = "\n".join(m.value for m in at.markdown)
    assert "first takes the 30 nearest" in markdown and "adds 2 × this distance" in markdown
    assert "The deformation that made each neighbour match" in markdown
    moves = [c.value for c in at.caption if c.value.startswith("→ ")]
    assert len(moves) == 4, moves


def test_how_it_works_switching_steps_off_and_k():
    at = open_page("how_it_works")
    ablation = frame(at, "switched_off")
    at.toggle(key="how_it_works_on_crop").set_value(False).run()
    assert not at.exception
    assert metric(at, "With the steps switched as above") == str(ablation["label"][1])
    assert any("Switched off" in w.value for w in at.warning) is False  # only on its step
    at.select_slider(key="how_it_works_step").set_value("crop").run()
    assert any("The whole canvas is kept" in w.value for w in at.warning)
    at.slider(key="how_it_works_k").set_value(7).run()
    votes = frame(at, "share")
    assert len(votes) == 7 and votes["share"].sum() == pytest.approx(1)
    at.button(key="how_it_works_check").click().run()
    assert metric(at, "Same prediction") == "200 of 200"


def test_how_it_works_uses_the_drawing_from_the_draw_page():
    drawing = np.asarray(stroke_image(ONE))
    at = open_page("how_it_works", **{ui.CURRENT_DRAWING_KEY: drawing})
    assert at.radio(key="how_it_works_source").value == "drawing"
    assert metric(at, "Prediction with every step") == "1"
    # An empty canvas counts as no drawing.
    blank = np.zeros((280, 280, 4), dtype=np.uint8)
    at = open_page("how_it_works", **{ui.CURRENT_DRAWING_KEY: blank})
    assert at.radio(key="how_it_works_source").options == ["A test digit", "An uploaded image"]


def test_how_it_works_upload_and_a_bad_upload():
    at = open_page("how_it_works")
    at.radio(key="how_it_works_source").set_value("upload").run()
    assert any("Upload a picture" in i.value for i in at.info)
    image = stroke_image(ONE, mode="RGB", background=(255, 255, 255), ink=(0, 0, 0))
    at.file_uploader(key="how_it_works_upload").upload("one.png", png(image), "image/png").run()
    assert not at.exception
    assert metric(at, "Prediction with every step") == "1"
    at.file_uploader(key="how_it_works_upload").set_value(("bad.png", b"nope", "image/png")).run()
    assert not at.exception
    assert any("bad.png" in i.value and "not a readable image" in i.value for i in at.info)


def test_how_it_works_on_the_baseline_preset_has_no_deskew_step():
    at = open_page("how_it_works", preset="baseline")
    assert len(frame(at, "switched_off")) == 6
    assert [t.key for t in at.toggle] == [
        "how_it_works_on_crop",
        "how_it_works_on_stroke",
        "how_it_works_on_fit",
        "how_it_works_on_centre",
    ]
    assert any("between the 784 numbers of the drawing" in m.value for m in at.markdown)


# ------------------------------------------------------------------ Compare models


def test_compare_models_builds_on_request_then_shows_the_table(models_dir):
    at = open_page("compare_models")
    assert any("python -m mnist_knn compare" in i.value for i in at.info)
    assert not at.dataframe
    at.button(key="compare_models_build").click().run()
    assert not at.exception
    table = frame(at, "errors")
    assert table.index.tolist() == [
        "Logistic regression",
        "Linear SVM",
        "RBF SVM on PCA",
        "Random forest",
        "Small CNN",
        "KNN (baseline)",
        "KNN (default)",
        "KNN (best)",
    ]
    assert (table["accuracy"] > 0.75).all()
    # Every model is fitted on the fixture's 3,000 digits but the CNN, shipped trained on 60,000.
    assert table["n_train"].tolist() == [3000] * 4 + [60000] + [3000] * 3
    assert (table["errors"] == ((1 - table["accuracy"]) * 500).round()).all()
    assert (table["drawing_ms"] > 0).all() and "real_accuracy" not in table
    assert table.loc["Small CNN", "accuracy"] >= 0.98
    assert any(h.value == "KNN or CNN?" for h in at.subheader)
    assert any("What only the KNN offers" in m.value for m in at.markdown)
    assert at.segmented_control(key="compare_models_metric").value == "accuracy"
    votes = frame(at, "probability")
    assert len(votes) == 8 and set(votes["prediction"]) <= set("0123456789")
    assert votes["probability"].tolist()[1:3] == ["", ""]  # the SVMs
    assert votes["probability"].tolist()[4].endswith("%")  # the CNN's softmax
    # A later visit reads the artifact and shows the same table at once.
    again = open_page("compare_models", **{ui.CURRENT_DRAWING_KEY: np.asarray(stroke_image(ONE))})
    assert not again.info or not any("compare`" in i.value for i in again.info)
    assert frame(again, "errors").equals(table)
    assert frame(again, "probability")["prediction"].tolist().count("1") >= 6
    # A tampered model file (same size, other bytes) is a message, not a traceback: the
    # table still shows, the KNN presets still answer, the forest says "not built".
    forest = models_dir / "compare-random_forest.skops"
    raw = bytearray(forest.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    forest.write_bytes(bytes(raw))
    st.cache_resource.clear()  # as a restarted server: nothing loaded or cached yet
    st.cache_data.clear()
    tampered = open_page(
        "compare_models", **{ui.CURRENT_DRAWING_KEY: np.asarray(stroke_image(ONE))}
    )
    assert any(
        "could not be loaded" in w.value and "compare-random_forest.skops" in w.value
        for w in tampered.warning
    )
    answered = frame(tampered, "probability").set_index("model")["prediction"]
    assert answered["Random forest"] == "not built" and answered["KNN (default)"] == "1"


# ------------------------------------------------------------------ Digit map


@pytest.fixture
def small_map(models_dir):
    return digit_map.load_map(load_mnist(download=False), per_class=20, max_iter=300)


def test_digit_map_shows_the_map_the_drawing_and_regions(small_map):
    at = open_page("digit_map", **{ui.CURRENT_DRAWING_KEY: np.asarray(stroke_image(ONE))})
    assert at.title[0].value == "Digit map"
    assert at.segmented_control(key="digit_map_method").value == "tsne"
    side = " ".join(m.value for m in at.markdown)
    assert "On this map its 5 nearest points say **1**" in side
    assert "says **1**" in side
    assert "200 training digits, up to 20 of each" in at.caption[-1].value
    at.segmented_control(key="digit_map_method").set_value("pca").run()
    at.slider(key="digit_map_k").set_value(1).run()
    at.toggle(key="digit_map_pictures").set_value(True).run()
    assert not at.exception
    assert any("Click a point" in i.value for i in at.info)


def test_digit_map_is_built_with_progress_when_missing(models_dir, monkeypatch):
    monkeypatch.setitem(digit_map.DEFAULTS, "per_class", 12)
    monkeypatch.setitem(digit_map.DEFAULTS, "max_iter", 300)
    at = open_page("digit_map")
    assert digit_map.map_problem(load_mnist(download=False)) is None
    assert "120 training digits, up to 12 of each" in at.caption[-1].value
