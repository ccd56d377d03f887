from mnist_knn import load_mnist


def test_small_subset_is_used():
    data = load_mnist(download=False)
    assert data.x_train.shape == (3000, 28, 28)
    assert data.x_test.shape == (500, 28, 28)
