"""Benchmarks: accuracy, speed and memory of every preset, with ratios against baseline."""

from __future__ import annotations

import multiprocessing
import os
import platform
import resource
import tempfile
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_info

from .. import reading
from ..artifacts import StaleArtifactWarning, library_versions
from ..model import PRESETS
from ..synthetic import redraw
from ..trained import load_artifact


def measure_preset(name: str, n_single: int = 200) -> dict:
    """Build ``name`` cold in a temp folder, then time it; run in a fresh process."""
    from ..data import load_mnist

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleArtifactWarning)
        os.environ["MNIST_KNN_MODELS_DIR"] = folder
        start = time.perf_counter()
        load_artifact(name, data=load_mnist())
        cold = time.perf_counter() - start

        start = time.perf_counter()
        data = load_mnist()
        artifact = load_artifact(name, data=data)
        warm = time.perf_counter() - start
    model = artifact.model

    start = time.perf_counter()
    predicted = model.predict(data.x_test)
    batch = time.perf_counter() - start
    accuracy = float(np.mean(predicted == data.y_test))

    # The Draw page's path: preprocess, one search of K_MAX neighbours, the vote of k and
    # the verdict (reading.classify), on test digits re-drawn as canvas drawings.
    reference = reading.Reference.from_artifact(artifact)
    spec = artifact.preset

    def classify(drawing):
        reading.classify(drawing, model, reference, spec.k, spec.weights)

    drawings, _ = redraw(data.x_test[:n_single], seed=0)
    for drawing in drawings[:10]:  # warm caches and thread pools up first
        classify(drawing)
    latencies = []
    for drawing in drawings:
        start = time.perf_counter()
        classify(drawing)
        latencies.append(time.perf_counter() - start)
    return {
        "preset": name,
        "accuracy": accuracy,
        "batch_seconds": batch,
        "single_p50_ms": float(np.percentile(latencies, 50) * 1e3),
        "single_p95_ms": float(np.percentile(latencies, 95) * 1e3),
        "build_seconds": cold,
        "warm_load_seconds": warm,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_train_rows": len(model.train_labels_),
    }


def run_bench(presets=None, n_single: int = 200) -> list[dict]:
    """Measure each preset in its own process (so peak memory is its own), baseline first."""
    names = list(presets or PRESETS)
    if "baseline" in names:
        names.remove("baseline")
    names.insert(0, "baseline")
    context = multiprocessing.get_context("spawn")
    results = []
    for name in names:
        with context.Pool(1) as pool:
            results.append(pool.apply(measure_preset, (name, n_single)))
    base = results[0]
    for row in results:
        row["batch_speedup"] = base["batch_seconds"] / row["batch_seconds"]
        row["single_speedup"] = base["single_p50_ms"] / row["single_p50_ms"]
    return results


