"""The real thing: the default preset trained on all 60,000 digits, scored on all 10,000."""

import json
import os
import subprocess
import sys

import pytest

from mnist_knn.data import PROJECT_DATA_DIR


@pytest.mark.slow
def test_evaluate_json_on_full_mnist(tmp_path):
    env = {**os.environ, "MNIST_DIR": str(PROJECT_DATA_DIR), "MNIST_KNN_MODELS_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "mnist_knn", "evaluate", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["n_test"] == 10000
    assert report["preset"] == "default"
    assert report["accuracy"] >= 0.97
