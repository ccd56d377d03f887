"""k tuning by cross-validation on the training set, its artifact and the `tune` command."""

import json

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

from mnist_knn import load_mnist
from mnist_knn.__main__ import main
from mnist_knn.evaluation.metrics import Evaluation
from mnist_knn.evaluation.tuning import (
    CV_CONFIG,
    WEIGHTS,
    Tuning,
    accuracy_by_k_on_test_set,
    cross_validate,
    expected_meta,
    load_tuning,
    read_tuning,
    save_tuning,
    tuning_path,
    tuning_problem,
)
from mnist_knn.model import K_MAX, PRESETS, make_pipeline, vote


@pytest.fixture(scope="module")
def data():
    return load_mnist(download=False)


@pytest.mark.parametrize("name", PRESETS)
def test_cross_validate_matches_a_plain_per_fold_pipeline(data, name):
    """Transforming the stateless steps once must give exactly what each fold would compute.

    Parametrized over every preset, so a new feature step (or augmentation in ``fit``)
    that breaks this shortcut fails here.
    """
    x, y = data.x_train[:600], data.y_train[:600]
    preset = PRESETS[name]
    fast = cross_validate(preset, x, y, n_splits=2, k_max=5)
    assert fast.shape == (2, 2, 5)
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=0).split(x, y)
    for f, (train, held_out) in enumerate(folds):
        found = make_pipeline(preset).fit(x[train], y[train]).search(x[held_out], n_neighbors=5)
        for w, weights in enumerate(WEIGHTS):
            for k in range(1, 6):
                predicted = vote(found.dist, found.neigh_labels, k, weights).argmax(axis=1)
                assert fast[f, w, k - 1] == pytest.approx(np.mean(predicted == y[held_out]))


def test_cross_validate_reports_progress_and_sane_values(data):
    calls = []
    acc = cross_validate(
        PRESETS["baseline"],
        data.x_train[:500],
        data.y_train[:500],
        n_splits=2,
        progress=lambda f, m: calls.append((f, m)),
    )
    assert acc.shape == (2, 2, K_MAX)
    assert np.all((acc > 0.5) & (acc <= 1))
    assert np.array_equal(acc[:, 0, 0], acc[:, 1, 0])  # k=1: the weighting cannot matter
    assert calls[-1][0] == 1.0
    assert [f for f, _ in calls] == sorted(f for f, _ in calls)


def make_tuning(mean_by_weight) -> Tuning:
    mean = np.asarray(mean_by_weight, dtype=float)
    return Tuning(PRESETS["default"], np.arange(1, mean.shape[1] + 1), WEIGHTS, mean[None], {})


def test_best_prefers_the_smaller_k_then_uniform():
    tuning = make_tuning([[0.90, 0.95, 0.95], [0.91, 0.94, 0.95]])
    assert tuning.best() == (2, "uniform", 0.95)
    assert tuning.accuracy(3, "distance") == 0.95
    assert make_tuning([[0.9, 0.9], [0.9, 0.97]]).best() == (2, "distance", 0.97)


def test_mean_and_std_over_folds():
    tuning = Tuning(
        PRESETS["default"], np.array([1]), WEIGHTS, np.array([[[0.9], [0.8]], [[1.0], [0.8]]]), {}
    )
    assert tuning.mean[:, 0] == pytest.approx([0.95, 0.8])
    assert tuning.std[:, 0] == pytest.approx([0.05, 0.0])


def test_accuracy_by_k_on_test_set_revotes_stored_neighbours():
    # one test digit, truth 1; neighbours labelled 1, 2, 2 at distances 1, 3, 3
    ev = Evaluation(
        np.array([1], np.uint8),
        np.array([1], np.uint8),
        np.zeros((1, 10), np.float32),
        np.array([[0, 1, 2]], np.int32),
        np.array([[1.0, 3.0, 3.0]], np.float32),
    )
    acc = accuracy_by_k_on_test_set(ev, np.array([1, 2, 2], np.uint8), k_max=3)
    # uniform: k=1 right, k=2 tie -> smaller digit 1 right, k=3 two votes for 2 wrong
    assert acc[0].tolist() == [1.0, 1.0, 0.0]
    # distance: 1 against 1/3 + 1/3 -> right for every k
    assert acc[1].tolist() == [1.0, 1.0, 1.0]


def test_tuning_artifact_round_trip_and_staleness(models_dir, data):
    spec = PRESETS["default"]
    assert tuning_problem("default", data) == "not computed yet"
    assert load_tuning("default", data=data, build=False) is None
    fold_accuracy = np.random.default_rng(0).uniform(0.9, 1, (CV_CONFIG["n_splits"], 2, K_MAX))
    tuning = Tuning(
        spec, np.arange(1, K_MAX + 1), WEIGHTS, fold_accuracy, expected_meta(spec, data)
    )
    path = tuning_path("default")
    save_tuning(tuning, data)
    again = read_tuning(spec, data)
    assert np.array_equal(again.fold_accuracy, fold_accuracy)
    assert again.weights == WEIGHTS
    assert tuning_problem("default", data) is None
    assert [p.name for p in models_dir.iterdir() if p.name.endswith(".tmp")] == []

    # another CV setting, another preset config, or a damaged file: refused, never loaded
    with np.load(path, allow_pickle=False) as npz:
        arrays = dict(npz)
    meta = json.loads(str(arrays["meta"]))
    meta["cv"] = {**meta["cv"], "n_splits": 5}
    np.savez(path, **(arrays | {"meta": np.array(json.dumps(meta))}))
    assert "cross-validation settings changed" in tuning_problem("default", data)
    # the default's file where the baseline's should be
    tuning_path("baseline").write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="stale"):
        read_tuning(PRESETS["baseline"], data)
    path.write_bytes(b"not a zip")
    assert tuning_problem("default", data).startswith("unreadable")
    assert load_tuning("default", data=data, build=False) is None


def test_tune_command_writes_and_then_reuses_the_artifact(models_dir, capsys):
    # baseline (raw pixels, no PCA to fit ten times) keeps this test quick
    assert main(["tune", "--preset", "baseline"]) == 0
    out = capsys.readouterr().out
    assert "baseline: 10-fold cross-validated accuracy on 3,000 training digits" in out
    assert "best: k=" in out and "the preset uses k=4, distance" in out
    assert len([line for line in out.splitlines() if line.strip()[:2].strip().isdigit()]) == K_MAX
    path = tuning_path("baseline")
    built = json.loads(str(np.load(path, allow_pickle=False)["meta"]))["built"]
    tuning = load_tuning("baseline", build=False)
    assert tuning.fold_accuracy.shape == (10, 2, K_MAX)
    assert tuning.meta["n_train"] == 3000
    assert 0.8 < tuning.accuracy(4, "distance") <= 1
    # a second run reads the file instead of recomputing
    assert main(["tune", "--preset", "baseline"]) == 0
    assert json.loads(str(np.load(path, allow_pickle=False)["meta"]))["built"] == built


def test_tune_help_names_the_training_set(capsys):
    with pytest.raises(SystemExit):
        main(["tune", "--help"])
    assert "test set is never used" in capsys.readouterr().out
