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
    predicted, latencies, timings = _timings(artifact, data, data.x_test, n_single)
    return {
        "preset": name,
        "accuracy": float(np.mean(predicted == data.y_test)),
        **timings,
        "single_p95_ms": float(np.percentile(latencies, 95) * 1e3),
        "build_seconds": cold,
        "warm_load_seconds": warm,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_train_rows": len(model.train_labels_),
    }


def _timings(artifact, data, x, n_single: int) -> tuple[np.ndarray, list[float], dict]:
    """Time ``predict`` on the test digits ``x`` (wall clock, CPU of all threads, the
    machine's load) and ``n_single`` drawings one by one on the Draw page's path
    (preprocess, one search of K_MAX neighbours, the vote of k and the verdict), and one
    28x28 digit. Returns (the predictions, the drawings' wall-clock seconds, the figures)."""
    model = artifact.model
    load = os.getloadavg()[0]
    start, start_cpu = time.perf_counter(), time.process_time()
    predicted = model.predict(x)
    batch, batch_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    latencies, cpu = _time_single(artifact, data, n_single)
    return (
        predicted,
        latencies,
        {
            "batch_seconds": batch,
            "batch_cpu_seconds": batch_cpu,  # CPU of all threads: less swayed by other work
            "single_p50_ms": float(np.percentile(latencies, 50) * 1e3),
            "single_cpu_ms": float(np.percentile(cpu, 50) * 1e3),
            "digit_cpu_ms": _time_digits(model, x[:n_single]),
            "load": load,
        },
    )


def _time_digits(model, images) -> float:
    """Median CPU ms to classify one 28x28 digit (``reading.search``: the features, the
    search and the vote, one thread; no canvas preprocessing): what the anchors time."""
    for image in images[:10]:
        reading.search(model, image)
    cpu = []
    for image in images:
        start = time.process_time()
        reading.search(model, image)
        cpu.append(time.process_time() - start)
    return float(np.percentile(cpu, 50) * 1e3)


