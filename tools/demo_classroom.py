"""Fill a drawings store with a synthetic demo class: python -m tools.demo_classroom STORE.

STORE is a SQLite file path or a database URL (as $MNIST_KNN_STORE). Two rooms of
drawings in varied synthetic hands (tests/synthetic_digits.py), each read by the
project's model and saved through mnist_knn.store, as the Draw page would. Then e.g.
``MNIST_KNN_STORE=STORE python -m tools.screenshots class_drawings``.
"""

from __future__ import annotations

import argparse

from mnist_knn.classroom.store import DrawingStore
from mnist_knn.data import ConsoleProgress
from mnist_knn.model import DEFAULT_PRESET
from mnist_knn.synthetic import save_class
from mnist_knn.trained import load_artifact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("store", help="SQLite file path or database URL")
    parser.add_argument("--rooms", nargs="*", default=["Class 5B", "Tuesday coding club"])
    parser.add_argument("--per-room", type=int, default=32)
    parser.add_argument("--preset", default=DEFAULT_PRESET)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    store = DrawingStore(args.store)
    artifact = load_artifact(args.preset, progress=ConsoleProgress())
    save_class(store, artifact, dict.fromkeys(args.rooms, args.per_room), seed=args.seed)
    for room in args.rooms:
        items = store.query(room=room)
        print(f"{room}: {len(items)} drawings, {items.correct.mean():.0%} read correctly")
    print(f"{store.count()} drawings in {store.safe_url}")


if __name__ == "__main__":
    main()
