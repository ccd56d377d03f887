"""The teaching pages' plotly figures, checked as figures (traces, values, layout)."""

from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from mnist_knn.charts import learn as charts
from mnist_knn.evaluation.digit_map import DecisionGrid


def test_distance_histogram_bins_and_marks_the_nearest():
    dist = np.array([1.0, 2.0, 2.1, 5.0, 9.0, np.inf])
    labels = np.array([3, 3, 1, 3, 7, 1])
    fig = charts.distance_histogram(dist, labels, 3, [1.0, 2.0], [3, 3], bins=9)
    same, other, nearest = fig.data
    assert isinstance(fig, go.Figure) and same.type == other.type == "bar"
    assert sum(same.y) == 3 and sum(other.y) == 2  # the infinite distance is left out
    assert same.name == "training digits labelled 3 (3)"
    assert other.name == "all other training digits (3)"
    assert list(nearest.x) == [1.0, 2.0] and list(nearest.text) == ["3", "3"]
    assert nearest.marker.color == (charts.DIGIT_COLOURS[3],) * 2
    assert fig.layout.shapes[0].x0 == 2.0  # the k-th distance
    assert fig.layout.barmode == "stack"


def test_vote_bars_colour_the_winner():
    proba = np.zeros(10)
    proba[[1, 7]] = [0.25, 0.75]
    (bars,) = charts.vote_bars(proba).data
    assert list(bars.x) == list(range(10)) and bars.y[7] == 0.75
    assert bars.marker.color[7] == charts.DIGIT_COLOURS[7]
    assert bars.marker.color[1] == charts.OTHER
    assert bars.text[7] == "75%" and bars.text[0] == ""


ROWS = [
    {
        "title": "LR",
        "kind": "other",
        "accuracy": 0.92,
        "fit_seconds": 60.0,
        "predict_seconds": 0.2,
        "size_bytes": 31_414,
    },
    {
        "title": "KNN",
        "kind": "knn",
        "accuracy": 0.986,
        "fit_seconds": 8.0,
        "predict_seconds": 13.0,
        "size_bytes": 13_400_000,
    },
    {
        "title": "RF",
        "kind": "other",
        "accuracy": 0.967,
        "fit_seconds": 70.0,
        "predict_seconds": 1.7,
        "size_bytes": 72_000_000,
    },
]


def test_compare_bars_order_and_colours():
    (bars,) = charts.compare_bars(ROWS, "accuracy").data
    assert list(bars.y) == ["KNN", "RF", "LR"]  # best first
    assert bars.marker.color[0] == charts.KNN_COLOUR
    assert bars.text[0] == "98.60%"
    (bars,) = charts.compare_bars(ROWS, "predict_seconds").data
    assert list(bars.y) == ["LR", "RF", "KNN"]  # fastest first
    (bars,) = charts.compare_bars(ROWS, "size_bytes").data
    np.testing.assert_allclose(bars.x, [0.031414, 13.4, 72.0])
    assert bars.text[2] == "72.0"


def test_accuracy_vs_time():
    fig = charts.accuracy_vs_time(ROWS)
    knn, others = fig.data
    assert knn.name == "KNN presets" and list(knn.text) == ["KNN"]
    assert list(others.x) == [0.2, 1.7] and list(others.y) == [0.92, 0.967]
    assert others.marker.size[1] == 48  # the largest model
    assert fig.layout.xaxis.type == "log"
    # Three models far apart: every label above its point, the leftmost's to the right
    # (inside the chart), the others centred (see label_positions).
    assert list(others.textposition) == ["top right", "top center"]
    assert knn.textposition[0].startswith("top")


def test_ink_uris_are_transparent_pngs():
    digit = np.zeros((28, 28), dtype=np.uint8)
    digit[10:18, 12:15] = 255
    (uri,) = charts.ink_uris(digit[None])
    assert uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    rgba = np.asarray(image)
    assert rgba.shape == (28, 28, 4)
    np.testing.assert_array_equal(rgba[..., 3], digit)


