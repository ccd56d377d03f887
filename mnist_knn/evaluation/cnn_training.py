"""Train the small MNIST CNN with PyTorch and export its weights for the numpy-only :mod:`.cnn`.

Hyperparameters are chosen on a validation split of the TRAINING set (its last
``--holdout`` digits); MNIST's test set is only ever used to report the final model:

    python -m mnist_knn train-cnn --search              # grid on 55k/5k, then the best on 60k
    python -m mnist_knn train-cnn --epochs 4 --lr 3e-3  # one run on all 60k, no search
    python -m mnist_knn train-cnn --search --no-final   # only the grid (writes nothing)

The shipped data/cnn/cnn.npz was made by (about 13 minutes on 2 cores)::

    python -m mnist_knn train-cnn --search --grid-width 16 --grid-lr 3e-3 6e-3 \\
        --grid-epochs 4 6 --threads 1

Needs ``requirements-cnn.txt`` (the app's requirements plus torch); the app itself does not.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..data import load_mnist
from .cnn import (
    ARCHITECTURE,
    DEFAULT_PATH,
    FORMAT,
    FORMAT_VERSION,
    INPUT_SCALE,
    CNNClassifier,
    save_weights,
)

# The grid --search tries by default (small on purpose: every candidate is a training run);
# --grid-width/--grid-lr/--grid-epochs replace its axes.
GRID = {"width": (8, 16), "lr": (1e-3, 3e-3), "epochs": (2, 4)}


class LeNet(nn.Module):
    """conv5x5(w) - ReLU - pool2 - conv5x5(2w) - ReLU - pool2 - dense(hidden) - ReLU - dense(10).

    ``cnn.py`` mirrors exactly this forward pass in numpy; the attribute names here are the
    array names in the .npz (``conv1.weight``, …), so the export is the plain state_dict.
    """

    def __init__(self, width: int = 16, hidden: int = 128, dropout: float = 0.25):
        super().__init__()
        # padding=2 keeps 28x28, so the maps are 28 -> 14 -> 7 after the two pools.
        self.conv1 = nn.Conv2d(1, width, 5, padding=2)
        self.conv2 = nn.Conv2d(width, 2 * width, 5, padding=2)
        self.fc1 = nn.Linear(2 * width * 7 * 7, hidden)
        self.fc2 = nn.Linear(hidden, 10)
        self.dropout = nn.Dropout(dropout)  # training only; a no-op in eval mode and in numpy

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(F.relu(self.fc1(x.flatten(1))))
        return self.fc2(x)  # logits; softmax lives in the loss (and in cnn.py)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, 28, 28), ink = 255 -> float32 (n, 1, 28, 28): the same scaling as cnn.py."""
    return torch.from_numpy(images.astype(np.float32) * np.float32(INPUT_SCALE)).unsqueeze(1)


