"""Command line: python -m mnist_knn COMMAND --help (train, evaluate, predict, tune, select,
bench, compare, embed, train-cnn, class)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from .artifacts import StaleArtifactWarning
from .data import ConsoleProgress, MnistNotFoundError
from .evaluation.metrics import METRICS, compute_metrics
from .evaluation.tuning import CV_CONFIG, load_tuning, tuning_path
from .model import DEFAULT_PRESET, PRESETS
from .preprocess import ImageError, load_image
from .reading import Reference, classify
from .trained import load_artifact


def _add_preset(parser: argparse.ArgumentParser, allow_all: bool = False) -> None:
    choices = [*PRESETS, "all"] if allow_all else list(PRESETS)
    parser.add_argument(
        "--preset",
        choices=choices,
        default=DEFAULT_PRESET,
        help=f"model preset (default: {DEFAULT_PRESET})"
        + ("; 'all' builds every preset" if allow_all else ""),
    )


def _artifact(preset: str, rebuild: bool = False):
    """Load (or build, with progress on stderr) the artifact of ``preset``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StaleArtifactWarning)
        artifact = load_artifact(preset, progress=ConsoleProgress(), rebuild=rebuild)
    for warning in caught:
        print(f"note: {warning.message}", file=sys.stderr)
    return artifact


def cmd_train_cnn(args) -> int:
    try:
        from .evaluation import cnn_training
    except ImportError as exc:  # torch is an optional extra, for training only
        print(
            f"error: training the CNN needs PyTorch ({exc}). Install the extra with "
            "`pip install -r requirements-cnn.txt` (CPU build); the app reads the shipped "
            "weights without it.",
            file=sys.stderr,
        )
        return 2
    return cnn_training.main(args.cnn_args)


def cmd_train(args) -> int:
    for name in PRESETS if args.preset == "all" else [args.preset]:
        artifact = _artifact(name, rebuild=args.force)
        meta = artifact.meta
        print(
            f"{name}: test accuracy {meta['accuracy']:.4f} "
            f"(built {meta['built']} in {meta['build_seconds']:.1f} s)"
        )
    return 0


def cmd_evaluate(args) -> int:
    artifact = _artifact(args.preset)
    values = compute_metrics(artifact.evaluation)
    n_test = len(artifact.evaluation.y_true)
    print(f"preset {args.preset} - {PRESETS[args.preset].description}")
    print(f"{n_test:,} test digits, {artifact.meta['n_train']:,} training digits")
    for name, (label, _) in METRICS.items():
        print(f"  {label:<32} {values[name]:.4f}")
    if args.json:
        print(json.dumps({"preset": args.preset, "n_test": n_test, **values}))
    return 0


def cmd_predict(args) -> int:
    artifact = _artifact(args.preset)
    # Each file is read as the Draw page reads a drawing: one search, the preset's vote,
    # and the same verdict ("sure", or not sure and why).
    reference = Reference.from_artifact(artifact)
    spec = artifact.preset
    failed = 0
    for path in args.files:
        try:
            read = classify(load_image(path), artifact.model, reference, spec.k, spec.weights)
        except ImageError as exc:
            failed += 1
            message = str(exc) if str(exc).startswith(path) else f"{path}: {exc}"
            if args.json:
                print(json.dumps({"file": path, "error": message}))
            else:
                print(f"error: {message}", file=sys.stderr)
            continue
        label, proba = read.label, [round(float(p), 6) for p in read.proba]
        verdict = read.verdict
        if args.json:
            print(
                json.dumps(
                    {
                        "file": path,
                        "label": label,
                        "probabilities": proba,
                        "sure": verdict.sure,
                        "reason": verdict.reason,
                        "runner_up": verdict.runner_up,
                        "advice": verdict.advice,
                    }
                )
            )
        else:
            sure = "" if verdict.sure else f", not sure: {verdict.reason}"
            print(f"{path}: {label} ({proba[label]:.0%}{sure})")
    return 1 if failed else 0


