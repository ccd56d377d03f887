"""Protocol-level load test: N sessions draw on the Draw page over Streamlit's own websocket.

    python -m tools.ws_load [--sessions 10 30 60] [--rounds 3] [--think 0] [--timeout 60]
    python -m tools.ws_load --think 5 --ramp 5      # pupils looking at each answer 2.5-7.5 s
    python -m tools.ws_load --url http://127.0.0.1:8501 --pid 1234   # a server already running
    python -m tools.ws_load --url http://127.0.0.1:8080 --pid 111 222  # nginx and its replicas

No browser: each session is one websocket to ``/_stcore/stream`` speaking the
protobuf messages a browser speaks (``streamlit.proto``), so on one machine the
figures are the server's, not those of 30 Chromiums fighting it for the CPU
(docs/reliability.md). A session:

1. opens the Draw page: a ``BackMsg`` ``rerun_script`` whose ``ClientState`` names
   the page by its URL path (``page_name="draw"``), as a browser opening
   ``/draw`` does; the ``ForwardMsg`` replies carry the page's script hash (the
   ``navigation`` message) and its widgets' ids (``$$ID-<hash>-<key>``);
2. draws: the value streamlit-drawable-canvas (components v2, >= 0.13) sends on
   mouse-up, ``{"drawing": {"raw": <Fabric.js canvas JSON>, "data": <PNG data
   URL>}}`` as the ``json_value`` of the canvas's widget, in a rerun of the page
   (captured from Chromium: the stroke's Fabric ``Path`` and the PNG of a 280 px
   white canvas, drawn here with the same brush);
3. reads the answer: the ``delta`` carrying the big prediction's HTML
   (``mnist-prediction-digit``), checked against the digit drawn;
4. presses Clear (its button's ``trigger_value``, with the canvas still reporting
   the old drawing, as the browser does), then sends the blank canvas the
   component reports once it has loaded its new, empty drawing.

Only the canvas's state (and Clear's trigger) is sent; a browser also resends its other
widgets' unchanged values (preset, room, k, weights, brush: a few bytes), which the server
keeps in session state anyway. Like the browser captured, no ``cached_message_hashes``.

Each session draws a "1" and a "0" ``--rounds`` times. Timed per drawing: the
stroke's message out to the prediction's delta in (``answer``), plus the canvas's
own 200 ms debounce between mouse-up and sending (``DEBOUNCE_S``):
``mouse_up_to_answer``. The browser's drawing of the answer is not in it (0.1 to
0.3 s of its own CPU on a laptop, see docs/reliability.md).

Memory: RSS of the server process when idle (started, nothing opened), after one
warm-up session has drawn (caches filled), with all sessions open, and after all
the drawing; per session = (after - warm) / (sessions - 1). Each sessions count
gets a fresh server (unless ``--url``), on 127.0.0.1, with the project's data and
models/ (the default preset). Bounded: every wait has ``--timeout``, the rounds
are fixed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from PIL import Image
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from mnist_knn.preprocess import CANVAS, DEFAULT_BRUSH
from mnist_knn.synthetic import ONE, ZERO, png_bytes, stroke_image
from tools.load_test import percentiles, process_seconds
from tools.load_test import rss_mb as process_rss_mb

PAGE = "draw"  # the Draw page's URL path (app_pages.PAGES)
CANVAS_KEY = "draw_canvas"  # the canvas's widget key on the Draw page
CLEAR_KEY = "draw_canvas_clear"  # its Clear button
# streamlit-drawable-canvas waits this long after the last change before sending
# (``Bc = 200`` in its frontend bundle): part of every mouse-up-to-answer time.
DEBOUNCE_S = 0.2
FABRIC_VERSION = "7.4.0"  # what the component's Fabric.js writes into its JSON
# The big prediction's HTML (ui.big_prediction): "7", or "7?" when not sure.
PREDICTION = re.compile(r'class="mnist-prediction-digit"[^>]*>\s*([0-9]\??)\s*<')
DRAWINGS = ((ONE, "1"), (ZERO, "0"))


# ------------------------------------------------------------------ messages out


def stream_url(base: str) -> str:
    """The websocket address of the app at ``base`` (http://host:port[/prefix])."""
    parts = urlsplit(base)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"


def rerun_message(
    page_url: str,
    page_name: str = "",
    page_script_hash: str = "",
    widgets: tuple[WidgetState, ...] = (),
) -> bytes:
    """A ``BackMsg`` asking for a run of a page, as the browser sends it (serialized).

    The first run names the page by its URL path (``page_name``); later runs by the
    script hash the server sent in its ``navigation`` message.
    """
    state = ClientState(page_name=page_name, page_script_hash=page_script_hash)
    state.widget_states.widgets.extend(widgets)
    state.context_info.url = page_url
    state.context_info.timezone = "UTC"
    state.context_info.timezone_offset = 0
    state.context_info.locale = "en-US"
    state.context_info.is_embedded = False
    state.context_info.color_scheme = "light"
    return BackMsg(rerun_script=state).SerializeToString()


def fabric_path(points, brush: int = DEFAULT_BRUSH, size: int = CANVAS) -> dict:
    """A freehand stroke through ``points`` (fractions of the canvas) as Fabric.js's JSON.

    The keys a stroke of the component's "freedraw" brush has (captured from
    Chromium); the app keeps ``objects`` to restore a canvas, it reads the PNG.
    """
    xy = [(round(x * size, 6), round(y * size, 6)) for x, y in points]
    path = [["M", *xy[0]]]
    path += [["Q", *a, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2] for a, b in itertools.pairwise(xy)]
    path.append(["L", *xy[-1]])
    xs, ys = [p[0] for p in xy], [p[1] for p in xy]
    return {
        "type": "Path",
        "version": FABRIC_VERSION,
        "originX": "center",
        "originY": "center",
        "left": (min(xs) + max(xs)) / 2,
        "top": (min(ys) + max(ys)) / 2,
        "width": max(xs) - min(xs),
        "height": max(ys) - min(ys),
        "fill": None,
        "stroke": "#000000",
        "strokeWidth": brush,
        "strokeLineCap": "round",
        "strokeLineJoin": "round",
        "scaleX": 1,
        "scaleY": 1,
        "angle": 0,
        "opacity": 1,
        "visible": True,
        "path": path,
    }


def canvas_value(png: bytes, objects: list) -> str:
    """The canvas widget's ``json_value``: what the component's ``setStateValue`` sends."""
    raw = {"version": FABRIC_VERSION, "objects": objects, "background": "#ffffff"}
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return json.dumps({"drawing": {"raw": raw, "data": url}})


def drawn(points, brush: int = DEFAULT_BRUSH) -> str:
    """The canvas's value after one stroke through ``points`` on the empty white canvas."""
    png = png_bytes(stroke_image(points, size=CANVAS, width=brush))
    return canvas_value(png, [fabric_path(points, brush)])


def blank() -> str:
    """The canvas's value once it has loaded an empty drawing (after Clear)."""
    return canvas_value(png_bytes(Image.new("RGBA", (CANVAS, CANVAS), "white")), [])


def json_widget(widget_id: str, value: str) -> WidgetState:
    return WidgetState(id=widget_id, json_value=value)


def trigger_widget(widget_id: str) -> WidgetState:
    return WidgetState(id=widget_id, trigger_value=True)


# ------------------------------------------------------------------ messages in


@dataclass
class PageView:
    """What one session has learnt from the server's ``ForwardMsg`` messages so far."""

    page_hashes: dict = field(default_factory=dict)  # URL path -> page script hash
    widget_ids: dict = field(default_factory=dict)  # widget key -> widget id
    prediction: str | None = None  # the big digit of the current run, if any yet
    errors: list = field(default_factory=list)  # exceptions the page showed
    finished: int | None = None  # the last run's ScriptFinishedStatus (None: running)
    texts: list = field(default_factory=list)  # markdown / alert text of the run

    def feed(self, data: bytes) -> ForwardMsg:
        """Parse one websocket message and note what it says."""
        msg = ForwardMsg()
        msg.ParseFromString(data)
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.finished, self.prediction, self.texts = None, None, []
        elif kind == "navigation":
            for page in msg.navigation.app_pages:
                self.page_hashes[page.url_pathname] = page.page_script_hash
        elif kind == "script_finished":
            self.finished = msg.script_finished
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            self._element(msg.delta.new_element)
        return msg

    def _element(self, element) -> None:
        kind = element.WhichOneof("type")
        inner = getattr(element, kind) if kind else None
        widget_id = getattr(inner, "id", "") if inner is not None else ""
        if widget_id.startswith("$$ID-"):
            self.widget_ids[widget_id.split("-", 2)[2]] = widget_id
        if kind == "html" and (found := PREDICTION.search(element.html.body)):
            self.prediction = found.group(1)
        elif kind == "exception":
            self.errors.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "markdown":
            self.texts.append(element.markdown.body)
        elif kind == "alert":
            self.texts.append(element.alert.body)

    def run_started(self) -> None:
        self.finished, self.prediction, self.texts = None, None, []

    @property
    def succeeded(self) -> bool:
        return self.finished == ForwardMsg.FINISHED_SUCCESSFULLY


# ------------------------------------------------------------------ sessions


class Session:
    """One simulated pupil: a websocket, and the page as the server has described it."""

    def __init__(self, base: str, timeout: float):
        self.base, self.timeout = base, timeout
        self.page_url = f"{base.rstrip('/')}/{PAGE}"
        self.view = PageView()
        self.ws = None

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        parts = urlsplit(self.base)
        self.ws = await connect(
            stream_url(self.base),
            subprotocols=["streamlit"],
            origin=f"{parts.scheme}://{parts.netloc}",
            max_size=None,
            open_timeout=self.timeout,
        )
        await self.run(page_name=PAGE)
        for key in (CANVAS_KEY, CLEAR_KEY):
            if key not in self.view.widget_ids:
                raise RuntimeError(f"the Draw page sent no {key!r} widget: {self.view.texts[:3]}")
        if PAGE not in self.view.page_hashes:
            raise RuntimeError(f"no page {PAGE!r} in the navigation: {self.view.page_hashes}")

    async def run(self, widgets=(), page_name: str = "", until_prediction: bool = False):
        """Ask for a run; return (seconds to the prediction or None, seconds to the end)."""
        page_hash = "" if page_name else self.view.page_hashes[PAGE]
        self.view.run_started()
        start = time.perf_counter()
        await self.ws.send(rerun_message(self.page_url, page_name, page_hash, tuple(widgets)))
        answered = None
        async with asyncio.timeout(self.timeout):
            while self.view.finished is None or (
                self.view.finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN
            ):
                self.view.feed(await self.ws.recv())
                if answered is None and self.view.prediction is not None:
                    answered = time.perf_counter() - start
        if not self.view.succeeded or self.view.errors:
            raise RuntimeError(
                f"run finished with status {self.view.finished}, errors {self.view.errors}"
            )
        return answered, time.perf_counter() - start

    def canvas(self, value: str) -> WidgetState:
        return json_widget(self.view.widget_ids[CANVAS_KEY], value)

    async def draw_and_clear(self, value: str, expected: str) -> tuple[float, float]:
        answered, finished = await self.run([self.canvas(value)])
        if self.view.prediction != expected:
            raise RuntimeError(f"drew {expected}, the page said {self.view.prediction!r}")
        clear = trigger_widget(self.view.widget_ids[CLEAR_KEY])
        await self.run([self.canvas(value), clear])
        if self.view.prediction is not None:
            raise RuntimeError(f"Clear left the prediction {self.view.prediction!r}")
        await self.run([self.canvas(blank())])  # the canvas reports its empty drawing
        return answered, finished

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def pupil(
    session: Session, rounds: int, think: float, results: dict, number: int, ramp: float = 0
):
    values = [(drawn(points), expected) for points, expected in DRAWINGS]
    await asyncio.sleep(ramp * random.random())  # not every pupil starts in the same second
    try:
        for _ in range(rounds):
            for value, expected in values:
                answered, finished = await session.draw_and_clear(value, expected)
                results["answer"].append(answered)
                results["run"].append(finished)
                await asyncio.sleep(think * random.uniform(0.5, 1.5))  # looking at it
    except Exception as exc:  # any failure is a finding, recorded
        results["errors"].append(f"session {number}: {exc!r}"[:300])


# ------------------------------------------------------------------ measuring


def rss_mb(pids) -> float:
    """Resident memory of the processes ``pids`` (the server, or its replicas) in MB."""
    return sum(process_rss_mb(pid) for pid in pids)


def cpu_seconds(pids) -> float:
    """CPU seconds (user + system) used so far by the processes ``pids``."""
    return sum(process_seconds(pid) for pid in pids)


async def measure(
    base: str, pids, sessions: int, rounds: int, think: float, timeout: float, ramp: float = 0
):
    load_before = os.getloadavg()
    memory_idle = rss_mb(pids)
    warm = Session(base, timeout)
    await warm.open()
    scratch = {"answer": [], "run": [], "errors": []}
    await pupil(warm, 1, 0, scratch, -1)  # first-use caches are not per-session memory
    if scratch["errors"]:
        raise RuntimeError(f"the warm-up session failed: {scratch['errors']}")
    memory_warm = rss_mb(pids)
    crowd = [warm]
    results = {"answer": [], "run": [], "errors": []}
    for number in range(1, sessions):  # opened one by one: page loads are not measured
        session = Session(base, timeout)
        try:
            await session.open()
            crowd.append(session)
        except Exception as exc:
            results["errors"].append(f"session {number} did not open: {exc!r}"[:300])
    memory_open = rss_mb(pids)
    cpu_before, own_before, start = cpu_seconds(pids), time.process_time(), time.perf_counter()
    await asyncio.gather(*(pupil(s, rounds, think, results, i, ramp) for i, s in enumerate(crowd)))
    wall = time.perf_counter() - start
    cpu_server, cpu_own = cpu_seconds(pids) - cpu_before, time.process_time() - own_before
    memory_after = rss_mb(pids)
    load_after = os.getloadavg()
    for session in crowd:
        with contextlib.suppress(Exception):
            await session.close()
    answers = [a + DEBOUNCE_S for a in results["answer"] if a is not None]
    return {
        "sessions": sessions,
        "think_s": think,
        "ramp_s": ramp,
        "server_processes": len(pids),
        "drawings_expected": len(crowd) * rounds * 2 + (sessions - len(crowd)) * rounds * 2,
        "drawings_right": len(results["answer"]),
        "errors": results["errors"],
        "mouse_up_to_answer": percentiles(answers),
        "stroke_sent_to_answer": percentiles(results["answer"]),
        "stroke_sent_to_run_end": percentiles(results["run"]),
        "wall_s": round(wall, 1),
        "cpu_cores": {
            "server": round(cpu_server / wall, 2),
            "load_generator": round(cpu_own / wall, 2),
        },
        "server_mb": {
            "idle": round(memory_idle, 1),
            "one_session_warm": round(memory_warm, 1),
            "all_open": round(memory_open, 1),
            "after_drawing": round(memory_after, 1),
        },
        "mb_per_session": round((memory_after - memory_warm) / max(sessions - 1, 1), 2),
        "load_average_1_5_15": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
    }


def summary(report: dict) -> str:
    """One Markdown table row (docs/reliability.md's table)."""
    up, mb = report["mouse_up_to_answer"], report["server_mb"]
    pace = f"{report['think_s']:g} s"
    if report.get("ramp_s"):
        pace += f", start within {report['ramp_s']:g} s"
    return (
        f"| {report['sessions']} | {pace} | {report['drawings_right']} / "
        f"{report['drawings_expected']} | {len(report['errors'])} | "
        f"{up.get('p50_ms', '-')} / {up.get('p95_ms', '-')} ms | "
        f"{mb['idle']:.0f} / {mb['one_session_warm']:.0f} / {mb['after_drawing']:.0f} MB | "
        f"{report['mb_per_session']:.2f} MB | {report['cpu_cores']['server']:.2f} | "
        f"{report['load_average_1_5_15']['before'][0]:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 30, 60])
    parser.add_argument("--rounds", type=int, default=3, help="'1' and '0' pairs per session")
    parser.add_argument(
        "--think", type=float, default=0.0, help="mean seconds spent looking at an answer"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for any one wait")
    parser.add_argument("--url", help="a running app (default: start one per sessions count)")
    parser.add_argument(
        "--ramp", type=float, default=0.0, help="sessions start at random within these seconds"
    )
    parser.add_argument(
        "--pid", type=int, nargs="+", help="its server process(es: replicas), for memory and CPU"
    )
    args = parser.parse_args()
    if args.url and not args.pid:
        parser.error("--url needs --pid (the server process whose memory is measured)")
    reports = []
    for sessions in args.sessions:
        if args.url:
            report = asyncio.run(
                measure(
                    args.url, args.pid, sessions, args.rounds, args.think, args.timeout, args.ramp
                )
            )
        else:
            from tools.browser import streamlit_server

            # No background builds (digit map, tuning, comparison): they are a one-off
            # per server, and would be measured as the sessions' load.
            with streamlit_server(env={"MNIST_KNN_BACKGROUND": "0"}) as url:
                report = asyncio.run(
                    measure(
                        url, [url.pid], sessions, args.rounds, args.think, args.timeout, args.ramp
                    )
                )
        print(json.dumps(report, indent=1), flush=True)
        reports.append(report)
    print(
        "\n| sessions | think | right | errors | mouse-up to answer p50 / p95 | server RSS "
        "idle / 1 warm / after | per session | server cores | load avg |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for report in reports:
        print(summary(report))
    ok = all(not r["errors"] and r["drawings_right"] == r["drawings_expected"] for r in reports)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
