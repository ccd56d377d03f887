"""Model comparison: storable models, sizes, the artifact round trip without pickle, staleness."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from mnist_knn import load_mnist, to_mnist
from mnist_knn.__main__ import main
from mnist_knn.evaluation import compare
from mnist_knn.model import PRESETS
from mnist_knn.synthetic import ONE, ZERO, stroke_image
from tests.support.artifacts import assert_stale_then_unreadable


@pytest.fixture(scope="module")
def data():
    return load_mnist(download=False)


@pytest.fixture(scope="module")
def built(data, tmp_path_factory):
    """One comparison built on the 3,000/500 fixture, in its own models folder."""
    folder = tmp_path_factory.mktemp("compare-models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNIST_KNN_MODELS_DIR", str(folder))
        messages = []
        comparison = compare.build_comparison(data, lambda f, m: messages.append((f, m)))
    return folder, comparison, messages


def test_linear_model_matches_scikit_learn(data):
    X, y = compare.pixels(data.x_train[:600]), data.y_train[:600]
    queries = compare.pixels(data.x_test[:100])
    lr = LogisticRegression(max_iter=200).fit(X, y)
    ours = compare.to_storable("logistic_regression", lr)
    np.testing.assert_allclose(ours.predict_proba(queries), lr.predict_proba(queries), atol=1e-5)
    np.testing.assert_array_equal(ours.predict(queries), lr.predict(queries))
    svm = LinearSVC(C=0.1, dual=False).fit(X, y)
    ours = compare.to_storable("linear_svm", svm)
    np.testing.assert_array_equal(ours.predict(queries), svm.predict(queries))
    with pytest.raises(AttributeError):
        ours.predict_proba(queries)


def test_fitted_bytes_by_hand(data):
    svm = LinearSVC(C=0.1, dual=False).fit(compare.pixels(data.x_train[:300]), data.y_train[:300])
    # coef_ (10, 784) and intercept_ (10,) float64, classes_ (10,) uint8, n_iter_ (an int).
    assert compare.fitted_bytes(svm) == 10 * 784 * 8 + 10 * 8 + 10
    forest = compare.make_estimator("random_forest").set_params(n_estimators=3)
    forest.fit(compare.pixels(data.x_train[:300]), data.y_train[:300])
    nodes = sum(tree.tree_.node_count for tree in forest.estimators_)
    # Per node: the node record (64 bytes) and ten class fractions (80 bytes).
    assert compare.fitted_bytes(forest) >= nodes * (64 + 80)


def test_build_covers_every_model_with_real_numbers(built, data):
    _, comparison, messages = built
    names = [row["name"] for row in comparison.rows]
    assert names == [*compare.CONTENDERS, *(f"knn_{p}" for p in PRESETS)]
    for row in comparison.rows:
        assert 0.75 <= row["accuracy"] <= 1, row
        assert row["fit_seconds"] >= 0 and row["predict_seconds"] > 0
        assert row["drawing_ms"] > 0 and "real_accuracy" not in row  # no real drawings here
        # Every model is fitted on the fixture's training digits, but the CNN, which ships
        # trained on all of MNIST's (python -m mnist_knn train-cnn).
        assert row["n_train"] == (60000 if row["name"] == "cnn" else 3000)
        assert row["n_test"] == 500
    rows = {row["name"]: row for row in comparison.rows}
    assert rows["knn_default"]["accuracy"] > rows["linear_svm"]["accuracy"]
    # The shipped CNN: 215,370 float32 weights; on MNIST test digits it beats every model.
    assert rows["cnn"]["size_bytes"] == 215370 * 4
    assert rows["cnn"]["accuracy"] >= max(r["accuracy"] for r in comparison.rows)
    # A KNN stores its training set: 3,000 x 50 PCA features (float32) at least.
    assert rows["knn_default"]["size_bytes"] >= 3000 * 50 * 4
    # float32 weights (10, 784) and intercepts, classes_ (uint8), n_iter_ (one int32).
    assert rows["logistic_regression"]["size_bytes"] == 10 * 784 * 4 + 10 * 4 + 10 + 4
    assert messages[-1][0] == 1.0 and any("Random forest" in m for _, m in messages)


def test_round_trip_without_pickle(built, data, monkeypatch):
    folder, comparison, _ = built
    monkeypatch.setenv("MNIST_KNN_MODELS_DIR", str(folder))
    assert compare.comparison_problem(data) is None
    assert sorted(p.name for p in folder.glob("compare*")) == [
        "compare-random_forest.skops",
        "compare-rbf_svm.skops",
        "compare.npz",
    ]

    def no_unpickling(*args, **kwargs):
        raise AssertionError("something was unpickled")

    monkeypatch.setattr(pickle, "loads", no_unpickling)
    monkeypatch.setattr(pickle, "load", no_unpickling)
    again = compare.read_comparison(data)
    assert again.rows == comparison.rows
    queries = data.x_test[:200]
    for name, model in comparison.models.items():
        np.testing.assert_array_equal(
            compare.predict_images(again.models[name], queries),
            compare.predict_images(model, queries),
        )


def test_every_model_classifies_a_drawing(built):
    _, comparison, _ = built
    for points, expected in ((ONE, 1), (ZERO, 0)):
        digit = to_mnist(stroke_image(points))
        for name, model in comparison.models.items():
            label, confidence = compare.classify(model, digit)
            assert 0 <= label <= 9
            if name in ("logistic_regression", "random_forest", "cnn"):
                assert 0 < confidence <= 1
            else:
                assert confidence is None
        assert compare.classify(comparison.models["rbf_svm"], digit)[0] == expected
        assert compare.classify(comparison.models["cnn"], digit)[0] == expected


def test_stale_and_damaged_files_are_rebuilt(built, data, monkeypatch, tmp_path):
    import shutil

    folder, comparison, _ = built
    copy = tmp_path / "models"
    shutil.copytree(folder, copy)
    monkeypatch.setenv("MNIST_KNN_MODELS_DIR", str(copy))
    # A changed setting: only that model is retrained.
    monkeypatch.setitem(compare.CONTENDERS["linear_svm"].config, "C", 0.05)
    assert "settings changed" in compare.comparison_problem(data)
    messages = []
    rebuilt = compare.load_comparison(data, lambda f, m: messages.append(m))
    assert any("Linear SVM" in m for m in messages)
    assert not any("Random forest" in m or "RBF" in m for m in messages)
    assert compare.comparison_problem(data) is None
    rf = {r["name"]: r for r in rebuilt.rows}["random_forest"]
    assert rf == {r["name"]: r for r in comparison.rows}["random_forest"]
    # A damaged skops file fails its checksum and is rebuilt.
    path = compare.skops_path("random_forest")
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="checksum"):
        compare.read_comparison(data)
    messages.clear()
    compare.load_comparison(data, lambda f, m: messages.append(m))
    assert any("Random forest" in m for m in messages)
    compare.read_comparison(data)
    # Another data set or library version makes the whole record stale.
    assert_stale_then_unreadable(
        compare.compare_path(),
        lambda: compare.comparison_problem(data),
        lambda: compare.read_comparison(data),
    )


def test_skops_allow_list_refuses_other_types(tmp_path):
    import skops.io as sio

    path = tmp_path / "evil.skops"
    raw = sio.dumps({"fn": np.random.default_rng})  # a type not on the allow-list
    path.write_bytes(raw)
    import hashlib

    with pytest.raises(ValueError, match="allow-list"):
        compare.load_skops(path, hashlib.sha256(raw).hexdigest())


def test_cli_compare_on_the_fixture(built, models_dir, capsys):
    import shutil

    shutil.copytree(built[0], models_dir)  # the full build is tested above; reuse it
    assert main(["compare", "--only", "linear_svm"]) == 0
    captured = capsys.readouterr()
    assert "fitting Linear SVM" in captured.err and "Random forest" not in captured.err
    assert "Random forest" in captured.out and "KNN (default)" in captured.out
    assert "trained on 3,000 digits, predict time for 500 test digits" in captured.out
    assert main(["compare", "--markdown"]) == 0
    table = capsys.readouterr().out
    assert "| model | MNIST test accuracy | real drawings (dev writers) | one drawing (ms)" in table
    assert "| Small CNN | " in table and "| KNN (best) | " in table
    assert main(["compare", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [r["name"] for r in rows][: len(compare.CONTENDERS)] == list(compare.CONTENDERS)
    assert {r["name"]: r for r in rows}["linear_svm"]["n_train"] == 3000


def test_cli_refuses_an_unknown_model(capsys):
    assert main(["compare", "--only", "transformer"]) == 2
    err = capsys.readouterr().err
    assert "unknown model ['transformer']" in err and "random_forest" in err and "cnn" in err


def test_knn_versus_cnn_says_what_each_offers_from_the_numbers():
    knn = {"name": "knn_default", "accuracy": 0.98, "n_test": 10000, "size_bytes": 14_400_000}
    cnn = {"name": "cnn", "accuracy": 0.9938, "n_test": 10000, "size_bytes": 861_480}
    knn |= {"drawing_ms": 2.0, "real_accuracy": 0.951, "real_n": 1000, "fit_seconds": 10.0}
    cnn |= {"drawing_ms": 0.6, "real_accuracy": 0.952, "real_n": 1000, "fit_seconds": 186.0}
    text = compare.knn_versus_cnn([knn, cnn])
    assert "the CNN makes 62 mistakes (99.38% right), the KNN (default) 200 (98.00%)" in text
    assert "the CNN reads 95.2%, the KNN 95.1%" in text
    assert "one drawing takes the CNN 0.6 ms and the KNN 2.0 ms" in text
    assert "the training digits that voted" in text and "*not sure*" in text
    assert "3 minutes of training" in text
    assert compare.knn_versus_cnn([knn]) is None


def test_the_real_drawings_column(built, data, monkeypatch):
    """With the dev writers beside the project, every row gets its accuracy on them."""
    shared = compare.real_drawings.PROJECT_ROOT.parent / "shared"
    monkeypatch.setenv("MNIST_KNN_SHARED", str(shared))
    if not compare.real_drawings.available():
        pytest.skip("no UNIPEN dev writers beside the project")
    folder, _, _ = built
    monkeypatch.setenv("MNIST_KNN_MODELS_DIR", str(folder))
    monkeypatch.setattr(compare, "REAL_DRAWINGS", 40)
    assert compare.comparison_problem(data) == "stale (measures added since it was built)"
    rows = {r["name"]: r for r in compare.load_comparison(data).rows}
    assert compare.comparison_problem(data) is None
    for row in rows.values():
        assert row["real_n"] == 40 and 0.3 <= row["real_accuracy"] <= 1, row
    # The CNN, trained on all of MNIST, reads real drawings better than a forest of 3,000.
    assert rows["cnn"]["real_accuracy"] > rows["random_forest"]["real_accuracy"]
