"""The protocol load generator's messages (tools/ws_load.py): what it sends is what the browser
and the canvas component send, and it reads the Draw page's answer out of the server's replies.
No timing here: the figures are measured by running the tool (docs/reliability.md)."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
from PIL import Image
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from mnist_knn.preprocess import CANVAS, DEFAULT_BRUSH, to_mnist
from mnist_knn.synthetic import ONE, ZERO
from tools import ws_load


def png_of(value: str) -> np.ndarray:
    url = json.loads(value)["drawing"]["data"]
    header, encoded = url.split(",", 1)
    assert header == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))))


def test_stream_url_is_the_apps_websocket():
    assert ws_load.stream_url("http://127.0.0.1:8501") == "ws://127.0.0.1:8501/_stcore/stream"
    assert ws_load.stream_url("https://school.example/knn/") == (
        "wss://school.example/knn/_stcore/stream"
    )


def test_the_first_run_names_the_page_by_its_path_later_runs_by_its_hash():
    first = BackMsg.FromString(ws_load.rerun_message("http://h/draw", page_name="draw"))
    assert first.WhichOneof("type") == "rerun_script"
    assert first.rerun_script.page_name == "draw"
    assert first.rerun_script.page_script_hash == ""
    assert first.rerun_script.context_info.url == "http://h/draw"
    assert list(first.rerun_script.widget_states.widgets) == []

    canvas = ws_load.json_widget("$$ID-abc-draw_canvas", ws_load.drawn(ONE))
    clear = ws_load.trigger_widget("$$ID-def-draw_canvas_clear")
    later = BackMsg.FromString(
        ws_load.rerun_message("http://h/draw", page_script_hash="a85a", widgets=(canvas, clear))
    )
    assert later.rerun_script.page_script_hash == "a85a"
    assert later.rerun_script.page_name == ""
    sent = later.rerun_script.widget_states.widgets
    assert [w.id for w in sent] == ["$$ID-abc-draw_canvas", "$$ID-def-draw_canvas_clear"]
    assert sent[0].WhichOneof("value") == "json_value"
    assert sent[1].WhichOneof("value") == "trigger_value" and sent[1].trigger_value


def test_a_stroke_is_the_components_value_a_fabric_path_and_the_canvas_png():
    value = json.loads(ws_load.drawn(ONE))
    assert list(value) == ["drawing"]
    raw = value["drawing"]["raw"]
    assert raw["background"] == "#ffffff" and len(raw["objects"]) == 1
    stroke = raw["objects"][0]
    assert stroke["type"] == "Path" and stroke["strokeWidth"] == DEFAULT_BRUSH
    # ONE runs from (0.5, 0.2) to (0.5, 0.8) of the 280 px canvas.
    assert stroke["path"][0] == ["M", 140.0, 56.0]
    assert stroke["path"][-1] == ["L", 140.0, 224.0]
    assert stroke["left"] == 140.0 and stroke["height"] == 168.0

    image = png_of(ws_load.drawn(ONE))
    assert image.shape == (CANVAS, CANVAS, 4)
    assert (image[0, 0] == 255).all()  # white paper, opaque
    assert image[140, 140, :3].max() == 0  # black ink on the stroke
    # What the app makes of it: a tall thin stroke in MNIST's box.
    digit = to_mnist(image)
    assert digit.shape == (28, 28) and digit[14, 14] > 128 and digit[14, 4] == 0


def test_after_clear_the_canvas_reports_white_and_no_strokes():
    value = json.loads(ws_load.blank())
    assert value["drawing"]["raw"]["objects"] == []
    image = png_of(ws_load.blank())
    assert image.shape == (CANVAS, CANVAS, 4) and (image == 255).all()


def test_the_zero_and_the_one_are_different_pictures():
    assert ws_load.drawn(ONE) != ws_load.drawn(ZERO)
    assert len(json.loads(ws_load.drawn(ZERO))["drawing"]["raw"]["objects"][0]["path"]) == 41


def delta_html(body: str) -> bytes:
    msg = ForwardMsg()
    msg.delta.new_element.html.body = body
    return msg.SerializeToString()


def big_prediction_html(monkeypatch, label: int, sure: bool) -> str:
    """The HTML the Draw page sends for its big prediction (ui.big_prediction)."""
    from mnist_knn.ui import drawing

    sent = []
    monkeypatch.setattr(drawing.st, "html", lambda body, **_: sent.append(body))
    drawing.big_prediction(label, sure)
    return sent[0]


def test_the_view_reads_the_pages_hash_its_widgets_and_the_prediction(monkeypatch):
    view = ws_load.PageView()
    nav = ForwardMsg()
    for name, page_hash in (("", "h0"), ("draw", "h1"), ("class_drawings", "h2")):
        page = nav.navigation.app_pages.add()
        page.url_pathname, page.page_script_hash = name, page_hash
    view.feed(nav.SerializeToString())
    assert view.page_hashes == {"": "h0", "draw": "h1", "class_drawings": "h2"}

    canvas = ForwardMsg()
    canvas.delta.new_element.bidi_component.id = "$$ID-75e6-draw_canvas"
    view.feed(canvas.SerializeToString())
    button = ForwardMsg()
    button.delta.new_element.button.id = "$$ID-0a07-draw_canvas_clear"
    view.feed(button.SerializeToString())
    assert view.widget_ids == {
        "draw_canvas": "$$ID-75e6-draw_canvas",
        "draw_canvas_clear": "$$ID-0a07-draw_canvas_clear",
    }

    view.run_started()
    view.feed(delta_html("<style>.x{}</style>"))
    assert view.prediction is None
    view.feed(delta_html(big_prediction_html(monkeypatch, 7, sure=True)))
    assert view.prediction == "7"
    view.feed(delta_html(big_prediction_html(monkeypatch, 3, sure=False)))
    assert view.prediction == "3?"
    assert view.finished is None and not view.succeeded
    done = ForwardMsg(script_finished=ForwardMsg.FINISHED_SUCCESSFULLY)
    view.feed(done.SerializeToString())
    assert view.succeeded and view.errors == []


def test_the_view_notes_an_exception_and_a_run_cut_short():
    view = ws_load.PageView()
    shown = ForwardMsg()
    shown.delta.new_element.exception.type = "ValueError"
    shown.delta.new_element.exception.message = "bad drawing"
    view.feed(shown.SerializeToString())
    assert view.errors == ["ValueError: bad drawing"]
    view.feed(ForwardMsg(script_finished=ForwardMsg.FINISHED_EARLY_FOR_RERUN).SerializeToString())
    assert view.finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN and not view.succeeded


def test_the_summary_row_has_the_figures():
    report = {
        "sessions": 30,
        "think_s": 0.0,
        "drawings_right": 180,
        "drawings_expected": 180,
        "errors": [],
        "mouse_up_to_answer": {"n": 180, "p50_ms": 420, "p95_ms": 1210, "max_ms": 1500},
        "server_mb": {"idle": 70.1, "one_session_warm": 333.8, "after_drawing": 400.2},
        "mb_per_session": 2.29,
        "cpu_cores": {"server": 0.97},
        "load_average_1_5_15": {"before": [2.5, 2.0, 1.0]},
    }
    assert ws_load.summary(report) == (
        "| 30 | 0 s | 180 / 180 | 0 | 420 / 1210 ms | 70 / 334 / 400 MB | 2.29 MB | 0.97 | 2.50 |"
    )


def test_the_summary_row_says_when_sessions_started_spread_out():
    report = {
        "sessions": 10,
        "think_s": 5.0,
        "ramp_s": 5.0,
        "drawings_right": 59,
        "drawings_expected": 60,
        "errors": ["session 3: TimeoutError()"],
        "mouse_up_to_answer": {"n": 59, "p50_ms": 250, "p95_ms": 400, "max_ms": 420},
        "server_mb": {"idle": 70.0, "one_session_warm": 330.0, "after_drawing": 350.0},
        "mb_per_session": 2.22,
        "cpu_cores": {"server": 0.1},
        "load_average_1_5_15": {"before": [1.0, 1.0, 1.0]},
    }
    assert ws_load.summary(report).startswith(
        "| 10 | 5 s, start within 5 s | 59 / 60 | 1 | 250 / 400 ms |"
    )
