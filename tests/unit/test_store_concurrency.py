"""The bar: 30 concurrent writers x 50 drawings each, all 1,500 there and intact, on both DBs."""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from mnist_knn.classroom.store import DrawingStore

pytest_plugins = ["tests.support.store_fixtures"]  # store_url, pg_url

WRITERS, EACH = 30, 50


def drawing(writer: int, i: int) -> dict:
    """The deterministic content writer ``writer`` saves as its ``i``-th drawing."""
    rng = np.random.default_rng(writer * 1000 + i)
    image = rng.integers(0, 256, (28, 28), dtype=np.uint8)
    return dict(
        image=image,
        true_label=int(rng.integers(10)),
        predicted=int(rng.integers(10)),
        proba=rng.dirichlet(np.ones(10)),
        preset="default",
        k=4,
        room=f"room {writer % 3} 'quoted' 🏫",
        session_id=f"writer-{writer}-{i}",
        canvas_png=hashlib.sha256(image.tobytes()).digest() * (1 + i % 5),
    )


def write_many(url: str, writer: int, barrier=None) -> list[int]:
    store = DrawingStore(url)
    if barrier is not None:
        barrier.wait()  # start together, for as much contention as possible
    ids = []
    for i in range(EACH):
        values = drawing(writer, i)
        ids.append(store.save(values.pop("image"), **values))
    store.close()
    return ids


def _process_writer(url: str, writer: int, barrier, errors) -> None:
    try:
        write_many(url, writer, barrier)
    except BaseException as exc:  # reported to the parent, which fails the test
        errors.put(f"writer {writer}: {type(exc).__name__}: {exc}")
        raise


def assert_all_there_and_intact(url: str) -> None:
    got = DrawingStore(url).query(with_png=True)
    assert len(got) == WRITERS * EACH
    assert len(set(got.ids.tolist())) == WRITERS * EACH
    seen = set()
    for row in range(len(got)):
        writer, i = (int(part) for part in got.session_id[row].split("-")[1:])
        want = drawing(writer, i)
        np.testing.assert_array_equal(got.images[row], want["image"])
        assert got.png[row] == want["canvas_png"]
        assert (int(got.true_labels[row]), int(got.predicted[row])) == (
            want["true_label"],
            want["predicted"],
        )
        np.testing.assert_array_equal(got.proba[row], want["proba"])
        assert got.room[row] == want["room"]
        seen.add((writer, i))
    assert len(seen) == WRITERS * EACH


def _name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def test_30_threads_save_50_drawings_each(store_url):
    DrawingStore(store_url).close()  # the schema exists before the race starts
    start = time.perf_counter()
    barrier = threading.Barrier(WRITERS)
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [pool.submit(write_many, store_url, w, barrier) for w in range(WRITERS)]
        ids = [i for future in futures for i in future.result()]
    seconds = time.perf_counter() - start
    assert len(set(ids)) == WRITERS * EACH
    assert_all_there_and_intact(store_url)
    print(f"\n{WRITERS} threads x {EACH} saves on {_name(store_url)}: {seconds:.2f} s")


def test_30_processes_save_50_drawings_each(store_url):
    # fork: the children share the parent's imports (spawning 30 interpreters would take
    # longer than the test); each opens its own store, as separate app replicas would.
    # No store is opened beforehand here, so the 30 also race to create the schema.
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs fork")
    ctx = multiprocessing.get_context("fork")
    barrier, errors = ctx.Barrier(WRITERS), ctx.Queue()
    start = time.perf_counter()
    workers = [
        ctx.Process(target=_process_writer, args=(store_url, w, barrier, errors))
        for w in range(WRITERS)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(300)
    seconds = time.perf_counter() - start
    failures = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert not failures, failures
    assert [p.exitcode for p in workers] == [0] * WRITERS
    assert_all_there_and_intact(store_url)
    print(f"\n{WRITERS} processes x {EACH} saves on {_name(store_url)}: {seconds:.2f} s")