def cmd_tune(args) -> int:
    for name in PRESETS if args.preset == "all" else [args.preset]:
        tuning = load_tuning(name, progress=ConsoleProgress(), rebuild=args.force)
        preset, meta = PRESETS[name], tuning.meta
        print(
            f"{name}: {CV_CONFIG['n_splits']}-fold cross-validated accuracy on "
            f"{meta['n_train']:,} training digits (computed {meta['built']} "
            f"in {meta['seconds']:.1f} s) -> {tuning_path(name)}"
        )
        print(f"  {'k':>3}  " + "  ".join(f"{w:>8}" for w in tuning.weights))
        for i, k in enumerate(tuning.ks):
            print(f"  {k:>3}  " + "  ".join(f"{tuning.mean[w, i]:8.4f}" for w in range(2)))
        k, weights, accuracy = tuning.best()
        print(
            f"  best: k={k}, {weights} weights ({accuracy:.4f}); the preset uses "
            f"k={preset.k}, {preset.weights} ({tuning.accuracy(preset.k, preset.weights):.4f})"
        )
    return 0


CONFIG_FIELDS = ("deskew", "blur", "edges", "pca", "shifts", "angles", "k", "weights")


def cmd_select(args) -> int:
    from .data import load_mnist
    from .evaluation.selection import run_selection

    result = run_selection(load_mnist(), folds=args.folds, progress=ConsoleProgress())
    for key in ("best_plain", "best_augmented"):
        row = result[key]
        config = " ".join(f"{name}={row[name]}" for name in CONFIG_FIELDS)
        print(f"{key}: CV accuracy {row['accuracy']:.4f} ± {row['std']:.4f} with {config}")
    print(
        f"{args.folds}-fold CV on the training set in {result['seconds']:.0f} s; "
        "full table in models/selection.json"
    )
    return 0


NOTES_MARKER = "<!-- notes: kept by bench --output -->"


def cmd_bench(args) -> int:
    from .evaluation.bench import (
        bench_drawn,
        blas_lines,
        drawn_table,
        frontier,
        frontier_table,
        machine,
        markdown_table,
        ratio_lines,
        run_bench,
        speed_in_env,
    )

    if args.drawn:
        from .evaluation import real_drawings

        if not real_drawings.available():
            print(f"error: no real drawings under {real_drawings.shared_dir()}", file=sys.stderr)
            return 2
        rows = bench_drawn(args.preset or ("default", "best"), n=args.drawn)
        print(f"Machine: {machine()}\n")
        print(drawn_table(rows))
        if args.json:
            print(json.dumps(rows))
        return 0

    print("BLAS in use (threadpoolctl):")
    for line in blas_lines():
        print(f"  {line}")
    results = run_bench(args.preset or None, n_single=args.single)
    table = markdown_table(results)
    print(f"\nMachine: {machine()}\n")
    print(table)
    for line in ratio_lines(results):
        print(line)
    anchors = frontier_table(frontier(results))
    print(f"\nEvery preset beside the anchors, by time per digit:\n\n{anchors}")
    kernels = []
    if args.kernel:
        # The same models, timed again in fresh processes: OpenBLAS reads these variables
        # only when it loads. "unset" is its own choice for this CPU.
        names = [r["preset"] for r in results]
        for coretype in ["unset", *args.kernel]:
            env = {"OPENBLAS_CORETYPE": None if coretype == "unset" else coretype}
            if coretype == "unset":  # OpenBLAS's own choice of kernel and blocking
                env["OPENBLAS_L2_SIZE"] = None
            speeds = speed_in_env(names, env, n_single=args.single, n_batch=args.kernel_batch)
            kernels += ratio_lines(speeds, f"OPENBLAS_CORETYPE={coretype}")
        print(
            "Speed against baseline with each BLAS kernel (first "
            f"{args.kernel_batch:,} test digits; models from models/):"
        )
        for line in kernels:
            print(f"  {line}")
    if args.json:
        print(json.dumps(results))
    if args.output:
        from pathlib import Path

        from .artifacts import atomic_write_bytes

        text = (
            "# Benchmarks\n\n"
            "Measured by `python -m mnist_knn bench --output docs/benchmarks.md`: each preset in "
            "a fresh process, built cold into a temp folder, then timed. *10k test set*: "
            "`predict` on all 10,000 test digits. *Single drawing*: the Draw page's own path "
            "(`reading.classify`: `preprocess_steps`, one search of 15 neighbours, the vote of "
            "k and the verdict) on test digits re-drawn as 280x280 canvas drawings "
            f"(`synthetic.redraw`), {args.single} drawings after 10 warm-up runs. "
            "*Cold build*: load MNIST, fit, classify the test set, save. "
            "*Warm load*: load MNIST and the saved artifact. *Peak memory*: the process's "
            "peak RSS (includes Python, the libraries and MNIST itself).\n\n"
            f"Machine: {machine()}\n\nBLAS: "
            + "; ".join(blas_lines())
            + f"\n\n{table}\n"
            + "".join(f"- {line}\n" for line in ratio_lines(results) + kernels)
            + "\n## Every preset beside the anchors\n\n"
            "Sorted by time per digit; *Pareto frontier*: no other timed row is both at least "
            "as accurate and at least as fast. The presets' times: the CPU time (median, one "
            "thread) to classify one 28x28 test digit (`reading.search`: features, search, "
            "vote; a canvas drawing adds its preprocessing, about 3 ms); the anchors' come "
            "from their sources, most from other machines.\n\n"
            f"{anchors}"
        )
        # Hand-written notes below the marker survive a re-run.
        path = Path(args.output)
        old = path.read_text() if path.exists() else ""
        if NOTES_MARKER in old:
            text += "\n" + old[old.index(NOTES_MARKER) :]
        atomic_write_bytes(path, text.encode())
        print(f"wrote {args.output}")
    return 0