def machine() -> str:
    """One line describing this machine and the numeric libraries."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30
    blas = {
        (i.get("internal_api"), i.get("version"), i.get("architecture"))
        for i in threadpool_info()
        if i["user_api"] == "blas"
    }
    versions = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    blas_text = ", ".join(
        f"{api} {version}" + (f" ({kernel} kernels)" if kernel else "")
        for api, version, kernel in sorted(blas, key=str)
    )
    # OpenBLAS picks its kernels for the CPU unless these force others (set on some
    # machines to dodge old OpenBLAS bugs): they change the baseline's speed most.
    forced = [
        f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
    ]
    if forced:
        blas_text += " with " + " ".join(forced)
    return f"{cpu}, {os.cpu_count()} cores, {pages:.0f} GiB; {versions}; BLAS: {blas_text}"


def markdown_table(results: list[dict]) -> str:
    header = (
        "| preset | test accuracy | 10k test set | vs baseline | single drawing p50 / p95 "
        "| vs baseline | cold build | warm load | peak memory |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = [
        f"| `{r['preset']}` | {r['accuracy']:.2%} | {r['batch_seconds']:.2f} s "
        f"| {r['batch_speedup']:.1f}x faster "
        f"| {r['single_p50_ms']:.2f} / {r['single_p95_ms']:.2f} ms "
        f"| {r['single_speedup']:.1f}x faster | {r['build_seconds']:.1f} s "
        f"| {r['warm_load_seconds']:.2f} s | {r['peak_memory_mb']:,.0f} MB |"
        for r in results
    ]
    return header + "\n".join(rows) + "\n"


# ------------------------------------------------------------------ real drawings

# The canvases real drawings are measured on: (background, brush), as the shared renderer
# draws them; the default brush is the canvas's 23 px one, "random" 12-32 px per digit.
DRAWN_VARIANTS = (
    ("white", "default"),
    ("white", "random"),
    ("black", "default"),
    ("transparent", "default"),
)


# The dev writers' institutions on which no setting of the verdict or the preprocessing
# was chosen (docs/real-drawings.md): the rows report them apart as "held out".
HELD_OUT = ("app", "imp", "uqb")


def bench_drawn(presets=("default", "best"), n: int = 1000, seed: int = 0) -> list[dict]:
    """How each preset reads the dev writers' real drawings, as the Draw page reads them.

    For every canvas variant of :data:`DRAWN_VARIANTS`, ``n`` drawings (the same for
    every preset) go through :func:`reading.classify`. Returns one row per (preset,
    variant): accuracy, per-digit accuracy, top confusions, the accuracy of the answers
    marked sure, the share marked not sure, and the time per drawing; the ``held_``
    fields the same for the writers of :data:`HELD_OUT` only.

    Raises
    ------
    FileNotFoundError
        Without the dev writers beside the project (see :mod:`.real_drawings`).
    """
    from ..data import load_mnist
    from . import real_drawings
    from .metrics import confusion, top_confusions

    data = load_mnist()
    artifacts = {name: load_artifact(name, data=data) for name in presets}
    rows = []
    for background, brush in DRAWN_VARIANTS:
        drawings = real_drawings.render(n, seed, background, brush)
        for name, artifact in artifacts.items():
            reference = reading.Reference.from_artifact(artifact)
            spec = artifact.preset
            labels, sure, times = [], [], []
            for canvas in drawings.canvases:
                start = time.perf_counter()
                try:
                    read = reading.classify(canvas, artifact.model, reference, spec.k, spec.weights)
                    labels.append(read.label)
                    sure.append(read.verdict.sure)
                except ValueError:  # no ink found: a wrong answer, and not a sure one
                    labels.append(-1)
                    sure.append(False)
                times.append(time.perf_counter() - start)
            labels, sure = np.array(labels), np.array(sure)
            right = labels == drawings.labels
            held = np.isin(drawings.institutions, HELD_OUT)
            counts = confusion(drawings.labels, np.where(labels < 0, drawings.labels, labels))
            rows.append(
                {
                    "preset": name,
                    "background": background,
                    "brush": brush,
                    "n": len(labels),
                    "accuracy": float(right.mean()),
                    "per_digit": [
                        float(right[drawings.labels == d].mean())
                        if (drawings.labels == d).any()
                        else float("nan")
                        for d in range(10)
                    ],
                    "confusions": top_confusions(counts, 3),
                    "sure_accuracy": float(right[sure].mean()) if sure.any() else float("nan"),
                    "not_sure": float(1 - sure.mean()),
                    "held_n": int(held.sum()),
                    "held_accuracy": float(right[held].mean()) if held.any() else float("nan"),
                    "held_sure_accuracy": float(right[held & sure].mean())
                    if (held & sure).any()
                    else float("nan"),
                    "held_not_sure": float(1 - sure[held].mean()) if held.any() else float("nan"),
                    "p50_ms": float(np.percentile(times, 50) * 1e3),
                }
            )
    return rows


def drawn_table(rows: list[dict]) -> str:
    """:func:`bench_drawn`'s rows as a Markdown table."""
    lines = [
        "| preset | canvas | accuracy | sure answers right | marked not sure | weakest digits "
        "| top confusions | ms per drawing (p50) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    # Each figure is for all seven institutions, then (in brackets) the held-out ones.
    for r in rows:
        per_digit = r["per_digit"]
        weakest = ", ".join(
            f"{d}: {per_digit[d]:.0%}" for d in sorted(range(10), key=per_digit.__getitem__)[:3]
        )
        confused = ", ".join(f"{t}→{p} ({c})" for t, p, c in r["confusions"])
        lines.append(
            f"| `{r['preset']}` | {r['background']}, {r['brush']} brush "
            f"| {r['accuracy']:.1%} ({r.get('held_accuracy', float('nan')):.1%}) "
            f"| {r['sure_accuracy']:.1%} ({r.get('held_sure_accuracy', float('nan')):.1%}) "
            f"| {r['not_sure']:.1%} ({r.get('held_not_sure', float('nan')):.1%}) "
            f"| {weakest} | {confused} "
            f"| {r['p50_ms']:.1f} |"
        )
    return "\n".join(lines) + "\n"
