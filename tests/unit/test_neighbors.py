"""The BLAS nearest-neighbour search agrees with scikit-learn's brute force."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from mnist_knn.neighbors import BlasKNeighborsClassifier, smallest_k


@pytest.mark.parametrize(
    ("n", "k"), [(5000, 15), (5000, 1), (300, 15), (20, 20), (128 * 15, 15), (1000, 15)]
)
def test_smallest_k_matches_a_full_sort(n, k):
    rng = np.random.default_rng(n + k)
    scores = rng.standard_normal((37, n)).astype(np.float32)
    expected = np.argsort(scores, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(smallest_k(scores, k), expected)


def test_smallest_k_with_many_ties():
    scores = np.zeros((3, 4096), dtype=np.float32)
    scores[:, 100:] = 1
    picked = smallest_k(scores, 15)
    assert picked.shape == (3, 15) and (picked < 100).all()


@pytest.mark.parametrize("weights", ["uniform", "distance"])
@pytest.mark.parametrize("chunk_bytes", [1 << 27, 4 * 2000 * 7])  # one chunk, then many
def test_matches_scikit_learn(weights, chunk_bytes, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 30)).astype(np.float32)
    y = rng.integers(0, 10, 2000)
    Q = rng.standard_normal((100, 30)).astype(np.float32)
    ref = KNeighborsClassifier(n_neighbors=5, weights=weights, algorithm="brute").fit(X, y)
    monkeypatch.setattr(BlasKNeighborsClassifier, "chunk_bytes", chunk_bytes)
    ours = BlasKNeighborsClassifier(n_neighbors=5, weights=weights).fit(X, y)
    d_ref, i_ref = ref.kneighbors(Q, n_neighbors=12)
    d, i = ours.kneighbors(Q, n_neighbors=12)
    np.testing.assert_array_equal(i, i_ref)
    np.testing.assert_allclose(d, d_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(Q), ref.predict_proba(Q), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(Q), ref.predict(Q))


def test_one_thread_and_many_agree():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3000, 20)).astype(np.float32)
    Q = rng.standard_normal((400, 20)).astype(np.float32)
    y = rng.integers(0, 10, 3000)
    single = BlasKNeighborsClassifier(n_neighbors=3, n_jobs=1)
    single.chunk_bytes = 4 * 3000 * 50
    multi = BlasKNeighborsClassifier(n_neighbors=3, n_jobs=2)
    multi.chunk_bytes = single.chunk_bytes
    a, b = single.fit(X, y).kneighbors(Q), multi.fit(X, y).kneighbors(Q)
    np.testing.assert_array_equal(a[1], b[1])


def test_refuses_other_metrics_and_bad_shapes():
    X, y = np.zeros((10, 3)), np.arange(10) % 2
    with pytest.raises(ValueError, match="euclidean"):
        BlasKNeighborsClassifier(metric="manhattan").fit(X, y)
    knn = BlasKNeighborsClassifier(n_neighbors=2).fit(X, y)
    with pytest.raises(ValueError, match="3 features"):
        knn.kneighbors(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="n_neighbors"):
        knn.kneighbors(np.zeros((1, 3)), n_neighbors=11)


@pytest.mark.parametrize("k", [1, 4, 15])
def test_a_few_queries_by_the_prefix_bound_find_the_exact_neighbours(k):
    rng = np.random.default_rng(k)
    # Falling variances, as principal components have: the first 20 carry most.
    X = (rng.standard_normal((5000, 60)) * np.linspace(3, 0.2, 60)).astype(np.float32)
    y = rng.integers(0, 10, 5000)
    Q = np.concatenate([X[:3] + 0.01, rng.standard_normal((3, 60)).astype(np.float32) * 2])
    ref = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(X, y)
    ours = BlasKNeighborsClassifier(n_neighbors=k).fit(X, y)
    assert hasattr(ours, "prefix_cols_")
    d_ref, i_ref = ref.kneighbors(Q)
    d, i = ours.kneighbors(Q)  # 6 queries: one by one, by the bound
    np.testing.assert_array_equal(i, i_ref)
    np.testing.assert_allclose(d, d_ref, rtol=1e-5, atol=1e-5)
    assert (i[:3, 0] == [0, 1, 2]).all()
    # The many-query path agrees on the same queries.
    many = ours.kneighbors(np.tile(Q, (3, 1)), return_distance=False)
    np.testing.assert_array_equal(many[:6], i)
