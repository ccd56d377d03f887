"""python -m mnist_knn: every command's help, train, evaluate --json, predict --json."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mnist_knn.__main__ import main
from mnist_knn.synthetic import ONE, ZERO, stroke_image


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "mnist_knn", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["predict"]])
def test_help(command):
    result = run(*command, "--help")
    assert result.returncode == 0
    assert "usage: python -m mnist_knn" in result.stdout
    assert "--preset" in result.stdout or not command


def test_train_then_evaluate_json(models_dir):
    result = run("train", "--preset", "default")
    assert result.returncode == 0, result.stderr
    assert "default: test accuracy" in result.stdout
    assert "fitting default" in result.stderr  # progress output
    result = run("evaluate", "--json")
    assert result.returncode == 0, result.stderr
    assert "Matthews correlation" in result.stdout
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["preset"] == "default" and report["n_test"] == 500
    assert 0.9 <= report["accuracy"] <= 1
    assert {"log_loss", "cohen_kappa", "roc_auc_ovr_macro", "top3_accuracy"} <= set(report)


def test_predict_json_keeps_going_past_a_bad_file(tmp_path, capsys):
    one, zero, bad = tmp_path / "one.png", tmp_path / "zero.jpg", tmp_path / "bad.png"
    stroke_image(ONE).save(one)
    stroke_image(ZERO, mode="RGB", background=(255, 255, 255), ink=(0, 0, 0)).save(zero)
    bad.write_bytes(b"definitely not a png")
    code = main(["predict", "--json", str(one), str(bad), str(zero)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert [line["file"] for line in lines] == [str(one), str(bad), str(zero)]
    assert lines[0]["label"] == 1 and lines[2]["label"] == 0
    # The Draw page's verdict: a clear 1 is sure, and says why.
    assert lines[0]["sure"] is True and "are 1s" in lines[0]["reason"]
    assert lines[0]["runner_up"] is None and lines[0]["advice"] == ""
    assert len(lines[0]["probabilities"]) == 10
    assert abs(sum(lines[0]["probabilities"]) - 1) < 1e-4
    assert "not a readable image" in lines[1]["error"] and "bad.png" in lines[1]["error"]


def test_predict_plain_output(tmp_path, capsys):
    one = tmp_path / "one.png"
    stroke_image(ONE).save(one)
    assert main(["predict", str(one)]) == 0
    assert capsys.readouterr().out.startswith(f"{one}: 1 (")


def test_unknown_preset_is_refused():
    result = run("evaluate", "--preset", "nope")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_predict_says_when_it_is_not_sure(tmp_path, capsys):
    x = np.linspace(0, 1, 100)  # a wavy line across the box: no digit
    wave = [(0.1 + 0.8 * a, 0.5 + 0.3 * np.sin(6 * np.pi * a)) for a in x]
    path = tmp_path / "wave.png"
    stroke_image(wave, width=12).save(path)
    assert main(["predict", "--json", str(path)]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["sure"] is False and "far from every training digit" in line["reason"]
    assert line["advice"].startswith("Is it a digit? Draw it larger")
    assert main(["predict", str(path)]) == 0
    assert ", not sure: This drawing is far from every training digit" in capsys.readouterr().out


def test_train_on_labels_outside_0_to_9_is_a_message(tmp_path, monkeypatch, models_dir, capsys):
    from mnist_knn import data as mnist_data

    data = mnist_data.load_mnist(download=False)
    labels = data.y_train.copy()
    labels[5] = 10  # not a digit
    arrays = {
        "train_images": data.x_train,
        "train_labels": labels,
        "test_images": data.x_test,
        "test_labels": data.y_test,
    }
    for key, (stem, _, _) in mnist_data.MNIST_FILES.items():
        mnist_data.write_idx(tmp_path / f"{stem}.gz", arrays[key])
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert main(["train"]) == 2
    err = capsys.readouterr().err
    assert "train labels hold 10, not a digit 0-9" in err and "Traceback" not in err
