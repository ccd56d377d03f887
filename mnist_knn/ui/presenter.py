"""The Draw page's presenter view, for a teacher's projector: a big canvas, the big answer
and the neighbours that voted, nothing else (no sidebar, no charts).

On with the page's "Presenter view" switch or the address ``/draw?presenter=1`` (a
bookmark for the classroom); the switch keeps the address in step. k, the vote weights
and the brush keep the values set in the normal view.
"""

from __future__ import annotations

import streamlit as st

from .drawing import big_prediction, drawing_canvas, drawing_steps, share_drawing
from .resources import digit_image, explain_drawing, get_data

PRESENTER_KEY = "draw_presenter"
PRESENTER_PARAM = "presenter"
OPEN_KEY = "draw_presenter_open"
# Fits a 1280x720 projector under the page's title with its buttons (the canvas's
# picture is scaled to the usual 280 px before it is read).
PRESENTER_CANVAS = 440
PRESENTER_PREDICTION_PX = 280
# The normal view's widgets whose values the presenter view uses without showing them.
_KEPT = ("draw_k", "draw_weights", "draw_brush")

# No sidebar nor its button, no Streamlit header bar, less space above: all of the screen
# for the canvas and the answer.
_STYLE = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stHeader"] {display: none !important}
[data-testid="stMainBlockContainer"] {padding-top: 1rem !important; max-width: none !important}
[data-testid="stImageCaption"], [data-testid="stImageCaption"] * {font-size: 1.5rem !important;
  color: #111 !important}
</style>"""


def _follow_switch() -> None:
    if st.session_state[PRESENTER_KEY]:
        st.query_params[PRESENTER_PARAM] = "1"
    else:
        st.query_params.pop(PRESENTER_PARAM, None)


def presenter_view() -> bool:
    """Whether the Draw page shows its presenter view (``?presenter=1`` the first time)."""
    if PRESENTER_KEY not in st.session_state:
        st.session_state[PRESENTER_KEY] = st.query_params.get(PRESENTER_PARAM) == "1"
    return bool(st.session_state[PRESENTER_KEY])


def _open() -> None:
    st.session_state[PRESENTER_KEY] = True
    st.query_params[PRESENTER_PARAM] = "1"


def presenter_switch() -> None:
    """In the presenter view its "Presenter view" switch (off goes back); in the normal view
    a small button that opens it (an icon: the title row has no room for a switch at
    820-1024 px), not on a phone, which is no projector. The address follows."""
    if presenter_view():
        st.toggle(
            "Presenter view",
            key=PRESENTER_KEY,
            on_change=_follow_switch,
            help="Switch off for the whole Draw page. Bookmark this view as /draw?presenter=1.",
        )
        return
    st.html(f"<style>@media (max-width: 700px) {{.st-key-{OPEN_KEY} {{display: none}}}}</style>")
    st.button(
        "",
        icon=":material/co_present:",
        key=OPEN_KEY,
        on_click=_open,
        help="Presenter view, for a projector: a big canvas, the big answer and the "
        "neighbours, no sidebar (or open /draw?presenter=1).",
    )


def presenter_page(preset: str) -> None:
    """The whole presenter view of the Draw page, for ``preset``; stops the page after it."""
    for key in _KEPT:  # a widget not on the page loses its value: keep it for the way back
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    st.html(_STYLE)
    with st.container(horizontal=True, vertical_alignment="center", gap="large"):
        st.title("Draw a digit", anchor=False, width="content")
        presenter_switch()
    row = st.container(horizontal=True, wrap=True, gap="large", key="draw_presenter_main")
    with row.container(width=PRESENTER_CANVAS + 8):
        drawing = drawing_canvas(
            "draw_canvas_presenter", st.session_state["draw_brush"], PRESENTER_CANVAS
        )
    share_drawing(drawing)
    answer = row.container(width="content")
    with answer:
        steps = drawing_steps(drawing)
    if steps is None:
        answer.markdown("### Draw a digit in the white box")
        st.stop()
    k, weights = st.session_state["draw_k"], st.session_state["draw_weights"]
    reading = explain_drawing(preset, steps.result, k, weights, steps.stroke)
    with answer:
        big_prediction(
            reading.label,
            reading.verdict.sure,
            reading.verdict.runner_up,
            size=PRESENTER_PREDICTION_PX,
        )
        if not reading.verdict.sure:
            st.warning(reading.verdict.advice)
    with row.container(width=3 * 112 + 16):
        st.markdown(f"#### The {k} closest training digit{'s' if k > 1 else ''}")
        data = get_data()
        st.image(
            [digit_image(data.x_train[i], 4) for i in reading.ind],
            caption=[str(label) for label in reading.neigh_labels],
            width=104,
        )
    st.stop()