def test_digit_map_layers():
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(40, 2))
    labels = np.arange(40) % 10
    grid = DecisionGrid(np.linspace(-2, 2, 5), np.linspace(-2, 2, 4), np.zeros((4, 5), int), 3)
    fig = charts.digit_map(
        coords,
        labels,
        np.arange(100, 140),
        regions=grid,
        drawing=(0.5, -0.5),
        selected=3,
        pictures=(coords[:2], ["data:image/png;base64,AA", "data:image/png;base64,BB"]),
    )
    heatmap, *points, ring, star = fig.data
    assert heatmap.type == "heatmap" and heatmap.zmin == -0.5 and heatmap.zmax == 9.5
    assert len(points) == 10 and all(p.type == "scattergl" for p in points)
    assert len(points[3].x) == 4 and points[3].marker.color == charts.DIGIT_COLOURS[3]
    # customdata: (row of the sample, training index), for click events.
    assert points[3].customdata[0].tolist() == [3, 103]
    assert ring.x == (coords[3, 0],) and star.x == (0.5,) and star.text == ("your digit",)
    assert star.type == "scattergl"  # drawn above the WebGL points
    assert len(fig.layout.images) == 2 and fig.layout.images[0].x == coords[0, 0]
    plain = charts.digit_map(coords, labels, np.arange(40))
    assert len(plain.data) == 10 and not plain.layout.images


def test_clicked_row_reads_either_customdata_form():
    assert charts.clicked_row({"customdata": [12, 3456]}) == 12
    assert charts.clicked_row({"customdata": {"0": 2391, "1": 35717}}) == 2391  # WebGL
    assert charts.clicked_row({"x": 1.0, "y": 2.0}) is None  # the star has none


def test_labels_of_close_models_go_apart_and_far_ones_above():
    from mnist_knn.charts.learn import label_positions

    # best and baseline nearly on top of each other, a third far away.
    where = label_positions([1.0, 1.02, 0.0, 2.0], [0.987, 0.984, 0.90, 0.95])
    assert where[0].startswith("top") and where[1].startswith("bottom")
    assert where[0] != where[1]
    # At the chart's edges the labels go inward.
    assert where[2] == "top right" and where[3] == "top left"


def test_digit_colours_are_ten_different_ones():
    from mnist_knn.charts.learn import DIGIT_COLOURS

    assert len(set(DIGIT_COLOURS[:10])) == 10


# The comparison as built on the development machine (docs/screenshots/compare_models.png).
COMPARED = [
    ("Logistic regression", "other", 0.9218, 0.02, 31_400),
    ("Linear SVM", "other", 0.918, 0.03, 62_800),
    ("RBF SVM on PCA", "other", 0.9868, 15.17, 4_600_000),
    ("Random forest", "other", 0.9668, 1.26, 72_100_000),
    ("Small CNN", "other", 0.9938, 17.65, 861_500),
    ("KNN (baseline)", "knn", 0.9714, 21.12, 189_200_000),
    ("KNN (default)", "knn", 0.9858, 3.41, 15_900_000),
    ("KNN (best)", "knn", 0.9885, 34.36, 224_100_000),
]


def test_crowded_models_are_named_in_a_column_with_leader_lines():
    rows = [
        {"title": t, "kind": k, "accuracy": a, "predict_seconds": p, "size_bytes": b}
        for t, k, a, p, b in COMPARED
    ]
    fig = charts.accuracy_vs_time(rows)
    named = {a.text: a for a in fig.layout.annotations}
    # The five models between 97.1% and 99.4%, 3-35 s, are named in the column ...
    assert set(named) == {
        "RBF SVM on PCA",
        "Small CNN",
        "KNN (baseline)",
        "KNN (default)",
        "KNN (best)",
    }
    # ... not beside their points; the others keep theirs there (the two linear models,
    # a close pair, one above and one below: label_positions).
    inline = [t for trace in fig.data for t in trace.text if t]
    assert inline == ["Logistic regression", "Linear SVM", "Random forest"]
    # Every name right of every point, in the order of accuracy, never closer than the gap.
    assert {a.ax for a in named.values()} == {np.log10(34.36) + 0.3}
    assert all(a.showarrow and a.axref == "x" and a.xanchor == "left" for a in named.values())
    heights = [
        named[t].ay
        for t in sorted(named, key=lambda t: -dict((r["title"], r["accuracy"]) for r in rows)[t])
    ]
    assert heights == sorted(heights, reverse=True)
    y_lo, y_hi = fig.layout.yaxis.range
    assert np.diff(heights).max() <= -0.065 * (y_hi - y_lo) + 1e-12
    assert named["Small CNN"].ay == 0.9938  # the highest stays level with its point
    assert min(heights) >= y_lo and fig.layout.xaxis.range[1] > named["Small CNN"].ax


def test_spread_labels_keeps_the_gap_and_the_floor():
    from mnist_knn.charts.learn import spread_labels

    placed = spread_labels([0.9885, 0.9868, 0.9858, 0.90], gap=0.005, low=0.0)
    np.testing.assert_allclose(placed, [0.9885, 0.9835, 0.9785, 0.90])
    lifted = spread_labels([1.0, 1.0, 1.0], gap=1.0, low=0.0)
    np.testing.assert_allclose(sorted(lifted), [0.0, 1.0, 2.0])
