"""Augmentation, hyperparameter selection by CV, and the benchmark runner (on small data)."""

from dataclasses import replace

import numpy as np
import pytest

from mnist_knn import load_mnist
from mnist_knn.evaluation.bench import markdown_table, run_bench
from mnist_knn.evaluation.selection import augment_search, best_row, grid_search
from mnist_knn.features import VARIANTS, Augment, shift_images
from mnist_knn.model import PRESETS, make_pipeline


@pytest.fixture(scope="module")
def data():
    return load_mnist(download=False)


def test_shift_images_by_hand():
    image = np.zeros((1, 28, 28), dtype=np.float32)
    image[0, 0, 0] = 1
    image[0, 27, 27] = 2
    down_right = shift_images(image, 1, 1)
    assert down_right[0, 1, 1] == 1 and down_right.sum() == 1  # the other pixel fell off
    up_left = shift_images(image, -1, -1)
    assert up_left[0, 26, 26] == 2 and up_left.sum() == 2


def test_augment_resamples_training_set_only():
    images = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    labels = np.arange(5)
    augment = Augment(shifts=4, angles=(-8.0, 8.0))
    out, out_labels, source = augment.fit_resample(images, labels)
    assert out.shape == (5 * 7, 28, 28)
    np.testing.assert_array_equal(out[:5], images)  # the originals come first
    np.testing.assert_array_equal(out_labels, np.tile(labels, 7))
    np.testing.assert_array_equal(source, np.tile(np.arange(5), 7))
    np.testing.assert_array_equal(augment.transform(images), images)  # never at predict time
    with pytest.raises(ValueError, match="shifts"):
        Augment(shifts=3).offsets()


def test_augmented_pipeline_maps_neighbours_to_original_digits(data):
    preset = replace(PRESETS["default"], shifts=4, angles=(-8.0,), styles=(), variants=())
    x, y = data.x_train[:800], data.y_train[:800]
    model = make_pipeline(preset).fit(x, y)
    assert len(model.train_labels_) == 800 * 6
    found = model.search(data.x_test[:30])
    assert found.ind.max() < 800
    np.testing.assert_array_equal(found.neigh_labels, y[found.ind])
    # A training digit's nearest neighbour is itself (its unshifted copy), at distance 0.
    dist, ind = model.kneighbors(x[:10], n_neighbors=1)
    np.testing.assert_array_equal(ind[:, 0], np.arange(10))
    assert np.allclose(dist[:, 0], 0, atol=1e-3)


def test_grid_and_augment_search_on_small_data(data):
    rows = grid_search(data, folds=2, blurs=(0.0, 1.0), pcas=(10, 30))
    # (no deskew + 2 blurs on pixels + 2 blurs on edges) x 2 sizes x 15 k x 2 weightings
    assert len(rows) == 5 * 2 * 15 * 2
    assert all(0.5 < r["accuracy"] <= 1 for r in rows)
    assert sum(r["edges"] for r in rows) == 2 * 2 * 15 * 2
    top = best_row(rows)
    assert top["accuracy"] == max(r["accuracy"] for r in rows)

    def best_of(edges):
        return max(r["accuracy"] for r in rows if r["edges"] == edges and r["deskew"])

    assert best_of(True) > best_of(False)  # edges beat pixels, even on 3,000 digits
    base = replace(PRESETS["default"], pca=30)
    augmented = augment_search(data, base, folds=2, augments=((4, ()),))
    assert len(augmented) == 30 and {r["shifts"] for r in augmented} == {4}


def test_best_row_prefers_simpler_on_ties():
    rows = [
        {"accuracy": 0.9, "pca": 50, "k": 3},
        {"accuracy": 0.9, "pca": 30, "k": 5},
        {"accuracy": 0.9, "pca": 30, "k": 3},
    ]
    assert best_row(rows) == {"accuracy": 0.9, "pca": 30, "k": 3}


def test_bench_measures_every_preset_against_baseline():
    results = run_bench(["default"], n_single=5)
    assert [r["preset"] for r in results] == ["baseline", "default"]
    baseline, default = results
    assert baseline["batch_speedup"] == 1 and baseline["single_speedup"] == 1
    assert default["batch_speedup"] == pytest.approx(
        baseline["batch_seconds"] / default["batch_seconds"]
    )
    assert 0.8 < default["accuracy"] <= 1 and default["peak_memory_mb"] > 50
    table = markdown_table(results)
    assert table.count("\n") == 4 and "`default`" in table