def shift(batch: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Move each image by up to ``max_shift`` pixels in x and y (zero fill).

    Cheap augmentation: drawings from the canvas are centred by mass like MNIST but
    never exactly, and a CNN with two pools is only partly shift-invariant.
    """
    if max_shift == 0:
        return batch
    n = len(batch)
    padded = F.pad(batch, (max_shift,) * 4)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=gen)
    rows = (dy[:, None] + torch.arange(28))[:, None, :, None].expand(n, 1, 28, 28 + 2 * max_shift)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(28))[:, None, None, :].expand(n, 1, 28, 28)
    return out.gather(3, cols)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        hits = sum(
            int((model(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum())
            for i in range(0, len(x), 1000)
        )
    return hits / len(x)


def train(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    width: int,
    lr: float,
    epochs: int,
    hidden: int = 128,
    batch: int = 128,
    max_shift: int = 2,
    seed: int = 0,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    label: str = "",
) -> tuple[LeNet, dict]:
    """Adam with a one-cycle schedule: converges in a few epochs, which is all 5 minutes allow."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = LeNet(width, hidden)
    steps = epochs * ((len(x) + batch - 1) // batch)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    start = time.perf_counter()
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i, first in enumerate(range(0, len(x), batch)):
            idx = order[first : first + batch]
            loss = F.cross_entropy(model(shift(x[idx], max_shift, gen)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
            if i % 100 == 0:  # progress: one line per ~12,800 digits
                print(
                    f"  {label}epoch {epoch}/{epochs}  {first:>6,}/{len(x):,}  "
                    f"loss {total / (i + 1):.4f}  {time.perf_counter() - start:5.0f} s",
                    flush=True,
                )
        record = {"epoch": epoch, "loss": round(total / (i + 1), 5)}
        if val is not None:
            record["val_accuracy"] = accuracy(model, *val)
        history.append(record)
        print(f"  {label}epoch {epoch} done: {record}", flush=True)
    model.eval()
    return model, {"seconds": round(time.perf_counter() - start, 1), "history": history}


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST through the project's own loader (MNIST_DIR picks the folder)."""
    data = load_mnist()
    return data.x_train, data.y_train, data.x_test, data.y_test


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mnist_knn train-cnn", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH, help="weights file to write")
    parser.add_argument("--search", action="store_true", help="choose width/lr/epochs on a holdout")
    parser.add_argument("--no-final", action="store_true", help="with --search: stop after it")
    parser.add_argument(
        "--holdout", type=int, default=5000, help="last N train digits, for --search"
    )
    parser.add_argument("--width", type=int, default=16, help="conv1 channels (conv2 has twice)")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grid-width", type=int, nargs="+", default=GRID["width"])
    parser.add_argument("--grid-lr", type=float, nargs="+", default=GRID["lr"])
    parser.add_argument("--grid-epochs", type=int, nargs="+", default=GRID["epochs"])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    if args.search and not 0 < args.holdout < 60000:
        parser.error("--holdout must leave digits on both sides (1..59999)")
    torch.set_num_threads(args.threads)

    x_train, y_train, x_test, y_test = load_data()
    x_all, y_all = to_tensor(x_train), torch.from_numpy(y_train.astype(np.int64))
    chosen = {"width": args.width, "lr": args.lr, "epochs": args.epochs}
    candidates = []
    search_seconds = 0.0
    if args.search:
        # The test set is not touched here: selection sees only the training digits.
        cut = len(x_all) - args.holdout
        fit, val = (x_all[:cut], y_all[:cut]), (x_all[cut:], y_all[cut:])
        axes = {"width": args.grid_width, "lr": args.grid_lr, "epochs": args.grid_epochs}
        grid = [dict(zip(axes, v, strict=True)) for v in itertools.product(*axes.values())]
        for n, cand in enumerate(grid, 1):
            print(f"candidate {n}/{len(grid)}: {cand} on {cut:,}, held out {args.holdout:,}")
            _, info = train(
                *fit, **cand, hidden=args.hidden, seed=args.seed, val=val, label=f"[{n}] "
            )
            search_seconds += info["seconds"]
            candidates.append({**cand, "val_accuracy": info["history"][-1]["val_accuracy"], **info})
        print("\nvalidation accuracy (last epoch):")
        for c in candidates:
            print(
                f"  width {c['width']:>2}  lr {c['lr']:.0e}  epochs {c['epochs']}  "
                f"{c['val_accuracy']:.4f}  ({c['seconds']:.0f} s)"
            )
        best = max(candidates, key=lambda c: c["val_accuracy"])  # ties: first (smaller) wins
        chosen = {k: best[k] for k in GRID}
        print(f"chosen: {chosen}")
        if args.no_final:
            return 0

    print(f"final training on all {len(x_all):,} train digits: {chosen}")
    model, info = train(x_all, y_all, **chosen, hidden=args.hidden, seed=args.seed)
    print(f"trained in {info['seconds']:.0f} s")

    weights = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    xt = to_tensor(x_test)
    with torch.no_grad():
        torch_proba = torch.cat(
            [F.softmax(model(xt[i : i + 1000]), 1) for i in range(0, 10000, 1000)]
        )
    test_accuracy = float((torch_proba.argmax(1).numpy() == y_test).mean())
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": {"name": ARCHITECTURE, "width": chosen["width"], "hidden": args.hidden},
        "input": "uint8 (n, 28, 28), ink = 255, scaled by 1/255 (MNIST IDX / to_mnist output)",
        "training": {
            **chosen,
            "optimizer": "Adam + OneCycleLR",
            "batch": 128,
            "dropout": 0.25,
            "augment": "random shift up to 2 px",
            "seed": args.seed,
            "train_digits": len(x_all),
            "seconds": info["seconds"],
            "history": info["history"],
            "selected_by": (
                f"validation accuracy on the last {args.holdout:,} train digits"
                if args.search
                else "given on the command line"
            ),
            "candidates": [
                {k: c[k] for k in (*GRID, "val_accuracy", "seconds")} for c in candidates
            ],
            "search_seconds": round(search_seconds, 1),
            "torch": torch.__version__,
        },
        "n_params": int(sum(v.size for v in weights.values())),
        "test_accuracy": test_accuracy,
    }
    save_weights(args.out, weights, meta)

    # Read the file back through the numpy loader: it must agree with torch on the test set.
    clf = CNNClassifier.load(args.out)
    diff = float(np.abs(clf.predict_proba(x_test[:1000]) - torch_proba[:1000].numpy()).max())
    print(f"test accuracy {test_accuracy:.4f}; numpy vs torch max |dp| on 1000 digits {diff:.1e}")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, {meta['n_params']:,} params)")
    print(json.dumps({"test_accuracy": test_accuracy, "max_abs_diff": diff}))
    return 0 if diff < 1e-4 else 1
