"""Real-browser plumbing shared by the browser tests and the tools (screenshots, load test).

Starts ``streamlit run streamlit_app.py`` on a free loopback port, waits on
/_stcore/health, and launches Debian's Chromium headless through Playwright.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# The app root reports Streamlit's script state; "notRunning" means a run has finished.
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


class ServerURL(str):
    """The app's base URL, also carrying the server process's ``pid``."""

    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(
    env: dict | None = None, timeout: float = 180.0, port: int | None = None, log: str | None = None
):
    """Run the app on ``port`` (default: a free one) of 127.0.0.1; yield its base URL; stop it
    afterwards. ``log``: a file for the server's output (default: discarded)."""
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "streamlit_app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = open(log or os.devnull, "a")  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log
    )
    url = ServerURL(f"http://127.0.0.1:{port}")
    url.pid = proc.pid
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer on {url} in {timeout:.0f} s")
            time.sleep(0.2)  # polling the health endpoint, not waiting on the page
        yield url
    finally:
        stop(proc)
        log.close()


def stop(process: subprocess.Popen, grace: float = 10) -> None:
    """Ask ``process`` to end (SIGTERM); kill it if it has not within ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()


@contextlib.contextmanager
def chromium():
    """A headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(page, url: str, timeout: float = 120_000) -> None:
    """Go to ``url`` and wait until Streamlit has finished running the page script."""
    page.goto(url)
    page.wait_for_selector(IDLE, timeout=timeout)


# The drawable canvas (components v2) renders in the page itself, not in an
# iframe; Fabric.js stacks two canvases and the last one takes the mouse.
CANVAS = "canvas"
# The Draw page's big predicted digit ("7", or "7?" when not sure).
PREDICTION = ".mnist-prediction-digit"


# The drawing layers (Fabric.js's lower canvas) of the page's drawable canvases, found
# in the components' shadow roots (which document.querySelector does not pierce).
_LOWER_CANVASES = """() => {
  const found = [], layer = 'canvas.dc-canvas.lower-canvas';
  for (const host of document.querySelectorAll('*')) {
    if (host.shadowRoot) found.push(...host.shadowRoot.querySelectorAll(layer));
  }
  return found;
}"""
# [alpha of a corner pixel, dark pixels] of each drawing layer.
CANVAS_STATE = f"""() => ({_LOWER_CANVASES})().map(c => {{
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 128 && d[i + 3] > 0) ink++;
  return [d[4 * (2 * c.width + 2) + 3], ink];
}})"""
# Toolbars of drawable canvases that take pointer events (the app hides them: their
# invisible corner over the canvas swallowed strokes).
TOOLBARS_SHOWN = """() => {
  let shown = 0;
  for (const host of document.querySelectorAll('*')) {
    if (!host.shadowRoot) continue;
    for (const bar of host.shadowRoot.querySelectorAll('.dc-toolbar')) {
      if (getComputedStyle(bar).display !== 'none') shown++;
    }
  }
  return shown;
}"""
# One canvas, painted white, without ink: the initial (empty) drawing has loaded; and
# no toolbar over it.
CANVAS_READY = f"""() => {{
  const state = ({CANVAS_STATE})();
  return state.length === 1 && state[0][0] === 255 && state[0][1] === 0
    && ({TOOLBARS_SHOWN})() === 0;
}}"""
# One canvas with ink on it (a drawing restored after a visit elsewhere).
CANVAS_INKED = f"""() => {{
  const state = ({CANVAS_STATE})();
  return state.length === 1 && state[0][1] > 0 && ({TOOLBARS_SHOWN})() === 0;
}}"""


def wait_for_canvas(page, timeout: float = 60_000) -> None:
    """Wait until the page has run and has one empty canvas, ready to draw on.

    Fabric.js loads a canvas's initial (empty) drawing asynchronously after
    mounting and only then takes the brush (in the step that paints the white
    background): a stroke made earlier is lost. After Clear the canvas keeps its
    old drawing until it has loaded the new, empty one, and that drawing is white
    in the corners too, so "white" alone is not enough: the canvas must be the
    only one and without ink.
    """
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_function(CANVAS_READY, polling=100, timeout=timeout)


def draw_stroke(page, points, steps: int = 3) -> None:
    """Drag the mouse through ``points`` (fractions of the canvas's width and height)."""
    box = page.locator(CANVAS).last.bounding_box()

    def at(x, y):
        return box["x"] + x * box["width"], box["y"] + y * box["height"]

    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(*at(x, y), steps=steps)
    page.mouse.up()


def draw_strokes(page, strokes, touch: bool = False, steps: int = 3) -> None:
    """Draw each polyline of ``strokes`` (fractions of the canvas) with the mouse, or
    with a finger (``touch``: Chrome DevTools touch events, for a context with has_touch)."""
    if not touch:
        for points in strokes:
            draw_stroke(page, points, steps)
        return
    box = page.locator(CANVAS).last.bounding_box()
    cdp = page.context.new_cdp_session(page)
    try:
        for points in strokes:
            path = [points[0]]
            for (x0, y0), (x1, y1) in itertools.pairwise(points):
                path += [(x0 + (x1 - x0) * i / 8, y0 + (y1 - y0) * i / 8) for i in range(1, 9)]
            for i, (x, y) in enumerate(path):
                kind = "touchStart" if i == 0 else "touchMove"
                point = {"x": box["x"] + x * box["width"], "y": box["y"] + y * box["height"]}
                cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [point]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()