def cmd_compare(args) -> int:
    from .data import load_mnist
    from .evaluation.compare import load_comparison, markdown_table

    data = load_mnist(progress=ConsoleProgress())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleArtifactWarning)
        comparison = load_comparison(
            data, progress=ConsoleProgress(), rebuild=True if args.force else (args.only or False)
        )
    print(f"{'model':<26} {'accuracy':>8} {'fit (s)':>9} {'predict (s)':>11} {'size (MB)':>10}")
    for row in comparison.rows:
        print(
            f"{row['title']:<26} {row['accuracy']:>8.4f} {row['fit_seconds']:>9.2f} "
            f"{row['predict_seconds']:>11.2f} {row['size_bytes'] / 1e6:>10.2f}"
        )
    print(
        f"trained on {comparison.rows[0]['n_train']:,} digits, predict time for "
        f"{comparison.rows[0]['n_test']:,} test digits; written to models/compare.npz"
    )
    if args.markdown:
        print(markdown_table(comparison.rows))
    if args.json:
        print(json.dumps(comparison.rows))
    return 0


def cmd_embed(args) -> int:
    from .data import load_mnist
    from .evaluation.digit_map import DEFAULTS, load_map, map_accuracy

    data = load_mnist(progress=ConsoleProgress())
    config = {"per_class": args.per_class, "max_iter": args.max_iter}
    config = {key: value for key, value in config.items() if value is not None}
    wanted = DEFAULTS | config
    digit_map = load_map(data, progress=ConsoleProgress(), rebuild=args.force, **wanted)
    meta = digit_map.meta
    print(
        f"{meta['n']:,} training digits mapped ({meta['config']['per_class']} per digit at "
        f"most): PCA {meta['pca_seconds']:.1f} s, t-SNE {meta['tsne_seconds']:.1f} s "
        f"({meta.get('tsne_cpu_seconds', float('nan')):.1f} s of CPU; built {meta['built']})"
    )
    for method in ("pca", "tsne"):
        print(
            f"  5-NN leave-one-out accuracy on the {method} map: "
            f"{map_accuracy(digit_map, method, 5):.4f}"
        )
    print("written to models/embedding.npz")
    return 0


