"""Benchmarks of the Draw page: python -m tools.draw_bench {accuracy,stroke} --help.

accuracy  MNIST digits re-drawn as canvas strokes (mnist_knn.synthetic) -> to_mnist -> model.
          --split tune: re-drawn *training* digits 50,000-59,999, classified by a model
          fitted on training digits 0-49,999 only (for choosing preprocessing settings);
          --split test: re-drawn *test* digits, classified by the project's models/ artifact
          (the number to report; never used to choose anything).
(The time to read a drawing, on the Draw page's own path, is measured by
``python -m mnist_knn bench``, beside every preset's accuracy.)
stroke    MNIST's stroke width, from which the canvas brush default is derived.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from mnist_knn import load_mnist, preprocess, reading, synthetic
from mnist_knn.model import DEFAULT_PRESET, K_MAX, get_preset, make_pipeline
from mnist_knn.trained import load_artifact

TUNE_SPLIT = 50_000


def _model_and_digits(args, data):
    """The model to test and the digits to re-draw, for the chosen split."""
    if args.split == "tune":
        print(
            f"fitting {args.preset} on training digits 0-{TUNE_SPLIT - 1:,} "
            "(the re-drawn digits are held out from it)",
            file=sys.stderr,
        )
        model = make_pipeline(get_preset(args.preset)).fit(
            data.x_train[:TUNE_SPLIT], data.y_train[:TUNE_SPLIT]
        )
        x, y = data.x_train[TUNE_SPLIT:], data.y_train[TUNE_SPLIT:]
        # "Far" is judged against held-out MNIST digits as they are, as the app
        # judges against the test digits.
        reference = reading.Reference.from_distances(model.kneighbors(x, n_neighbors=1)[0][:, 0])
    else:
        artifact = load_artifact(args.preset, data=data)
        model, x, y = artifact.model, data.x_test, data.y_test
        reference = reading.Reference.from_artifact(artifact)
    n = min(args.n, len(x)) if args.n else len(x)
    return model, x[:n], y[:n], reference


def cmd_accuracy(args) -> int:
    data = load_mnist()
    model, x, y, reference = _model_and_digits(args, data)
    start = time.perf_counter()
    inputs = np.empty((len(x), 28, 28), dtype=np.uint8)
    backgrounds, styles_all = [], []
    for i in range(0, len(x), args.chunk):
        drawings, styles = synthetic.redraw(x[i : i + args.chunk], seed=args.seed + i)
        for j, (drawing, style) in enumerate(zip(drawings, styles, strict=True)):
            inputs[i + j] = preprocess.to_mnist(drawing)
            backgrounds.append(style.background)
            styles_all.append((style.height, style.brush, style.slant, style.width_scale))
        print(f"  re-drew {i + len(drawings):,} / {len(x):,}", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    result = model.search(inputs, n_neighbors=K_MAX, tangent=reference is not None)
    correct = result.labels == y
    backgrounds = np.array(backgrounds)
    print(
        f"{args.split}: {len(x):,} re-drawn digits, preset {args.preset}: "
        f"accuracy {correct.mean():.2%} ({(~correct).sum()} wrong) "
        f"in {time.perf_counter() - start:.0f} s"
    )
    for bg in synthetic.BACKGROUNDS:
        sel = backgrounds == bg
        print(f"  {bg:<12} {correct[sel].mean():.2%} of {sel.sum():,}")
    if reference is not None:
        print(f"  reference: far > {reference.far:.2f}, typical {reference.typical:.2f}")
        verdicts = [
            reading.verdict(
                result.proba[i],
                result.dist[i],
                result.neigh_labels[i],
                4,
                reference,
                tangent=None if result.tangent is None else result.tangent[i],
            )
            for i in range(len(x))
        ]
        unsure = np.array([not v.sure for v in verdicts])
        print(
            f"  'not sure' on {unsure.mean():.1%} of them; accuracy when sure "
            f"{correct[~unsure].mean():.2%}, when not sure {correct[unsure].mean():.2%}"
        )
    if args.save:
        np.savez_compressed(
            args.save,
            inputs=inputs,
            labels=y,
            pred=result.labels,
            dist=result.dist,
            bg=backgrounds,
            styles=np.array(styles_all),
            proba=result.proba,
        )
    return 0


def cmd_stroke(args) -> int:
    data = load_mnist()
    widths = synthetic.stroke_width(data.x_train[: args.n])
    p10, p50, p90 = np.percentile(widths, [10, 50, 90])
    print(
        f"MNIST stroke width over {len(widths):,} training digits (28x28, digit in a 20 px box): "
        f"median {p50:.2f} px, 10-90% {p10:.2f}-{p90:.2f} px"
    )
    for height in (160, 200, 240):
        print(
            f"  a digit drawn {height} px tall is scaled by 20/{height}: "
            f"brush {p50 * height / 20:.0f} px matches the median"
        )
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    acc = commands.add_parser("accuracy", help="drawn-digit accuracy")
    acc.add_argument("--split", choices=["tune", "test"], default="test")
    acc.add_argument("--n", type=int, default=0, help="digits to re-draw (default: all)")
    acc.add_argument("--chunk", type=int, default=500)
    acc.add_argument("--save", type=Path, help="write inputs and predictions to this .npz")
    acc.set_defaults(func=cmd_accuracy)
    stroke = commands.add_parser("stroke", help="MNIST stroke width")
    stroke.add_argument("--n", type=int, default=5000)
    stroke.set_defaults(func=cmd_stroke)
    for sub in (acc,):
        sub.add_argument("--preset", default=DEFAULT_PRESET)
        sub.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
