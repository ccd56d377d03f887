"""Draw: draw (or upload) a digit, see what the KNN sees, why it decided, and how sure it is."""

import streamlit as st

from mnist_knn import PRESETS, charts, ui
from mnist_knn.model import K_MAX
from mnist_knn.preprocess import CANVAS, DEFAULT_BRUSH
from mnist_knn.reading import vote_summary

preset = ui.current_preset()
st.session_state.setdefault("draw_source", "Draw")
st.session_state.setdefault("draw_k", PRESETS[preset].k)
st.session_state.setdefault("draw_weights", PRESETS[preset].weights)
st.session_state.setdefault("draw_brush", DEFAULT_BRUSH)

artifact, data = ui.get_artifact(preset), ui.get_data()
if ui.presenter_view():  # ?presenter=1: a big canvas, the big answer, the neighbours
    ui.presenter_page(preset)

# The canvas and the answer above the fold on a 1280x720 projector, and on a phone (where
# the controls go under them).
ui.compact_top(phone_order=("draw_main", "draw_controls", "draw_more"))
with st.container(horizontal=True, wrap=True, vertical_alignment="center", gap="large"):
    st.title("Draw a digit", anchor=False, width="content")
    source = st.segmented_control(
        "Input",
        ["Draw", "Upload"],
        key="draw_source",
        required=True,
        width="content",
        label_visibility="collapsed",
    )
    ui.presenter_switch()
# What a teacher changes during a demo, in a row above the canvas (under it on a phone).
with st.container(
    horizontal=True, wrap=True, vertical_alignment="bottom", gap="medium", key="draw_controls"
):
    k = st.slider(
        "k: neighbours that vote",
        1,
        K_MAX,
        key="draw_k",
        width=180,
        help=f"The drawing's {K_MAX} nearest training digits are found once; "
        "changing k re-counts their votes.",
    )
    weights = st.radio(
        "Vote weights",
        ["distance", "uniform"],
        key="draw_weights",
        format_func={"distance": "closer counts more", "uniform": "one each"}.get,
        horizontal=True,
        width="content",
    )

# Canvas (always its full 280 px), answer, details: side by side where they fit, else
# wrapped under each other (the details first, then the answer too on a phone).
row = st.container(horizontal=True, wrap=True, gap="medium", key="draw_main")
name = None
with row.container(width=CANVAS + 8):
    if source == "Draw":
        brush = st.session_state["draw_brush"]
        drawing = ui.drawing_canvas("draw_canvas", brush)
        st.slider(
            "Brush width (px)",
            8,
            40,
            key="draw_brush",
            help=f"{DEFAULT_BRUSH} px draws MNIST's typical stroke for a digit about 200 px tall.",
        )
    else:
        ui.forget_canvas("draw_canvas")  # back on Draw, it is mounted again with its strokes
        drawing, name = ui.image_upload("A picture of one digit", key="draw_upload")
        if drawing is not None:
            st.image(drawing, caption=name, width=CANVAS)

ui.share_drawing(drawing)  # "How it works" and the other Learn pages explain it too
answer = row.container(width="content")
with answer:
    steps = ui.drawing_steps(drawing, name)
if steps is None:
    answer.info(
        "**Draw a digit** in the white box: the prediction appears as you draw."
        if source == "Draw"
        else "**Upload a picture** of one handwritten digit: a photo of paper works too.",
        width=260,
    )
    st.stop()

reading = ui.explain_drawing(preset, steps.result, k, weights, steps.stroke)
verdict = reading.verdict
with answer:
    ui.big_prediction(reading.label, verdict.sure, verdict.runner_up)
    st.image(
        ui.digit_image(reading.image, 5, frame=True),
        caption="What the model reads: 28×28 pixels",
        width=142,
    )
with row.container(width=340):
    if verdict.sure:
        st.success(verdict.reason)
    else:
        st.warning(f"{verdict.reason}\n\n**What helps:** {verdict.advice}")
    st.plotly_chart(
        charts.evaluation.probability_bars(reading.proba, reading.label, height=220),
        key="draw_proba",
        config={"displayModeBar": False},
    )

more = st.container(key="draw_more")
# Classroom mode: the class's confirmed drawings become a second test set.
with more:
    ui.drawing_feedback(steps.result, drawing, reading.label, reading.proba, preset, k)
more.markdown(f"#### Why: the {k} training digit{'s' if k > 1 else ''} closest to yours")
with more:
    # Tangent distance moves each neighbour a little to match: shown on request, since
    # working the moves out costs ~10 ms a drawing, a fifth of a busy server's time.
    moves = bool(ui.get_artifact(preset).model.rerank) and st.toggle(
        "Show each neighbour moved to match the drawing",
        key="draw_moves",
        help="Tangent distance lets a training digit turn, grow, shift or thicken a little "
        "before it is compared with your drawing: see how each one was moved.",
    )
    ui.neighbour_gallery(
        preset,
        reading.image,
        reading.ind,
        [
            f"{lab} · dist {d:.2f}"
            for lab, d in zip(reading.neigh_labels, reading.dist, strict=True)
        ],
        moves=moves,
    )
more.caption(vote_summary(reading))