def _default_store() -> str | None:
    """The app's store: $MNIST_KNN_STORE, else the key in .streamlit/secrets.toml, else None."""
    import os
    import tomllib

    from .classroom.store import STORE_ENV
    from .data import PROJECT_ROOT

    if os.environ.get(STORE_ENV):
        return os.environ[STORE_ENV]
    try:
        secrets = tomllib.loads((PROJECT_ROOT / ".streamlit" / "secrets.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None
    value = secrets.get(STORE_ENV)
    return str(value) if value else None


def cmd_class(args) -> int:
    """Export, import or delete the class's drawings (the teacher's actions, on the server)."""
    from pathlib import Path

    from .artifacts import atomic_write_bytes
    from .classroom.exchange import export_csv, export_idx_zip, export_npz, read_export, with_room
    from .classroom.limits import MAX_IMPORT_FILE_BYTES, size_text
    from .classroom.store import DrawingStore, StoreError

    try:
        store = DrawingStore(args.store or _default_store())
        if args.action == "export":
            export = {"csv": export_csv, "zip": export_idx_zip, "npz": export_npz}[args.format]
            items = store.query(room=args.room, with_png=args.format == "npz")
            atomic_write_bytes(args.out, export(items))
            print(f"exported {len(items)} drawings to {args.out}")
        elif args.action == "import":
            path = Path(args.file)
            size = path.stat().st_size
            if size > MAX_IMPORT_FILE_BYTES:
                raise ValueError(
                    f"{path.name}: cannot import it: the file is {size_text(size)}; at most "
                    f"{size_text(MAX_IMPORT_FILE_BYTES)} can be imported at once"
                )

            def classify(images):
                artifact = _artifact(args.preset)
                result = artifact.model.search(images)
                return result.labels, result.proba, artifact.preset.name, artifact.preset.k

            items = read_export(path.read_bytes(), path.name, classify, idx_room=args.room or "")
            if args.room is not None:
                items = with_room(items, args.room)
            added, present = store.add(items)
            print(f"imported {added} drawings from {path.name} ({present} were already there)")
        else:
            if args.room is None:
                raise ValueError('say which room to delete with --room ("" for no room)')
            if not args.yes:
                raise ValueError(f"add --yes to delete every drawing of room {args.room!r}")
            print(f"deleted {store.delete_room(args.room)} drawings of room {args.room!r}")
    except (StoreError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_knn",
        description="A k-nearest-neighbours digit classifier trained on MNIST.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="build the models/ artifacts",
        description="Fit a preset and classify "
        "the 10,000 test digits; write the result to models/<preset>.npz.",
    )
    _add_preset(train, allow_all=True)
    train.add_argument("--force", action="store_true", help="rebuild even if up to date")
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="print the test-set metrics",
        description="Print the metric table of a preset on the 10,000 MNIST test digits.",
    )
    _add_preset(evaluate)
    evaluate.add_argument(
        "--json", action="store_true", help="end with one JSON object of all metrics"
    )
    evaluate.set_defaults(func=cmd_evaluate)

    predict = commands.add_parser(
        "predict",
        help="classify image files",
        description="Classify drawings or photos "
        "of digits (PNG, JPEG, …), each turned into an MNIST-style 28x28 image first.",
    )
    _add_preset(predict)
    predict.add_argument("--json", action="store_true", help="one JSON object per file")
    predict.add_argument("files", nargs="+", metavar="FILE", help="image files")
    predict.set_defaults(func=cmd_predict)

    tune = commands.add_parser(
        "tune",
        help="cross-validate k on the training set",
        description="Accuracy of k = 1..15 with uniform and distance weights by "
        f"{CV_CONFIG['n_splits']}-fold stratified cross-validation on the training digits "
        "(the test set is never used); written to models/tuning-<preset>.npz.",
    )
    _add_preset(tune, allow_all=True)
    tune.add_argument("--force", action="store_true", help="recompute even if up to date")
    tune.set_defaults(func=cmd_tune)

    select = commands.add_parser(
        "select",
        help="choose hyperparameters by cross-validation",
        description="Grid "
        "search (deskew, blur, PCA size, k, weights, then augmentation) by k-fold "
        "cross-validation on the training set only; writes models/selection.json.",
    )
    select.add_argument("--folds", type=int, default=5, help="number of folds (default: 5)")
    select.set_defaults(func=cmd_select)

    bench = commands.add_parser(
        "bench",
        help="time every preset against baseline",
        description="Measure test "
        "accuracy, 10k test-set time, single-drawing latency, build time, warm load and "
        "peak memory of each preset, each in a fresh process, with ratios against baseline.",
    )
    bench.add_argument(
        "--preset",
        action="append",
        choices=list(PRESETS),
        help="preset to measure (repeatable; default: all; baseline is always measured)",
    )
    bench.add_argument("--single", type=int, default=200, help="drawings timed one by one")
    bench.add_argument(
        "--drawn",
        type=int,
        nargs="?",
        const=1000,
        metavar="N",
        help="instead: read N real drawings (default 1000) of the dev writers in ../shared on "
        "four canvases, as the Draw page reads them (accuracy, sure answers, not sure, time)",
    )
    bench.add_argument(
        "--kernel",
        action="append",
        metavar="CORETYPE",
        help="also time the presets again with OPENBLAS_CORETYPE=CORETYPE (e.g. Haswell) and "
        "with it unset, each in a fresh process, and print both speed ratios (repeatable)",
    )
    bench.add_argument(
        "--kernel-batch",
        type=int,
        default=10_000,
        help="test digits timed per kernel with --kernel (default: all 10,000)",
    )
    bench.add_argument("--json", action="store_true", help="also print the results as JSON")
    bench.add_argument("--output", help="write the table as markdown (docs/benchmarks.md)")
    bench.set_defaults(func=cmd_bench)

    compare = commands.add_parser(
        "compare",
        help="compare KNN with other classifiers",
        description="Train logistic regression, a linear SVM, an RBF SVM on PCA features and "
        "a random forest; time them, the shipped CNN (data/cnn/cnn.npz) and every KNN preset "
        "on the test set, one drawing at a time, and on real drawings when ../shared has "
        "them; write models/compare.npz (and compare-*.skops). Only missing or stale models "
        "are rebuilt.",
    )
    compare.add_argument("--force", action="store_true", help="rebuild every model")
    compare.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="rebuild this model even if up to date (repeatable; e.g. random_forest, knn_default)",
    )
    compare.add_argument("--json", action="store_true", help="also print the rows as JSON")
    compare.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    compare.set_defaults(func=cmd_compare)

    embed = commands.add_parser(
        "embed",
        help="build the 2-D digit map",
        description="PCA and t-SNE (scikit-learn) of a stratified sample of training digits "
        "for the Digit map page; writes models/embedding.npz. Up to date maps are reused.",
    )
    embed.add_argument("--per-class", type=int, help="digits sampled per label (default: 500)")
    embed.add_argument("--max-iter", type=int, help="t-SNE iterations (default: 1000)")
    embed.add_argument("--force", action="store_true", help="rebuild even if up to date")
    embed.set_defaults(func=cmd_embed)

    train_cnn = commands.add_parser(
        "train-cnn",
        help="train the CNN of Compare models (needs requirements-cnn.txt)",
        description="Train the small CNN shown beside the KNN on Compare models, choosing its "
        "settings on a validation split of the training set, and write data/cnn/cnn.npz. "
        "Needs PyTorch (requirements-cnn.txt); `train-cnn -- --help` lists its options.",
    )
    train_cnn.add_argument("cnn_args", nargs=argparse.REMAINDER, help="options of the training")
    train_cnn.set_defaults(func=cmd_train_cnn)

    classroom = commands.add_parser(
        "class",
        help="export, import or delete the class's drawings",
        description="The Class drawings page's teacher actions, for the server's command line, "
        "with the same checks and bounds (5,000 drawings per import, 20,000 per room). Exits "
        "with status 1 and a message when refused.",
    )
    class_actions = classroom.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, text in (
        ("export", "write the drawings of a room (or all) as CSV, IDX zip or npz"),
        ("import", "add the drawings of an export (CSV, IDX zip or npz) to the store"),
        ("delete", "delete every drawing of a room"),
    ):
        action = class_actions.add_parser(name, help=text, description=text)
        action.add_argument(
            "--store",
            help="a SQLite file or database URL (default: the app's, $MNIST_KNN_STORE or "
            ".streamlit/secrets.toml, else classroom/drawings.sqlite)",
        )
        action.add_argument(
            "--room",
            help={
                "export": "only this room (default: every room)",
                "import": "put every drawing in this room (an IDX zip's room)",
                "delete": 'the room to delete ("" for the drawings without one)',
            }[name],
        )
        action.set_defaults(func=cmd_class)
    class_actions.choices["export"].add_argument(
        "--format", choices=["csv", "zip", "npz"], default="npz"
    )
    class_actions.choices["export"].add_argument("--out", required=True, help="the file to write")
    class_actions.choices["import"].add_argument("file", help="the export file to import")
    _add_preset(class_actions.choices["import"])
    class_actions.choices["delete"].add_argument("--yes", action="store_true", help="really delete")

    # train-cnn hands its options to the training's own parser (torch is imported only then).
    args, extra = parser.parse_known_args(argv)
    if args.func is cmd_train_cnn:
        args.cnn_args = [a for a in [*extra, *args.cnn_args] if a != "--"]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args)
    except (MnistNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
