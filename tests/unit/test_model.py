"""The KNN pipeline, its vote, and the models/ artifacts (built, reused, rebuilt when damaged)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from mnist_knn import load_mnist
from mnist_knn.artifacts import StaleArtifactWarning
from mnist_knn.model import PRESETS, make_pipeline, vote
from mnist_knn.trained import artifact_path, artifact_problem, load_artifact


@pytest.fixture(scope="module")
def data():
    return load_mnist(download=False)


def test_vote_matches_scikit_learn(data):
    x, y = data.x_train[:1000].reshape(1000, -1) / 255, data.y_train[:1000]
    queries = data.x_test[:200].reshape(200, -1) / 255
    for weights in ("uniform", "distance"):
        knn = KNeighborsClassifier(n_neighbors=5, weights=weights, algorithm="brute").fit(x, y)
        dist, ind = knn.kneighbors(queries, n_neighbors=9)
        np.testing.assert_allclose(vote(dist, y[ind], 5, weights), knn.predict_proba(queries))


def test_vote_by_hand():
    dist = np.array([[1.0, 2.0, 4.0], [0.0, 1.0, 0.0]])
    labels = np.array([[3, 5, 5], [7, 1, 2]])
    proba = vote(dist, labels, 3, "distance")
    assert proba[0, 3] == pytest.approx(1 / 1.75) and proba[0, 5] == pytest.approx(0.75 / 1.75)
    # Exact matches (distance 0) share the whole vote.
    assert proba[1, 7] == 0.5 and proba[1, 2] == 0.5 and proba[1, 1] == 0
    assert vote(dist, labels, 2, "uniform")[0, 3] == 0.5
    with pytest.raises(ValueError, match="weights"):
        vote(dist, labels, 2, "cosine")


@pytest.mark.parametrize("preset", list(PRESETS))
def test_pipeline_accepts_idx_images(data, preset):
    model = make_pipeline(PRESETS[preset]).fit(data.x_train, data.y_train)
    images = data.x_test[:50]
    assert images.dtype == np.uint8 and images.shape == (50, 28, 28)
    labels = model.predict(images)
    proba = model.predict_proba(images)
    dist, ind = model.kneighbors(images, n_neighbors=6)
    assert labels.shape == (50,) and proba.shape == (50, 10) and ind.shape == (50, 6)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert np.all(np.diff(dist, axis=1) >= 0)
    assert np.mean(labels == data.y_test[:50]) >= 0.85
    # search() votes once from one kneighbors call, exactly as predict_proba does.
    result = model.search(images)
    np.testing.assert_allclose(result.proba, proba, atol=1e-6)
    np.testing.assert_array_equal(result.labels, labels)
    np.testing.assert_array_equal(result.neigh_labels, data.y_train[result.ind])


def test_artifact_is_built_once_then_loaded(models_dir, data):
    with pytest.warns(StaleArtifactWarning, match="not built yet"):
        first = load_artifact("default", data=data)
    assert artifact_path("default").exists()
    assert artifact_problem("default", data) is None
    meta = first.meta
    assert meta["config"]["name"] == "default" and meta["n_test"] == 500
    assert meta["data_checksum"] == data.checksum and "scikit-learn" in meta["versions"]
    assert first.evaluation.neigh_ind.shape == (500, 15)

    second = load_artifact("default", data=data)  # no warning: loaded as is
    np.testing.assert_array_equal(second.evaluation.y_pred, first.evaluation.y_pred)
    np.testing.assert_array_equal(
        second.model.predict(data.x_test[:20]), first.model.predict(data.x_test[:20])
    )
    # Nothing in it needs pickle.
    with np.load(artifact_path("default"), allow_pickle=False) as npz:
        assert all(npz[key].dtype != object for key in npz.files)


def _corrupt_bytes(path):
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(b ^ 0xFF for b in raw[middle : middle + 64])
    path.write_bytes(bytes(raw))


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])


def _garbage(path):
    path.write_bytes(b"this is not a zip file")


def _stale_config(path):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    meta = json.loads(str(arrays["meta"]))
    meta["config"]["k"] = 99
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _other_data(path):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    meta = json.loads(str(arrays["meta"]))
    meta["data_checksum"] = "0" * 64
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _empty(path):
    path.write_bytes(b"")


def _rewrite(path, name, write):
    """Rewrite the artifact with member ``name`` written by ``write(file)`` instead."""
    with zipfile.ZipFile(path) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    with zipfile.ZipFile(path, "w") as zf:
        for member, raw in members.items():
            if member == name:
                with zf.open(member, "w") as fh:
                    write(fh)
            else:
                zf.writestr(member, raw)


def _wrong_shape(path):
    with np.load(path, allow_pickle=False) as npz:
        x = npz["knn/X"]
    _rewrite(path, "knn/X.npy", lambda fh: np.lib.format.write_array(fh, x[:, :10].copy()))


def _label_out_of_range(path):
    with np.load(path, allow_pickle=False) as npz:
        y = npz["knn/y"].copy()
    y[3] = 12
    _rewrite(path, "knn/y.npy", lambda fh: np.lib.format.write_array(fh, y))


def _declares_373_gib(path):
    def write(fh):
        header = {"descr": "<f4", "fortran_order": False, "shape": (100_000_000_000,)}
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(bytes(64))

    _rewrite(path, "knn/X.npy", write)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_empty, "unreadable"),
        (_wrong_shape, "incomplete"),
        (_label_out_of_range, "incomplete"),
        (_declares_373_gib, "unreadable .array knn/X declares .100000000000,. float32 .372.5 GiB"),
        (_corrupt_bytes, "unreadable"),
        (_truncate, "unreadable"),
        (_garbage, "unreadable"),
        (_stale_config, "stale"),
        (_other_data, "stale"),
    ],
)
def test_damaged_artifact_is_rebuilt_not_loaded(models_dir, data, damage, reason):
    with pytest.warns(StaleArtifactWarning):
        good = load_artifact("baseline", data=data)
    path = artifact_path("baseline")
    damage(path)
    if reason == "stale":  # the cheap record-only check already sees these
        assert "stale" in artifact_problem("baseline", data)
    with pytest.warns(StaleArtifactWarning, match=reason):
        rebuilt = load_artifact("baseline", data=data)
    np.testing.assert_array_equal(rebuilt.evaluation.y_pred, good.evaluation.y_pred)
    assert zipfile.is_zipfile(path)
    assert artifact_problem("baseline", data) is None
    assert not list(path.parent.glob(".*.tmp"))


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ValueError, match="baseline, default"):
        load_artifact("fastest")


def test_read_meta_reads_a_file_again_only_when_it_changed(tmp_path):
    from mnist_knn.artifacts import ArtifactError, read_meta, write_npz

    path = tmp_path / "m.npz"
    write_npz(path, {"kind": "model", "n": 1}, {"x": np.zeros(3)})
    first = read_meta(path)
    assert first == {"kind": "model", "n": 1}
    first["n"] = 99  # a caller's copy: the next answer is the file's
    assert read_meta(path) == {"kind": "model", "n": 1}
    write_npz(path, {"kind": "model", "n": 2}, {"x": np.zeros(3)})  # replaced (a rename)
    assert read_meta(path) == {"kind": "model", "n": 2}
    path.write_bytes(path.read_bytes()[:40])  # damaged in place
    with pytest.raises(ArtifactError, match="unreadable"):
        read_meta(path)
    path.unlink()
    with pytest.raises(FileNotFoundError):
        read_meta(path)


def test_a_build_reports_the_fit_step_by_step(capsys):
    from mnist_knn.trained import build_artifact

    seen = []
    data = load_mnist(download=False)
    artifact = build_artifact(PRESETS["default"], data, lambda f, t: seen.append((f, t)))
    fit = [(round(f, 6), t) for f, t in seen if t.startswith("fitting")]
    # default: deskew, blur, flatten, edges, pca, knn; each step's end moves the bar (0-10%).
    assert fit == [
        (0.0, "fitting default on 3,000 training digits: struck zeros first, then deskew"),
        (0.016667, "fitting default: deskew done; blur next"),
        (0.033333, "fitting default: blur done; flatten next"),
        (0.05, "fitting default: flatten done; edges next"),
        (0.066667, "fitting default: edges done; pca next"),
        (0.083333, "fitting default: pca done; knn next"),
        (0.1, "fitting default: knn done"),
    ]
    assert "[Pipeline]" not in capsys.readouterr().out  # taken, not printed
    assert artifact.model.verbose is False


def test_re_ranking_on_every_core_gives_the_one_core_answer(monkeypatch):
    from mnist_knn import model as model_module

    data = load_mnist(download=False)
    model = make_pipeline(PRESETS["best"]).fit(data.x_train[:1500], data.y_train[:1500])
    queries = data.x_test[:200]
    monkeypatch.setattr(model_module, "PARALLEL_RERANK", 10**9)
    one = model.search(queries)
    monkeypatch.setattr(model_module, "PARALLEL_RERANK", 1)
    monkeypatch.setattr(model_module.os, "cpu_count", lambda: 3)
    every = model.search(queries)
    np.testing.assert_array_equal(one.ind, every.ind)
    np.testing.assert_array_equal(one.dist, every.dist)
    assert (one.labels == data.y_test[:200]).mean() > 0.85