def _time_single(artifact, data, n_single: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds (all threads) per drawing on the Draw page's path
    (``reading.classify``), after warm-up."""
    reference = reading.Reference.from_artifact(artifact)
    spec, model = artifact.preset, artifact.model
    drawings, _ = redraw(data.x_test[:n_single], seed=0)
    for drawing in drawings[:10]:  # warm caches and thread pools up first
        reading.classify(drawing, model, reference, spec.k, spec.weights)
    latencies, cpu = [], []
    for drawing in drawings:
        start, start_cpu = time.perf_counter(), time.process_time()
        reading.classify(drawing, model, reference, spec.k, spec.weights)
        latencies.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return latencies, cpu


def measure_speed(name: str, n_single: int = 200, n_batch: int = 10_000) -> dict:
    """Time a preset already in models/ (built if missing): the first ``n_batch`` test digits
    in one ``predict``, and ``n_single`` drawings one by one. Run in a fresh process: the
    BLAS library reads OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE once, when it is loaded."""
    from ..data import load_mnist

    data = load_mnist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleArtifactWarning)
        artifact = load_artifact(name, data=data)
    x = data.x_test[:n_batch]
    artifact.model.predict(x[:100])  # warm up
    _, _, timings = _timings(artifact, data, x, n_single)
    return {"preset": name, **timings, "n_batch": len(x), "blas": blas_info()}


def blas_info() -> list[dict]:
    """The BLAS libraries loaded in this process: API, version, kernel, threads, and the
    OpenBLAS environment variables that choose the kernel and its blocking."""
    info = [
        {
            "library": os.path.basename(i.get("filepath", "")),
            "api": i.get("internal_api"),
            "version": i.get("version"),
            "kernel": i.get("architecture"),
            "threads": i.get("num_threads"),
        }
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    env = {k: os.environ.get(k) for k in BLAS_ENV}
    return [dict(row, **env) for row in info]


# Environment variables OpenBLAS reads when it loads: the kernel family to use instead of
# the one it detects for the CPU, and the L2 cache size its blocking assumes.
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def blas_lines() -> list[str]:
    """:func:`blas_info` in words, one line per BLAS library, for ``bench``'s output."""
    env = ", ".join(f"{k}={os.environ.get(k) or 'unset'}" for k in BLAS_ENV)
    return [
        f"{b['api']} {b['version']}: {b['kernel']} kernel, {b['threads']} threads "
        f"({b['library']}); {env}"
        for b in blas_info()
    ]


def speed_in_env(names, env: dict, n_single: int = 200, n_batch: int = 10_000) -> list[dict]:
    """:func:`measure_speed` of each preset in a fresh process whose environment has ``env``
    (a value None removes the variable), e.g. ``{"OPENBLAS_CORETYPE": "Haswell"}``."""
    saved = {k: os.environ.get(k) for k in env}
    context = multiprocessing.get_context("spawn")
    results = []
    try:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = str(v)
        for name in names:
            with context.Pool(1) as pool:  # the child reads the environment as it starts
                results.append(pool.apply(measure_speed, (name, n_single, n_batch)))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return results


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


# ------------------------------------------------------------------ anchors

# Published or earlier-measured results to hold the presets against: (name, what it is,
# test error in %, ms per digit or None where not published, where it ran, source). The
# times are not from this machine except where it says so.
ANCHORS = (
    {
        "name": "L2 KNN, deskew, noise removal, blur, 2-px shifts",
        "kind": "KNN",
        "error": 1.22,
        "ms": None,
        "machine": "",
        "source": "LeCun's MNIST table (K. Wilder, U. Chicago)",
    },
    {
        "name": "KNN, tangent distance (16x16)",
        "kind": "KNN",
        "error": 1.1,
        "ms": None,
        "machine": "",
        "source": "LeCun's MNIST table (LeCun et al. 1998)",
    },
    {
        "name": "LMNN (large-margin nearest neighbour)",
        "kind": "KNN",
        "error": 1.3,
        "ms": None,
        "machine": "",
        "source": "as listed in issue 14 (Weinberger & Saul)",
    },
    {
        "name": "KNN, IDM, shiftable edges",
        "kind": "KNN",
        "error": 0.54,
        "ms": None,
        "machine": "",
        "source": "LeCun's MNIST table (Keysers et al., IEEE PAMI 2007)",
    },
    {
        "name": "KNN, P2DHMDM, shiftable edges",
        "kind": "KNN",
        "error": 0.52,
        "ms": None,
        "machine": "",
        "source": "LeCun's MNIST table (Keysers et al., IEEE PAMI 2007)",
    },
    {
        "name": "ikawrakow/mnist, fastest",
        "kind": "KNN",
        "error": 1.01,
        "ms": 0.12,
        "machine": "16-core desktop",
        "source": "github.com/ikawrakow/mnist (2025), as quoted in issue 14",
    },
    {
        "name": "ikawrakow/mnist, middle",
        "kind": "KNN",
        "error": 0.80,
        "ms": 0.42,
        "machine": "16-core desktop",
        "source": "github.com/ikawrakow/mnist (2025), as quoted in issue 14",
    },
    {
        "name": "ikawrakow/mnist, most accurate",
        "kind": "KNN",
        "error": 0.61,
        "ms": 17.0,
        "machine": "16-core desktop",
        "source": "github.com/ikawrakow/mnist (2025), as quoted in issue 14",
    },
    {
        "name": "seed 004's CNN",
        "kind": "CNN",
        "error": 1.5,
        "ms": None,
        "machine": "",
        "source": "issue 14 (98.5%)",
    },
    {
        "name": "this project's small CNN (numpy forward pass)",
        "kind": "CNN",
        "error": 0.62,
        "ms": 0.85,
        "machine": "this machine, 1 thread, 28x28 input",
        "source": "Compare models (`compare --markdown`, 2026-11-29)",
    },
)


def frontier(results: list[dict], anchors=ANCHORS) -> list[dict]:
    """The presets (from :func:`run_bench`) and the anchors as one list, sorted by time per
    digit (untimed rows last, by error), each with ``frontier``: True when no other timed
    row is at least as accurate and at least as fast (and better in one), None untimed."""
    rows = [
        {
            "name": f"`{r['preset']}` preset",
            "kind": "KNN (this project)",
            "error": 100 * (1 - r["accuracy"]),
            # One 28x28 digit as the anchors time it (no canvas preprocessing), in CPU time:
            # one thread, so what the wall clock shows on a quiet machine, and much less
            # swayed by other work than the wall clock.
            "ms": r.get("digit_cpu_ms", r["single_p50_ms"]),
            "machine": "this machine, 1 thread, 28x28 input",
            "source": "`bench`",
        }
        for r in results
    ] + [dict(a) for a in anchors]
    timed = [r for r in rows if r["ms"] is not None]
    here = [r for r in timed if r["machine"].startswith("this machine") and "KNN" in r["kind"]]
    for r in rows:
        r["frontier"] = None if r["ms"] is None else not _beaten(r, timed)
        # Among the KNNs timed on this machine only (None for the other rows).
        r["frontier_here"] = not _beaten(r, here) if any(r is o for o in here) else None
    return sorted(rows, key=lambda r: (r["ms"] is None, r["ms"] or 0, r["error"]))


def _beaten(row: dict, others: list[dict]) -> bool:
    """Whether another row is at least as accurate and as fast, and better in one."""
    return any(
        o["error"] <= row["error"]
        and o["ms"] <= row["ms"]
        and (o["error"] < row["error"] or o["ms"] < row["ms"])
        for o in others
    )


def frontier_table(rows: list[dict]) -> str:
    """:func:`frontier`'s rows as one Markdown table."""
    lines = [
        "| model | kind | test error | ms per digit | where timed | Pareto frontier "
        "| frontier of the KNNs timed here | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    marks = {True: "**yes**", False: "no", None: "—"}
    for r in rows:
        ms = "not published" if r["ms"] is None else f"{r['ms']:.2f}"
        mark = "untimed" if r["ms"] is None else marks[r["frontier"]]
        lines.append(
            f"| {r['name']} | {r['kind']} | {r['error']:.2f}% | {ms} | {r['machine'] or '—'} "
            f"| {mark} | {marks[r['frontier_here']]} | {r['source']} |"
        )
    return "\n".join(lines) + "\n"


def ratio_lines(results: list[dict], label: str = "as run") -> list[str]:
    """Each preset's speed against baseline in words, e.g. for the kernel comparison."""
    base = next(r for r in results if r["preset"] == "baseline")
    lines = []
    for r in results:
        if r["preset"] == "baseline":
            continue
        line = (
            f"{label}: `{r['preset']}` {base['batch_seconds'] / r['batch_seconds']:.1f}x faster "
            f"on the test set ({r['batch_seconds']:.2f} s vs {base['batch_seconds']:.2f} s), "
            f"{base['single_p50_ms'] / r['single_p50_ms']:.1f}x per drawing "
            f"({r['single_p50_ms']:.2f} vs {base['single_p50_ms']:.2f} ms)"
        )
        if "batch_cpu_seconds" in r:  # CPU time: what the ratio is with the machine to itself
            line += (
                f"; in CPU time {base['batch_cpu_seconds'] / r['batch_cpu_seconds']:.1f}x and "
                f"{base['single_cpu_ms'] / r['single_cpu_ms']:.1f}x"
            )
            if "digit_cpu_ms" in r:
                line += (
                    f" ({base['digit_cpu_ms'] / r['digit_cpu_ms']:.1f}x per 28x28 digit: "
                    f"{r['digit_cpu_ms']:.2f} vs {base['digit_cpu_ms']:.2f} ms)"
                )
        if "load" in r:
            line += f"; load {base['load']:.1f} / {r['load']:.1f}"
        lines.append(line)
    return lines


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
