"""The numpy CNN: forward pass by hand, the weights loader's refusals, the shipped weights.

Needs numpy only (no torch, no UNIPEN)."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnist_knn import load_mnist
from mnist_knn.evaluation import cnn


def meta_for(width: int, hidden: int) -> dict:
    return {
        "format": cnn.FORMAT,
        "format_version": cnn.FORMAT_VERSION,
        "architecture": {"name": cnn.ARCHITECTURE, "width": width, "hidden": hidden},
    }


def zero_weights(width: int, hidden: int) -> dict[str, np.ndarray]:
    return {k: np.zeros(s, dtype=np.float32) for k, s in cnn.expected_shapes(width, hidden).items()}


# ---------------------------------------------------------------- forward pass, by hand


def test_conv2d_is_torch_style_cross_correlation_with_same_padding():
    x = np.zeros((1, 1, 28, 28), np.float32)
    x[0, 0, 5, 9] = 1.0
    w = np.zeros((1, 1, 5, 5), np.float32)
    w[0, 0, 0, 0] = 2.0  # top-left tap: out[i, j] = 2 * x[i - 2, j - 2]
    out = cnn.conv2d(x, w, np.array([0.5], np.float32))
    assert out.shape == (1, 1, 28, 28)
    expected = np.full((28, 28), 0.5, np.float32)
    expected[7, 11] = 2.5
    np.testing.assert_array_equal(out[0, 0], expected)
    # A pixel in the bottom-right corner is shifted off the image: zero padding, no wrap.
    x[:] = 0
    x[0, 0, 27, 27] = 1.0
    assert (cnn.conv2d(x, w, np.zeros(1, np.float32)) == 0).all()


def test_conv2d_matches_the_definition_on_random_channels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 6, 6)).astype(np.float32)
    w = rng.normal(size=(4, 3, 5, 5)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    ref = np.empty((2, 4, 6, 6), np.float32)
    for n in range(2):
        for o in range(4):
            for i in range(6):
                for j in range(6):
                    ref[n, o, i, j] = (padded[n, :, i : i + 5, j : j + 5] * w[o]).sum() + b[o]
    np.testing.assert_allclose(cnn.conv2d(x, w, b), ref, rtol=1e-5, atol=1e-5)


def test_max_pool_and_softmax():
    x = np.array([[1, 2, 0, -1], [3, 4, -5, -2]], np.float32).reshape(1, 1, 2, 4)
    np.testing.assert_array_equal(cnn.max_pool2(x), [[[[4, 0]]]])
    p = cnn.softmax(np.array([[1000.0, 1000.0, -1000.0]], np.float32))  # no overflow
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0]])


def hand_network() -> cnn.CNNClassifier:
    """width 1, hidden 49: both convs copy their input, so the 7x7 map is a 4x4 max-pool of
    the image; fc1 copies channel 0's 49 cells; fc2 scores cell k (k < 10) as digit k with
    logit ln 9, so a lit cell k gives p(k) = 9 / (9 + 9) = 1/2 and 1/18 to each other digit.
    """
    w = zero_weights(1, 49)
    w["conv1.weight"][0, 0, 2, 2] = 1.0  # centre tap: identity
    w["conv2.weight"][:, 0, 2, 2] = 1.0  # both output channels copy the input
    w["fc1.weight"][:, :49] = np.eye(49)
    w["fc2.weight"][np.arange(10), np.arange(10)] = math.log(9)
    return cnn.CNNClassifier(w, meta_for(1, 49))


def test_forward_pass_by_hand():
    clf = hand_network()
    image = np.zeros((2, 28, 28), np.uint8)
    image[0, 1, 4 * 3 + 2] = 255  # row 1 -> cell row 0; column 14 -> cell column 3: digit 3
    image[1, 5, 4 * 2] = 255  # row 5 -> cell row 1; column 8 -> cell column 2: cell 9
    proba = clf.predict_proba(image)
    assert proba.shape == (2, 10)
    assert proba.dtype == np.float32
    expected = np.full((2, 10), 1 / 18)
    expected[0, 3] = expected[1, 9] = 1 / 2
    np.testing.assert_allclose(proba, expected, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(image), [3, 9])


def test_relu_and_biases_by_hand():
    clf = hand_network()
    clf.weights["conv1.bias"][:] = -0.5  # faint ink (< 128) is cut by the first ReLU
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 1, 14] = 100
    np.testing.assert_allclose(clf.predict_proba(image), np.full((1, 10), 0.1), rtol=1e-6)
    clf.weights["fc2.bias"][7] = math.log(10)  # then only the fc2 bias speaks
    np.testing.assert_allclose(clf.predict_proba(image)[0, 7], 10 / 19, rtol=1e-6)


def test_input_checks():
    clf = hand_network()
    assert list(clf.classes_) == list(range(10))
    assert clf.predict_proba(np.zeros((0, 28, 28), np.uint8)).shape == (0, 10)
    with pytest.raises(ValueError, match=r"\(n, 28, 28\)"):
        clf.predict_proba(np.zeros((28, 28), np.uint8))
    with pytest.raises(ValueError, match="float"):
        clf.predict_proba(np.zeros((1, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"0\.\.255"):
        clf.predict_proba(np.full((1, 28, 28), 256, np.int32))


# ---------------------------------------------------------------- loader refusals


@pytest.fixture
def good(tmp_path) -> tuple[dict[str, np.ndarray], dict, Path]:
    rng = np.random.default_rng(1)
    weights = {
        k: rng.normal(size=s).astype(np.float32) for k, s in cnn.expected_shapes(2, 4).items()
    }
    meta = meta_for(2, 4)
    path = tmp_path / "cnn.npz"
    cnn.save_weights(path, weights, meta)
    return weights, meta, path


def write_raw(path: Path, arrays: dict, meta: object = None) -> Path:
    """An .npz written without save_weights' checks, as a tampered file would be."""
    extra = {} if meta is None else {"meta": np.array(json.dumps(meta))}
    np.savez(path, **arrays, **extra)
    return path