def test_bench_drawn_reads_real_drawings_as_the_draw_page(monkeypatch):
    from mnist_knn.evaluation import real_drawings
    from mnist_knn.evaluation.bench import DRAWN_VARIANTS, bench_drawn, drawn_table

    monkeypatch.setenv("MNIST_KNN_SHARED", str(real_drawings.PROJECT_ROOT.parent / "shared"))
    if not real_drawings.available():
        pytest.skip("no UNIPEN dev writers beside the project")
    rows = bench_drawn(["default"], n=20)
    assert [(r["background"], r["brush"]) for r in rows] == list(DRAWN_VARIANTS)
    for row in rows:
        assert row["n"] == 20 and 0.3 <= row["accuracy"] <= 1
        assert 0 <= row["not_sure"] <= 1 and len(row["per_digit"]) == 10
        assert row["p50_ms"] > 0
        assert 0 < row["held_n"] < row["n"] and 0 <= row["held_accuracy"] <= 1
    table = drawn_table(rows)
    assert table.count("| `default` |") == 4 and "transparent, default brush" in table


def test_re_ranking_over_turned_copies_compares_each_digit_once(data):
    from mnist_knn.model import restore_pipeline
    from mnist_knn.tangent import tangent_distance, tangents

    preset = replace(PRESETS["best"], styles=())
    assert preset.angles == (-6.0, 6.0)
    x, y = data.x_train[:1500], data.y_train[:1500]
    model = make_pipeline(preset).fit(x, y)
    # Three rows per digit are searched (it, and it turned either way); its image is kept once.
    assert model.copies == 3 and len(model.train_labels_) == 3 * 1500
    assert len(model.rerank_images_) == 1500
    np.testing.assert_array_equal(model.image_row_, np.tile(np.arange(1500), 3))
    queries = data.x_test[:60]
    found = model.search(queries, n_neighbors=15)
    # Each neighbour is a different digit (its nearest copy stands for it)...
    assert all(len(set(row)) == 15 for row in found.ind)
    np.testing.assert_array_equal(found.neigh_labels, y[found.ind])
    assert (found.labels == data.y_test[:60]).mean() > 0.85

    # ... and its tangent distance is measured to the digit's own (unturned) image.
    def view(images):  # deskewed and blurred, as the flatten step receives them
        return model[:2].transform(images).reshape(len(images), -1)

    q, cand = view(queries[:3]), view(x[found.ind[:3, :5].ravel()]).reshape(3, 5, -1)
    cand_tan = tangents(cand.reshape(-1, 28, 28), sigma=0.0).reshape(3, 5, 7, -1)
    query_tan = tangents(q.reshape(-1, 28, 28), sigma=0.0)
    direct = np.sqrt(np.maximum(tangent_distance(q, cand, cand_tan, query_tan), 0))
    np.testing.assert_allclose(found.tangent[:3, :5], direct, rtol=1e-4, atol=1e-4)
    # The artifact's arrays bring the same model back.
    arrays = model.fitted_arrays()
    again = restore_pipeline(preset, arrays).search(queries, n_neighbors=15)
    np.testing.assert_array_equal(again.ind, found.ind)
    np.testing.assert_allclose(again.dist, found.dist, rtol=1e-5)
    # An image row past the kept images, or a missing one, is refused, not searched.
    damaged = dict(arrays, **{"rerank/image_row": arrays["rerank/image_row"] + 1})
    with pytest.raises(ValueError, match="rerank/image_row"):
        restore_pipeline(preset, damaged)
    with pytest.raises(KeyError):
        restore_pipeline(preset, {k: v for k, v in arrays.items() if k != "rerank/image_row"})


