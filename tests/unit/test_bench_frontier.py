"""bench: the BLAS report, the speed ratios, the kernel comparison, and the anchors table."""

from __future__ import annotations

import os

import pytest

from mnist_knn.evaluation import bench
from mnist_knn.evaluation.bench import ANCHORS, frontier, frontier_table, ratio_lines

RESULTS = [
    {"preset": "baseline", "accuracy": 0.9714, "single_p50_ms": 60.0, "batch_seconds": 10.0},
    {"preset": "default", "accuracy": 0.9858, "single_p50_ms": 5.0, "batch_seconds": 2.0},
    {"preset": "best", "accuracy": 0.9885, "single_p50_ms": 8.0, "batch_seconds": 20.0},
]


def test_frontier_marks_the_rows_nothing_beats_on_both_error_and_time():
    anchors = (
        {"name": "fast", "kind": "KNN", "error": 1.0, "ms": 0.1, "machine": "", "source": "s"},
        {"name": "slow", "kind": "KNN", "error": 0.5, "ms": 20.0, "machine": "", "source": "s"},
        {"name": "paper", "kind": "KNN", "error": 0.52, "ms": None, "machine": "", "source": "s"},
    )
    rows = frontier(RESULTS, anchors)
    by_name = {r["name"]: r for r in rows}
    # "fast" is more accurate than every preset and faster: they are all dominated.
    assert by_name["fast"]["frontier"] and by_name["slow"]["frontier"]
    assert [by_name[f"`{p}` preset"]["frontier"] for p in ("baseline", "default", "best")] == [
        False,
        False,
        False,
    ]
    assert by_name["paper"]["frontier"] is None  # untimed: not placed
    assert [r["name"] for r in rows] == [
        "fast",
        "`default` preset",
        "`best` preset",
        "slow",
        "`baseline` preset",
        "paper",
    ]
    assert by_name["`best` preset"]["error"] == pytest.approx(1.15)
    # Among the KNNs timed on this machine only, default and best are.
    assert (
        by_name["`default` preset"]["frontier_here"] and by_name["`best` preset"]["frontier_here"]
    )
    assert by_name["`baseline` preset"]["frontier_here"] is False
    assert by_name["fast"]["frontier_here"] is None
    # Without the fast anchor, default and best are on the frontier, baseline is not.
    rows = {r["name"]: r["frontier"] for r in frontier(RESULTS, anchors[1:])}
    assert rows["`default` preset"] and rows["`best` preset"] and not rows["`baseline` preset"]


def test_the_anchors_table_has_every_preset_and_every_anchor_with_its_source():
    table = frontier_table(frontier(RESULTS))
    lines = table.strip().splitlines()
    assert len(lines) == 2 + len(RESULTS) + len(ANCHORS)
    assert all(a["source"] for a in ANCHORS)
    errors = {a["name"]: a["error"] for a in ANCHORS}
    assert errors["KNN, P2DHMDM, shiftable edges"] == 0.52
    assert "| 1.01% | 0.12 |" in table  # ikawrakow/mnist's fastest
    assert "| `best` preset | KNN (this project) | 1.15% | 8.00 |" in table
    assert table.count("**yes**") == 4 + 2  # ikawrakow's three and the CNN; default, best


def test_ratio_lines_say_how_much_faster_than_baseline():
    lines = ratio_lines(RESULTS, "OPENBLAS_CORETYPE=Haswell")
    assert lines[0] == (
        "OPENBLAS_CORETYPE=Haswell: `default` 5.0x faster on the test set (2.00 s vs 10.00 s), "
        "12.0x per drawing (5.00 vs 60.00 ms)"
    )
    assert lines[1].startswith("OPENBLAS_CORETYPE=Haswell: `best` 0.5x faster")


def test_blas_report_names_the_library_kernel_threads_and_environment(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.delenv("OPENBLAS_L2_SIZE", raising=False)
    info = bench.blas_info()
    assert info and all(b["api"] and b["threads"] >= 1 for b in info)
    assert all(b["OPENBLAS_CORETYPE"] == "Haswell" and b["OPENBLAS_L2_SIZE"] is None for b in info)
    lines = bench.blas_lines()
    assert all("OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=unset" in line for line in lines)


def test_speed_in_env_runs_in_a_process_that_sees_the_variable_and_restores_ours(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.setenv("OPENBLAS_L2_SIZE", "1048576")
    (row,) = bench.speed_in_env(
        ["default"], {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": None}, 3, 50
    )
    assert row["n_batch"] == 50 and row["preset"] == "default"
    assert all(b["OPENBLAS_CORETYPE"] == "Haswell" for b in row["blas"])
    assert all(b["OPENBLAS_L2_SIZE"] is None for b in row["blas"])
    assert all(b["kernel"] == "Haswell" for b in row["blas"] if b["api"] == "openblas")
    assert "OPENBLAS_CORETYPE" not in os.environ and os.environ["OPENBLAS_L2_SIZE"] == "1048576"


def test_bench_command_prints_blas_ratios_anchors_and_both_kernels(models_dir, tmp_path, capsys):
    from mnist_knn.__main__ import main

    out = tmp_path / "bench.md"
    argv = ["bench", "--preset", "default", "--single", "3", "--kernel", "Haswell"]
    assert main([*argv, "--kernel-batch", "50", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "BLAS in use (threadpoolctl):" in printed and "OPENBLAS_CORETYPE=" in printed
    assert "as run: `default`" in printed and "in CPU time" in printed
    assert "| ikawrakow/mnist, fastest | KNN | 1.01% | 0.12 |" in printed
    assert "OPENBLAS_CORETYPE=unset: `default`" in printed
    assert "OPENBLAS_CORETYPE=Haswell: `default`" in printed
    written = out.read_text()
    assert (
        "## Every preset beside the anchors" in written and "OPENBLAS_CORETYPE=Haswell" in written
    )
