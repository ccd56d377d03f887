"""Load test: N browser sessions drawing digits at once against one `streamlit run`.

    python scripts/load_test.py [--sessions 20] [--rounds 3]

Each session (a Playwright context in one headless Chromium) opens the Draw
page, then draws a "1" and a "0" ``--rounds`` times, clearing in between. The
time from mouse-up to the Prediction metric showing the expected digit is
recorded, and every label is checked. Server memory (RSS of the streamlit
process) is read with one session open and with all of them open. Uses the
project's data and models/ (the default preset); bounded in time, loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import (
    CANVAS,
    CANVAS_READY,
    CANVAS_STATE,
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    PREDICTION,
    streamlit_server,
)
from tests.conftest import ONE, ZERO

TIMEOUT = 120_000  # ms for any one wait
# True once the Prediction metric's value starts with the expected digit (plain DOM:
# checked on every animation frame, so the timing is not rounded to a poll interval).
SHOWS = """want => {
  for (const metric of document.querySelectorAll('[data-testid="stMetric"]')) {
    if (!metric.innerText.includes('Prediction')) continue;
    const value = metric.querySelector('[data-testid="stMetricValue"]');
    return !!value && value.innerText.trim().startsWith(want);
  }
  return false;
}"""


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def draw(page, points) -> None:
    box = await page.locator(CANVAS).last.bounding_box()
    xy = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in points]
    await page.mouse.move(*xy[0])
    await page.mouse.down()
    for x, y in xy[1:]:
        await page.mouse.move(x, y, steps=3)
    await page.mouse.up()


async def canvas_ready(page) -> None:
    """``tests.browser.wait_for_canvas``, asynchronously (see there for why)."""
    await page.wait_for_selector(IDLE, timeout=TIMEOUT)
    await page.wait_for_function(CANVAS_READY, polling=100, timeout=TIMEOUT)


async def open_draw_page(browser, url: str):
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.frames_sent = 0  # websocket messages to the server (a stroke sends one)

    def count(websocket) -> None:
        def sent(_) -> None:
            page.frames_sent += 1

        websocket.on("framesent", sent)

    page.on("websocket", count)
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


async def session(page, rounds: int, results: list, errors: list, number: int) -> None:
    for _ in range(rounds):
        for points, expected in ((ONE, "1"), (ZERO, "0")):
            try:
                before = page.frames_sent
                await draw(page, points)
                start = time.perf_counter()
                await page.wait_for_function(SHOWS, arg=expected, timeout=TIMEOUT)
                results.append(time.perf_counter() - start)
                await clear(page)
            except Exception as exc:  # any failure is a load-test finding, recorded
                shown = await page.locator(PREDICTION).all_inner_texts()
                state = await page.locator('[data-testid="stApp"]').get_attribute(
                    "data-test-script-state"
                )
                ink = await page.evaluate(CANVAS_STATE)
                errors.append(
                    f"session {number}: drew {expected}, saw {shown}, script {state}, "
                    f"{page.frames_sent - before} messages sent after the stroke, "
                    f"[corner alpha, dark pixels] per canvas {ink}: {exc!r}"[:400]
                )
                await page.screenshot(
                    path=Path(tempfile.gettempdir()) / f"load_test_stall_{number}.png"
                )
                return  # this session's page is in an unknown state


async def run(url: str, pid: int, sessions: int, rounds: int) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        first = await open_draw_page(browser, url)
        # One warm-up round, so first-use caches are not counted as per-session growth.
        await session(first[1], 1, [], [], -1)
        memory_one = rss_mb(pid)
        opened = [first] + [
            await open_draw_page(browser, url) for _ in range(sessions - 1)
        ]  # opened one by one: page loads are not what is measured
        memory_all_open = rss_mb(pid)
        results: list[float] = []
        errors: list[str] = []
        start = time.perf_counter()
        await asyncio.gather(
            *(session(page, rounds, results, errors, i) for i, (_, page) in enumerate(opened))
        )
        wall = time.perf_counter() - start
        memory_after = rss_mb(pid)
        for context, _ in opened:
            await context.close()
        await browser.close()
    times = np.array(results) * 1e3
    return {
        "sessions": sessions,
        "predictions_expected": sessions * rounds * 2,
        "predictions_right": len(results),
        "errors": errors,
        "p50_ms": float(np.percentile(times, 50)) if len(times) else None,
        "p95_ms": float(np.percentile(times, 95)) if len(times) else None,
        "max_ms": float(times.max()) if len(times) else None,
        "wall_s": wall,
        "server_mb_one_session": memory_one,
        "server_mb_all_open": memory_all_open,
        "server_mb_after_drawing": memory_after,
        "mb_per_added_session": (memory_after - memory_one) / max(sessions - 1, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="'1' and '0' pairs per session")
    args = parser.parse_args()
    with streamlit_server() as url:
        report = asyncio.run(run(url, url.pid, args.sessions, args.rounds))
    print(json.dumps(report, indent=1))
    ok = not report["errors"] and report["predictions_right"] == report["predictions_expected"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
