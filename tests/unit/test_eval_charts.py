"""The evaluation pages' plotly figures, tested as figures."""

import numpy as np
import plotly.graph_objects as go
import pytest

from mnist_knn.charts import evaluation as charts
from mnist_knn.evaluation.metrics import Curve, reliability, roc_curves


def test_class_balance():
    fig = charts.class_balance(np.full(10, 6000), np.arange(1, 11))
    assert [t.type for t in fig.data] == ["bar", "bar"]
    assert fig.data[0].name == "training (60,000)" and fig.data[1].name == "test (55)"
    assert fig.data[0].y == pytest.approx([0.1] * 10)
    assert fig.data[1].y[-1] == pytest.approx(10 / 55)
    assert fig.layout.yaxis.title.text == "Share of the split"
    assert fig.layout.xaxis.title.text == "Digit"


def test_tile_lays_out_digits_with_padding():
    images = np.arange(3 * 2 * 2).reshape(3, 2, 2) + 1
    out = charts.tile(images, ncols=2, pad=1)
    assert out.shape == (1 + 2 * 3, 1 + 2 * 3)
    assert out[1:3, 1:3].tolist() == images[0].tolist()
    assert out[1:3, 4:6].tolist() == images[1].tolist()
    assert out[4:6, 1:3].tolist() == images[2].tolist()
    assert out[4:6, 4:6].sum() == 0  # no fourth digit
    assert out[0].sum() == 0 and out[:, 3].sum() == 0  # padding stays background


def test_digit_grid_is_one_image_with_a_label_per_digit():
    images = np.zeros((12, 28, 28), np.uint8)
    fig = charts.digit_grid(images, np.arange(12) % 10, ncols=5)
    assert [t.type for t in fig.data] == ["image", "scatter", "scatter"]
    assert fig.data[0].source.startswith("data:image/png;base64,")
    assert len(fig.data[1].x) == 12
    assert fig.data[1].customdata[11].tolist() == [11, 1]  # hover: index and label
    labels = fig.data[2]
    assert labels.mode == "text" and list(labels.text) == [str(d % 10) for d in range(12)]
    assert labels.y[0] < fig.data[1].y[0]  # above its digit


def test_mean_images():
    fig = charts.mean_images(np.random.default_rng(0).uniform(0, 255, (10, 28, 28)))
    assert [t.type for t in fig.data] == ["heatmap"]
    assert np.asarray(fig.data[0].z).shape == (2 * 37 + 9, 5 * 37 + 9)
    assert [a.text for a in fig.layout.annotations] == [f"<b>{d}</b>" for d in range(10)]
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.yaxis.scaleanchor == "x"


def test_per_class_heatmap():
    report = {
        "precision": np.linspace(0.95, 1, 10),
        "recall": np.full(10, 0.98),
        "f1": np.full(10, 0.97),
        "support": np.arange(100, 110),
    }
    fig = charts.per_class_heatmap(report)
    assert [t.type for t in fig.data] == ["heatmap", "heatmap"]
    assert list(fig.data[0].x) == ["Precision", "Recall", "F1"]
    assert np.asarray(fig.data[0].z).shape == (10, 3)
    assert np.asarray(fig.data[1].z)[:, 0].tolist() == list(range(100, 110))
    assert fig.layout.yaxis.title.text == "Digit"
    assert fig.layout.yaxis.tickfont.size == 22 and fig.layout.yaxis.tickfont.color == "#111111"
    assert fig.data[0].textfont.size == fig.data[1].textfont.size == 15


def counts_matrix():
    counts = np.diag(np.full(10, 50))
    counts[4, 9] = 7
    counts[3, 5] = 1
    return counts


@pytest.mark.parametrize("normalise", [None, "true", "pred"])
def test_confusion_heatmap_greys_the_diagonal_and_offers_clicks(normalise):
    fig = charts.confusion_heatmap(counts_matrix(), normalise)
    errors, correct, cells = fig.data
    assert (errors.type, correct.type, cells.type) == ("heatmap", "heatmap", "scatter")
    z = np.asarray(errors.z, dtype=float)
    assert np.isnan(np.diag(z)).all()  # the diagonal is not on the error colour scale
    assert np.isnan(np.asarray(correct.z, dtype=float)[4, 9])
    # one invisible clickable marker per cell: x = predicted, y = true
    assert len(cells.x) == 100 and cells.marker.opacity == 0
    assert (cells.x[49], cells.y[49]) == (9, 4)
    assert fig.layout.xaxis.title.text == "Predicted digit"
    assert fig.layout.yaxis.title.text == "True digit"
    assert fig.layout.yaxis.autorange == "reversed"
    text = np.asarray(errors.text)
    if normalise is None:
        assert text[4, 9] == "7" and "counts" in fig.layout.title.text
        assert z[4, 9] == 7
    elif normalise == "true":
        assert text[4, 9] == "12.3%<br>(7)"  # 7 of the 57 true 4s, count alongside
        assert z[4, 9] == pytest.approx(7 / 57)
    else:
        assert z[4, 9] == pytest.approx(7 / 57)  # 7 of the 57 predicted 9s
        assert "predicted digit" in fig.layout.title.text
    assert text[0, 1] == ""  # empty cells stay blank
    # Readable on a projector: big near-black digits on both axes, big cell numbers.
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        assert axis.tickfont.size == 22 and axis.tickfont.color == "#111111"
    assert errors.textfont.size == (17 if normalise is None else 14)
    assert correct.textfont.color == "#111111" and correct.textfont.size == errors.textfont.size