def test_good_file_round_trips(good):
    weights, meta, path = good
    clf = cnn.CNNClassifier.load(path)
    assert clf.meta == meta
    for key, value in weights.items():
        np.testing.assert_array_equal(clf.weights[key], value)
    assert not list(path.parent.glob(".cnn.npz.*"))  # no temp file left behind


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (
            lambda w: w.update({"conv1.weight": np.zeros((3, 3), np.float32)}),
            r"cnn\.npz is damaged: conv1\.weight has shape \(3, 3\) "
            r"but \(2, 1, 5, 5\) was expected",
        ),
        (lambda w: w["fc1.weight"].__setitem__((0, 0), np.nan), "fc1.weight holds NaN"),
        (lambda w: w["conv2.bias"].__setitem__(1, np.inf), "conv2.bias holds NaN or infinite"),
        (lambda w: w.pop("fc2.bias"), r"fc2\.bias missing"),
        (lambda w: w.update({"fc3.weight": np.zeros(1, np.float32)}), "unexpected.*fc3.weight"),
        (
            lambda w: w.update({"fc2.weight": w["fc2.weight"].astype(np.float64)}),
            "fc2.weight has dtype float64 but float32",
        ),
    ],
)
def test_tampered_arrays_are_refused(good, tamper, message):
    weights, meta, path = good
    tamper(weights)
    assert_refused(path, weights, meta, message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(format="mnist-knn/knn"), "not a CNN weights file"),
        (lambda m: m.update(format_version=2), "format version 2; this code reads version 1"),
        (lambda m: m["architecture"].update(name="resnet"), "architecture 'resnet'"),
        (lambda m: m["architecture"].update(width=0), "width is 0"),
        (lambda m: m["architecture"].update(width="2"), "width is '2'"),
        (lambda m: m["architecture"].update(hidden=10**9), "hidden is 1000000000"),
        (lambda m: m.pop("architecture"), "architecture None"),
    ],
)
def test_wrong_meta_is_refused(good, change, message):
    weights, meta, path = good
    change(meta)
    assert_refused(path, weights, meta, message)


def assert_refused(path, weights, meta, message: str) -> None:
    """Written as they are, ``weights`` and ``meta`` make a file the loader refuses."""
    write_raw(path, weights, meta)
    with pytest.raises(ValueError, match=message):
        cnn.load_weights(path)


def test_missing_or_unreadable_meta_is_refused(good):
    weights, _, path = good
    write_raw(path, weights)
    with pytest.raises(ValueError, match="array meta missing"):
        cnn.load_weights(path)
    np.savez(path, meta=np.array("{not json"), **weights)
    with pytest.raises(ValueError, match="meta is not valid JSON"):
        cnn.load_weights(path)
    np.savez(path, meta=np.array([1.0, 2.0]), **weights)
    with pytest.raises(ValueError, match="expected a JSON string"):
        cnn.load_weights(path)
    np.savez(path, meta=np.array("[1, 2]"), **weights)
    with pytest.raises(ValueError, match="meta is not a JSON object"):
        cnn.load_weights(path)


def test_unreadable_files_are_refused(good, tmp_path):
    _, meta, path = good
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"cnn\.npz is damaged: not a readable \.npz"):
        cnn.load_weights(path)
    path.write_bytes(b"hello, not a zip")
    with pytest.raises(ValueError, match="not a readable"):
        cnn.load_weights(path)
    # An object array would need pickle, which could run code: refused, never unpickled.
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, meta=np.array(json.dumps(meta)), x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="cannot be read"):
        cnn.load_weights(pickled)
    with pytest.raises(FileNotFoundError):
        cnn.load_weights(tmp_path / "absent.npz")


def test_size_limits_checked_before_loading(good, tmp_path, monkeypatch):
    _, _, path = good
    monkeypatch.setattr(cnn, "MAX_BYTES", path.stat().st_size - 1)
    with pytest.raises(ValueError, match="more than the"):
        cnn.load_weights(path)
    # A "zip bomb": tiny on disk, huge once inflated.
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("x.npy", b"\0" * 4_000_000)
    monkeypatch.setattr(cnn, "MAX_BYTES", 1_000_000)
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(ValueError, match="inflate to 4,000,"):
        cnn.load_weights(bomb)


def test_save_refuses_bad_weights_and_keeps_the_old_file(good):
    weights, meta, path = good
    before = path.read_bytes()
    weights["fc1.bias"] = weights["fc1.bias"][:2]
    with pytest.raises(ValueError, match=r"fc1\.bias has shape"):
        cnn.save_weights(path, weights, meta)
    assert path.read_bytes() == before


# ---------------------------------------------------------------- the shipped weights


def test_shipped_weights_read_mnist_digits():
    clf = cnn.CNNClassifier.load()  # data/cnn/cnn.npz, shipped with the project
    assert clf.meta["test_accuracy"] >= 0.985
    data = load_mnist(download=False)  # the tests' 500 test digits (conftest)
    x, y = data.x_test[:200], data.y_test[:200]
    predicted = clf.predict(x)
    assert (predicted[:10] == y[:10]).all()
    assert (predicted == y).mean() >= 0.98
    np.testing.assert_allclose(clf.predict_proba(x).sum(axis=1), 1, rtol=1e-5)
