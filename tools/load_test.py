"""Load test: N browser sessions drawing digits at once against one `streamlit run`.

    python -m tools.load_test [--sessions 20] [--rounds 3] [--think 0]

Each session (a Playwright context in one headless Chromium) opens the Draw
page, then draws a "1" and a "0" ``--rounds`` times, clearing in between. With
``--think S`` a session looks at each prediction for a random 0.5 S to 1.5 S
before clearing, as a student would; the default 0 draws back to back.

Measured per drawing, and checked for the right label:

- ``mouse_up_to_prediction_shown``: in the page, from mouse-up to the Prediction
  metric showing the digit. Everything is in it: the canvas's own 200 ms
  debounce, the browser's work, and here 20 browsers sharing the server's cores.
- ``server_answer``: Chrome's network timestamps, from the stroke's websocket
  message out to the first message back carrying the Prediction.
- ``server_rerun_to_prediction_sent``: inside the server (a hook loaded into the
  server process only, see SERVER_HOOK), from the rerun request arriving to the
  Prediction being queued for sending: what the shared server itself takes.

Also reported: CPU seconds used by the server and by Chromium during the run,
the pages the sessions visited, and server memory (RSS of the streamlit process)
with one session open, with all of them open, and after all the drawing. Uses the
project's data and models/ (the default preset); bounded in time, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mnist_knn.synthetic import ONE, ZERO
from tools.browser import (
    CANVAS,
    CANVAS_READY,
    CANVAS_STATE,
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    PREDICTION,
    streamlit_server,
)

TIMEOUT = 120_000  # ms for any one wait
# Times, in the page's own clock, of the next mouse-up and of the Prediction metric
# first showing ``want`` after it. A MutationObserver notes the change as the DOM
# changes; waiting on it then polls slowly. (Playwright's default, polling on every
# animation frame, would keep all the pages rendering 60 frames a second, and on
# 2 cores that load would be the harness's, not the app's.)
WATCH = """want => {
  const shows = () => {
    const value = document.querySelector('PREDICTION');
    return !!value && value.textContent.trim().startsWith(want);
  };
  const seen = window.loadTest = {up: null, shown: null};
  addEventListener('mouseup', () => { seen.up = performance.now(); }, {capture: true, once: true});
  const observer = new MutationObserver(() => {
    if (seen.up !== null && shows()) {
      seen.shown = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""
WATCH = WATCH.replace("PREDICTION", PREDICTION)
SHOWN = "() => window.loadTest.shown !== null"


# Loaded into the server process only (as sitecustomize, through PYTHONPATH): notes,
# per session, when a rerun request arrives and when the first message carrying the
# Prediction metric leaves, and writes the seconds in between to $LOAD_TEST_TIMINGS.
# This is the server's own answer time, with no browser in it. Patches Streamlit
# internals (AppSession), so it checks they are there and fails loudly if not.
SERVER_HOOK = """
import os, time
if os.environ.get("LOAD_TEST_TIMINGS"):
    from streamlit.runtime import app_session

    _session = app_session.AppSession
    assert hasattr(_session, "handle_backmsg") and hasattr(_session, "_enqueue_forward_msg")
    _started, _out = {}, open(os.environ["LOAD_TEST_TIMINGS"], "a", buffering=1)
    _handle, _enqueue = _session.handle_backmsg, _session._enqueue_forward_msg

    def handle_backmsg(self, msg):
        if msg.WhichOneof("type") == "rerun_script":
            _started[self.id] = time.perf_counter()
        return _handle(self, msg)

    def enqueue_forward_msg(self, msg):
        start = _started.get(self.id)
        if start is not None and msg.WhichOneof("type") == "delta":
            if b"Prediction" in msg.SerializeToString():
                _out.write(f"{time.perf_counter() - start}\\n")
                del _started[self.id]
        return _enqueue(self, msg)

    _session.handle_backmsg, _session._enqueue_forward_msg = handle_backmsg, enqueue_forward_msg
"""


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def process_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> dict:
    """CPU seconds used so far by the server (``pid``) and by all Chromium processes."""
    used = {"server": 0.0, "chromium": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            seconds = process_seconds(int(entry.name))
        except OSError:  # the process has gone
            continue
        if int(entry.name) == pid:
            used["server"] += seconds
        elif b"chromium" in command:
            used["chromium"] += seconds
    return used


async def draw(page, points) -> None:
    box = await page.locator(CANVAS).last.bounding_box()
    xy = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    await page.mouse.move(*xy[0])
    await page.mouse.down()
    for x, y in xy[1:]:
        await page.mouse.move(x, y, steps=3)
    await page.mouse.up()


async def canvas_ready(page) -> None:
    """``tools.browser.wait_for_canvas``, asynchronously (see there for why)."""
    await page.wait_for_selector(IDLE, timeout=TIMEOUT)
    await page.wait_for_function(CANVAS_READY, polling=100, timeout=TIMEOUT)


async def open_draw_page(browser, url: str):
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    # Chrome's timestamps (s) of websocket messages out, and of messages back that
    # carry the Prediction metric (its label is in the protobuf's bytes).
    page.sent, page.predictions = [], []
    cdp = await context.new_cdp_session(page)
    cdp.on("Network.webSocketFrameSent", lambda e: page.sent.append(e["timestamp"]))

    def received(event) -> None:
        frame = event["response"]
        payload = frame["payloadData"]
        data = base64.b64decode(payload) if frame["opcode"] == 2 else payload.encode()
        if b"Prediction" in data:
            page.predictions.append(event["timestamp"])

    cdp.on("Network.webSocketFrameReceived", received)
    await cdp.send("Network.enable")
    page.urls = []  # every address the page has shown, to catch a stray navigation
    page.on("framenavigated", lambda frame: page.urls.append(frame.url))
    await page.goto(url)
    await page.wait_for_selector(IDLE, timeout=TIMEOUT)
    await page.get_by_role("link", name="Draw", exact=True).click()
    await page.get_by_text("in the white box").wait_for(timeout=TIMEOUT)
    await canvas_ready(page)
    return context, page


async def clear(page) -> None:
    await page.get_by_role("button", name="Clear").click()
    await page.locator(PREDICTION).wait_for(state="detached", timeout=TIMEOUT)
    await canvas_ready(page)


def server_answer(page, sent_before: int) -> float | None:
    """Seconds from the first message out after ``sent_before`` to the Prediction back."""
    if len(page.sent) <= sent_before:
        return None
    out = page.sent[sent_before]
    back = [t for t in page.predictions if t >= out]
    return back[0] - out if back else None


async def session(page, rounds: int, think: float, results: dict, number: int) -> None:
    for _ in range(rounds):
        for points, expected in ((ONE, "1"), (ZERO, "0")):
            try:
                sent_before = len(page.sent)
                await page.evaluate(WATCH, expected)
                await draw(page, points)
                await page.wait_for_function(SHOWN, polling=100, timeout=TIMEOUT)
                seen = await page.evaluate("window.loadTest")
                results["page"].append((seen["shown"] - seen["up"]) / 1e3)
                results["server"].append(server_answer(page, sent_before))
                await asyncio.sleep(think * random.uniform(0.5, 1.5))  # a student looking
                await clear(page)
            except Exception as exc:  # any failure is a load-test finding, recorded
                shown = await page.locator(PREDICTION).all_inner_texts()
                state = await page.locator('[data-testid="stApp"]').get_attribute(
                    "data-test-script-state"
                )
                ink = await page.evaluate(CANVAS_STATE)
                results["errors"].append(
                    f"session {number}: drew {expected}, saw {shown}, script {state}, "
                    f"{len(page.sent) - sent_before} messages sent after the stroke, "
                    f"[corner alpha, dark pixels] per canvas {ink}: {exc!r}"[:400]
                )
                await page.screenshot(
                    path=Path(tempfile.gettempdir()) / f"load_test_stall_{number}.png"
                )
                return  # this session's page is in an unknown state


def percentiles(seconds: list) -> dict:
    ms = np.array([s for s in seconds if s is not None]) * 1e3
    if not len(ms):
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(float(np.percentile(ms, 50))),
        "p95_ms": round(float(np.percentile(ms, 95))),
        "max_ms": round(float(ms.max())),
    }


async def run(url: str, pid: int, sessions: int, rounds: int, think: float) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        first = await open_draw_page(browser, url)
        # One warm-up round, so first-use caches are not counted as per-session growth.
        await session(first[1], 1, 0, {"page": [], "server": [], "errors": []}, -1)
        memory_one = rss_mb(pid)
        opened = [first] + [
            await open_draw_page(browser, url) for _ in range(sessions - 1)
        ]  # opened one by one: page loads are not what is measured
        memory_all_open = rss_mb(pid)
        results = {"page": [], "server": [], "errors": []}
        cpu_before, start = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(
            *(session(page, rounds, think, results, i) for i, (_, page) in enumerate(opened))
        )
        wall = time.perf_counter() - start
        cpu_after, memory_after = cpu_seconds(pid), rss_mb(pid)
        for context, _ in opened:
            await context.close()
        await browser.close()
    return {
        "sessions": sessions,
        "think_s": think,
        "predictions_expected": sessions * rounds * 2,
        "predictions_right": len(results["page"]),
        "errors": results["errors"],
        "mouse_up_to_prediction_shown": percentiles(results["page"]),
        "server_answer": percentiles(results["server"]),
        "wall_s": round(wall, 1),
        "cpu_cores_used": {
            name: round((cpu_after[name] - cpu_before[name]) / wall, 2) for name in cpu_after
        },
        "pages_visited": sorted(
            {url.rsplit("/", 1)[-1] for _, page in opened for url in page.urls}
        ),
        "server_mb_one_session": round(memory_one, 1),
        "server_mb_all_open": round(memory_all_open, 1),
        "server_mb_after_drawing": round(memory_after, 1),
        "mb_per_added_session": round((memory_after - memory_one) / max(sessions - 1, 1), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="'1' and '0' pairs per session")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds spent looking at a prediction"
    )
    args = parser.parse_args()
    hook = Path(tempfile.mkdtemp())
    (hook / "sitecustomize.py").write_text(SERVER_HOOK)
    timings = hook / "timings.txt"
    env = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(hook), os.environ.get("PYTHONPATH")])),
        "LOAD_TEST_TIMINGS": str(timings),
    }
    with streamlit_server(env=env) as url:
        report = asyncio.run(run(url, url.pid, args.sessions, args.rounds, args.think))
    # The warm-up round's two drawings come first.
    served = [float(line) for line in timings.read_text().split()][2:]
    report["server_rerun_to_prediction_sent"] = percentiles(served)
    print(json.dumps(report, indent=1))
    ok = not report["errors"] and report["predictions_right"] == report["predictions_expected"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