def test_confusion_heatmap_outlines_the_highlighted_cell():
    fig = charts.confusion_heatmap(counts_matrix(), highlight=(4, 9))
    (shape,) = fig.layout.shapes
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (8.5, 9.5, 3.5, 4.5)
    assert charts.confusion_heatmap(counts_matrix()).layout.shapes == ()


def tiny_curves():
    y = np.arange(40) % 10
    proba = np.eye(10)[y] * 0.7 + 0.03
    proba[::7] = np.roll(proba[::7], 1, axis=1)
    return y, proba


def test_roc_figure_lists_auc_and_honours_toggles():
    y, proba = tiny_curves()
    curves = roc_curves(y, proba)
    fig = charts.roc_figure(curves, digits=[3, 7], averages=["macro"])
    names = [t.name for t in fig.data]
    assert names[0] == f"3 (AUC {curves[3].area:.4f})"
    assert names[1].startswith("7 (AUC")
    assert names[2] == f"macro-average (AUC {curves['macro'].area:.4f})"
    assert names[3] == "chance (AUC 0.5)"
    assert all(t.type == "scatter" for t in fig.data)
    assert fig.layout.xaxis.title.text == "False positive rate"
    assert fig.layout.yaxis.title.text == "True positive rate"
    zoomed = charts.roc_figure(
        curves, averages=["micro", "macro"], zoom=True, extra={"uniform": curves["macro"]}
    )
    assert len(zoomed.data) == 10 + 2 + 1 + 1
    assert zoomed.layout.xaxis.type == "log"
    assert any(t.name.startswith("uniform (AUC") for t in zoomed.data)


def test_pr_figure():
    curves = {d: Curve(np.array([1.0, 0.5, 0]), np.array([0.5, 1, 1]), 0.9) for d in range(10)}
    curves["micro"] = Curve(np.array([1.0, 0]), np.array([0.5, 1]), 0.8)
    fig = charts.pr_figure(curves, digits=range(10), averages=["micro"])
    assert len(fig.data) == 11
    assert fig.data[0].name == "0 (AP 0.9000)"
    assert fig.data[-1].name == "micro-average (AP 0.8000)"
    assert fig.layout.xaxis.title.text == "Recall" and fig.layout.yaxis.title.text == "Precision"
    assert len(charts.pr_figure(curves, digits=[], averages=[]).data) == 0


def test_reliability_figure():
    proba = np.eye(10)[[1, 2, 3, 4]] * 0.6 + 0.04
    rel = reliability(np.array([1, 2, 3, 0]), proba, n_bins=5)
    fig = charts.reliability_figure(rel)
    assert [t.type for t in fig.data] == ["bar", "scatter", "scatter", "bar"]
    assert f"{rel.ece:.4f}" in fig.layout.title.text
    assert fig.layout.yaxis2.type == "log"  # the histogram: one bin dwarfs the others
    assert fig.layout.xaxis2.title.text == "Confidence (probability of the answer)"
    assert np.nansum(np.asarray(fig.data[3].y, dtype=float)) == 4


def test_tuning_figure_marks_the_chosen_k():
    ks = np.arange(1, 16)
    mean = np.vstack([np.linspace(0.97, 0.96, 15), np.linspace(0.975, 0.965, 15)])
    std = np.full((2, 15), 0.001)
    fig = charts.tuning_figure(ks, mean, std, ("uniform", "distance"), (4, "distance"))
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == [
        "uniform weights (cross-validation)",
        "distance weights (cross-validation)",
    ]
    star = fig.data[-1]
    assert star.marker.symbol == "star" and (star.x[0], star.y[0]) == (4, mean[1, 3])
    assert star.name.startswith("chosen: k=4, distance")
    assert fig.layout.shapes[0].x0 == 4  # the vertical line at the chosen k
    assert fig.layout.xaxis.title.text == "k (neighbours that vote)"
    assert fig.layout.yaxis.title.text == "Accuracy"
    with_test = charts.tuning_figure(ks, mean, std, ("uniform", "distance"), (4, "distance"), mean)
    assert sum("test set" in (t.name or "") for t in with_test.data) == 2
    assert isinstance(with_test, go.Figure)