def test_variants_let_each_candidate_match_by_its_nearest_deformed_copy(data):
    from mnist_knn.model import restore_pipeline
    from mnist_knn.teaching import VARIANT_WORDS, as_matched, variant_words

    variants = ("turn-6", "turn+6", "larger", "thicker")
    preset = replace(PRESETS["default"], styles=(), variants=variants, candidates=20)
    x, y = data.x_train[:1500], data.y_train[:1500]
    model = make_pipeline(preset).fit(x, y)
    assert model.variant_features_.shape == (4, 1500, 60)
    queries = data.x_test[:60]
    found = model.search(queries, n_neighbors=10)
    first = model.search_features(model.features(queries), n_neighbors=20, first_stage=True)
    # Each neighbour's distance is that of its nearest variant (itself included), measured
    # directly: the training digit deskewed and blurred, deformed, then through the edges
    # and the PCA.
    q = model.features(queries)
    rows = found.ind[:5, :4].ravel()
    views = model[:2].transform(x[rows])
    made = [views] + [VARIANTS[name](views) for name in variants]
    feats = np.stack([model[2:-1].transform(m) for m in made]).reshape(5, 5, 4, -1)
    each = np.linalg.norm(feats - q[None, :5, None], axis=-1)
    np.testing.assert_allclose(found.dist[:5, :4], each.min(axis=0), rtol=1e-4, atol=1e-4)
    # ... and the neighbour says which variant that was (-1: the digit as it is).
    assert found.variant.shape == found.ind.shape and found.variant.min() >= -1
    assert found.variant.max() < len(variants) and (found.variant >= 0).any()
    np.testing.assert_array_equal(found.variant[:5, :4], each.argmin(axis=0) - 1)
    images, words = as_matched(model, views[:4], found.variant[0, :4])
    for image, view, which, said in zip(
        images, views[:4], found.variant[0, :4], words, strict=True
    ):
        expected = view if which < 0 else VARIANTS[variants[which]](view[None])[0]
        np.testing.assert_allclose(image, np.clip(expected, 0, 1))
        assert said == ("" if which < 0 else VARIANT_WORDS[variants[which]])
    assert np.all(np.diff(found.dist, axis=1) >= 0)
    assert np.all(found.dist[:, 0] <= first.dist[:, 0] + 1e-6)  # never farther than before
    assert (found.labels == data.y_test[:60]).mean() > 0.85
    # predict_proba measures variants only where the candidates disagree: the same vote.
    np.testing.assert_allclose(model.predict_proba(queries), found.proba, atol=1e-6)
    np.testing.assert_array_equal(model.predict(queries), found.labels)
    np.testing.assert_array_equal(model.kneighbors(queries, 10)[1], found.ind)
    # The artifact's arrays bring the same model back; a damaged array is refused.
    arrays = model.fitted_arrays()
    again = restore_pipeline(preset, arrays).search(queries, n_neighbors=10)
    np.testing.assert_array_equal(again.ind, found.ind)
    damaged = dict(arrays, **{"variants/features": arrays["variants/features"][:3]})
    with pytest.raises(ValueError, match="variants/features"):
        restore_pipeline(preset, damaged)
    assert variant_words(model) == "turned 6° either way, a tenth larger, with thicker strokes"
    assert variant_words(make_pipeline(PRESETS["best"])) == ""
    with pytest.raises(ValueError, match="unknown variants"):
        make_pipeline(replace(preset, variants=("sideways",)))
    with pytest.raises(ValueError, match="rerank"):
        make_pipeline(replace(preset, rerank=10))


def test_variants_deform_as_named():
    square = np.zeros((1, 28, 28), np.float32)
    square[0, 10:18, 10:18] = 1
    larger, smaller = VARIANTS["larger"](square), VARIANTS["smaller"](square)
    assert larger.sum() == pytest.approx(64 * 1.1**2, rel=0.05)  # the area grows as the side
    assert smaller.sum() == pytest.approx(64 * 0.9**2, rel=0.05)
    assert larger[0, 9, 13] > 0 and smaller[0, 10, 13] < 1  # about the centre
    assert VARIANTS["thicker"](square).sum() > square.sum() > VARIANTS["thinner"](square).sum()
    assert VARIANTS["up"](square)[0, 9:17, 10:18].all() and VARIANTS["right"](square)[0, 10, 18]
    turned = VARIANTS["turn+6"](square)
    np.testing.assert_allclose(turned, Augment(angles=(6.0,)).fit_resample(square, [0])[0][1:])
    for make in VARIANTS.values():  # every one keeps the shape, the dtype and [0, 1]
        out = make(square)
        assert out.shape == square.shape and out.dtype == np.float32
        assert out.min() >= 0 and out.max() <= 1 + 1e-6
