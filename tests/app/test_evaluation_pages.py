"""An AppTest per evaluation page: no exception, the key elements present, the widgets work.

Runs on the conftest subset (3,000 training / 500 test digits) with a temporary
models/: the first page builds the artifacts it needs, as a first start would.
"""

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import by_name, in_section
from mnist_knn.evaluation.tuning import load_tuning
from tests.support.apptest import open_page
from tests.support.paths import APP, ROOT

EVALUATION_PAGES = [
    "dataset",
    "metrics",
    "confusion",
    "roc",
    "precision_recall",
    "misclassified",
    "tuning",
]


def run_page(name: str, **state) -> AppTest:
    at = open_page(name, **state)
    assert_ok(at)
    return at


def assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def figure_titles(at: AppTest) -> list[str]:
    return [f["layout"].get("title", {}).get("text", "") for f in figures(at)]


def values(array) -> np.ndarray:
    """A figure's array from the page's JSON (plotly sends numpy arrays as base64 "bdata")."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize("name", EVALUATION_PAGES)
def test_every_page_runs_twice_without_error(name):
    at = run_page(name)
    assert at.title[0].value
    at.run()  # a warm rerun, from the caches
    assert_ok(at)


def test_navigation_groups_the_evaluation_pages():
    assert [page.name for page in in_section("Evaluation")] == EVALUATION_PAGES
    for name in EVALUATION_PAGES:
        assert Path(ROOT / by_name(name).path).is_file(), name
    # the router builds its navigation from that list, section by section
    assert re.search(r"for page in PAGES:", Path(APP).read_text())


def test_dataset_page():
    at = run_page("dataset")
    assert at.title[0].value == "Dataset"
    titles = figure_titles(at)
    assert titles[0].startswith("Class balance")
    assert "Mean image of each digit (training set)" in titles
    assert len(figures(at)) == 3  # balance, first 100, means
    assert at.image[0].captions == ["#0: a 5"]  # the browsed digit
    grid = figures(at)[1]
    assert grid["data"][0]["type"] == "image" and len(grid["data"][2]["text"]) == 100
    assert "**training digit #0**" in markdown(at)

    at.selectbox(key="dataset_digit").select(7).run()
    assert_ok(at)
    assert "labelled **7**" in markdown(at)
    at.segmented_control(key="dataset_split").set_value("test").run()
    assert_ok(at)
    assert "**test digit #" in markdown(at) and "The **default** model says" in markdown(at)
    # a position beyond the new pool is clamped instead of failing
    at.selectbox(key="dataset_digit").select("any").run()
    at.number_input(key="dataset_position").set_value(499).run()
    at.selectbox(key="dataset_digit").select(5).run()
    assert_ok(at)
    assert at.number_input(key="dataset_position").value < 499


def test_metrics_page_builds_the_baseline_only_when_asked(models_dir):
    at = run_page("metrics")
    assert list(at.dataframe[0].value.columns) == ["Metric", "default"]
    assert any("**baseline** model (raw pixels, k=4)" in i.value for i in at.info)
    assert not (models_dir / "baseline.npz").exists()  # nothing built behind the visitor's back
    at.button(key="metrics_build_baseline").click().run()
    assert_ok(at)
    assert (models_dir / "baseline.npz").exists()
    assert list(at.dataframe[0].value.columns)[2] == "baseline (raw pixels, k=4)"
    assert not any("**baseline** model" in i.value for i in at.info)
    assert not at.get("button") or all(b.key != "metrics_build_baseline" for b in at.button)


def test_metrics_page_compares_with_the_baseline():
    from mnist_knn.trained import load_artifact

    load_artifact("baseline")  # built already, as a server that has built it has
    at = run_page("metrics")
    (table,) = at.dataframe
    df = table.value
    assert list(df.columns) == ["Metric", "default", "baseline (raw pixels, k=4)", "Difference"]
    assert len(df) == 13
    for label in [
        "Accuracy",
        "Precision (macro)",
        "F1 (weighted)",
        "ROC-AUC (one-vs-rest, macro)",
        "Cohen's kappa",
        "Matthews correlation",
        "Top-3 accuracy",
        "10-fold CV accuracy (training set)",
    ]:
        assert label in set(df["Metric"])
    accuracy = df.set_index("Metric").loc["Accuracy"].map(float)
    assert 0.8 < accuracy["default"] <= 1 and 0.8 < accuracy["baseline (raw pixels, k=4)"] <= 1
    # A metric not computed yet says so (it used to show a literal "None").
    cv = df.set_index("Metric").loc["10-fold CV accuracy (training set)"]
    assert "None" not in set(df.stack().astype(str))
    assert cv["default"] == "not computed yet" or 0.8 < float(cv["default"]) <= 1
    assert figure_titles(at) == ["Per-class precision, recall, F1 and support"]


def test_metrics_page_shows_the_cross_validated_accuracy_once_tuned():
    tuning = load_tuning("baseline")  # computes it on the small subset if needed
    at = run_page("metrics", preset="baseline")
    df = at.dataframe[0].value.set_index("Metric")
    assert list(df.columns) == ["baseline"]  # no comparison with itself
    cv = df.loc["10-fold CV accuracy (training set)", "baseline"]
    assert float(cv) == pytest.approx(tuning.accuracy(4, "distance"), abs=5e-5)  # 4 places
    assert not any("tune" in i.value for i in at.info)


def test_confusion_page_shows_the_chosen_cell():
    at = run_page("confusion")
    assert figure_titles(at) == ["Confusion matrix (counts)"]
    fig = figures(at)[0]
    assert [t["type"] for t in fig["data"]] == ["heatmap", "heatmap", "scatter"]
    true, pred = at.selectbox(key="confusion_true").value, at.selectbox(key="confusion_pred").value
    assert true != pred  # starts on the most frequent mistake
    assert fig["layout"]["shapes"][0]["x0"] == pred - 0.5
    assert f"true **{true}**, predicted **{pred}**" in markdown(at)
    assert at.image  # its digits

    at.segmented_control(key="confusion_normalise").set_value("By true digit").run()
    assert_ok(at)
    assert figure_titles(at)[0].startswith("Confusion matrix, normalised by true digit")
    at.selectbox(key="confusion_true").select(3).run()
    at.selectbox(key="confusion_pred").select(3).run()
    assert_ok(at)
    assert "right answers**: true **3**, predicted **3**" in markdown(at)
    captions = at.image[0].captions
    assert captions and all(c.startswith("#") and c.endswith("%") for c in captions)


def test_roc_page_toggles():
    at = run_page("roc")
    assert "distance-weighted" in markdown(at)
    (fig,) = figures(at)
    names = [t["name"] for t in fig["data"]]
    assert sum("AUC" in n for n in names) == 10 + 2 + 1
    assert fig["layout"]["xaxis"]["type"] == "log"  # zoomed in by default
    at.button_group(key="roc_digits").set_value([3, 8]).run()
    at.toggle(key="roc_zoom").set_value(False).run()
    at.toggle(key="roc_compare").set_value(True).run()
    assert_ok(at)
    (fig,) = figures(at)
    names = [t["name"] for t in fig["data"]]
    assert names[0].startswith("3 (AUC") and names[1].startswith("8 (AUC")
    assert any(n.startswith("macro, uniform votes") for n in names)
    assert fig["layout"]["xaxis"].get("type") != "log"


def test_precision_recall_page():
    at = run_page("precision_recall")
    titles = figure_titles(at)
    assert titles[0].startswith("Precision-recall curves")
    assert titles[1].startswith("Reliability diagram: expected calibration error")
    labels = [m.label for m in at.metric]
    assert "Expected calibration error" in labels
    at.slider(key="precision_recall_bins").set_value(5).run()
    assert_ok(at)
    reliability = figures(at)[1]
    assert len(values(reliability["data"][0]["x"])) == 5
    at.button_group(key="precision_recall_digits").set_value([]).run()
    at.toggle(key="precision_recall_micro").set_value(False).run()
    assert_ok(at)
    assert figures(at)[0]["data"] == []


def test_misclassified_page_shows_the_outvoting_neighbours():
    at = run_page("misclassified")
    why = [b for b in at.button if b.label == "Why?"]
    assert 0 < len(why) <= 24
    first = at.subheader[0].value
    assert first.startswith("Test digit #") and " read as " in first
    why[1].click().run()
    assert_ok(at)
    assert at.subheader[0].value != first
    assert "nearest training digits** (distance weights) voted" in markdown(at)
    assert len(at.image) >= len(why) + 1 + 4  # the gallery, the digit, its k=4 neighbours
    # default measures deformed variants: each neighbour one matched says which, as the
    # digit's own search does.
    from mnist_knn import load_mnist, reading
    from mnist_knn.teaching import VARIANT_WORDS
    from mnist_knn.trained import load_artifact

    i = int(at.subheader[0].value.split("#")[1].split(":")[0].replace(",", ""))
    model = load_artifact("default").model
    found = reading.search(model, load_mnist().x_test[i])
    expected = [VARIANT_WORDS[model.variants[v]] for v in found.variant[0, :4] if v >= 0]
    notes = [c.value for c in at.caption if c.value.startswith(":")]
    said = [n.split("  \n→ ")[1] for n in notes if "  \n→ " in n]
    assert len(notes) == 4 and said == expected and expected

    at.selectbox(key="misclassified_true").select(9).run()
    assert_ok(at)
    assert all(c.startswith("9 → ") for img in at.image[:1] for c in img.captions)
    at.segmented_control(key="misclassified_order").set_value("Least confident first").run()
    assert_ok(at)


def test_misclassified_page_shows_best_presets_neighbours_moved_to_match():
    at = run_page("misclassified", preset="best")
    moves = [c.value for c in at.caption if c.value.startswith(":")]
    assert len(moves) == 4  # each neighbour: its vote, then how it was moved to match
    assert all("  \n→ " in m for m in moves), moves
    assert any("tangent distance matched it" in c.value for c in at.caption)


def test_tuning_page_offers_the_command_then_computes(models_dir):
    at = run_page("tuning", preset="baseline")
    assert any("python -m mnist_knn tune --preset baseline" in i.value for i in at.info)
    assert not figures(at)
    at.button(key="tuning_run").click().run()
    assert_ok(at)
    (fig,) = figures(at)
    assert fig["layout"]["title"]["text"].startswith("Accuracy against k")
    assert any(t["name"].startswith("chosen: k=4, distance") for t in fig["data"])
    assert at.metric[0].value == "k=4, distance"
    # and on the next view it is read from models/, with the test-set reference on demand
    at = run_page("tuning", preset="baseline")
    assert not at.info
    at.toggle(key="tuning_show_test").set_value(True).run()
    assert_ok(at)
    names = [t["name"] for t in figures(at)[0]["data"]]
    assert "distance weights (test set, reference only)" in names
