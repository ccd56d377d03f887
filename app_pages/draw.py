"""Draw: draw (or upload) a digit, see what the KNN sees, why it decided, and how sure it is."""

import numpy as np
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

with st.sidebar:
    k = st.slider(
        "k: neighbours that vote",
        1,
        K_MAX,
        key="draw_k",
        help=f"The drawing's {K_MAX} nearest training digits are found once; "
        "changing k re-counts their votes.",
    )
    weights = st.radio(
        "Vote weights",
        ["distance", "uniform"],
        key="draw_weights",
        format_func={"distance": "closer counts more", "uniform": "one each"}.get,
        horizontal=True,
    )
    brush = st.slider(
        "Brush width (px)",
        8,
        40,
        key="draw_brush",
        help=f"{DEFAULT_BRUSH} px draws MNIST's typical stroke for a digit about 200 px tall.",
    )

st.title("✏️ Draw a digit")
source = st.segmented_control(
    "Input", ["Draw", "Upload"], key="draw_source", required=True, label_visibility="collapsed"
)

# The left column must fit the 280 px canvas on a 1400 px screen with the sidebar open.
left, middle, right = st.columns([1.25, 1, 1.4], gap="medium")
name = None
with left:
    if source == "Draw":
        drawing = ui.drawing_canvas("draw_canvas", brush)
    else:
        drawing, name = ui.image_upload("A picture of one digit", key="draw_upload")
        if drawing is not None:
            st.image(drawing, caption=name, width=CANVAS)

ui.share_drawing(drawing)  # "How it works" and the other Learn pages explain it too
with middle:
    steps = ui.drawing_steps(drawing, name)
if steps is None:
    middle.info("✏️ **Draw a digit** in the white box: the prediction appears as you draw.")
    st.stop()

reading = ui.explain_drawing(preset, steps.result, k, weights)
verdict = reading.verdict
with middle:
    st.metric(
        "Prediction",
        f"{reading.label}" if verdict.sure else f"{reading.label}?",
        delta="sure" if verdict.sure else "not sure",
        delta_color="green" if verdict.sure else "orange",
        delta_arrow="off",
    )
    # A grey frame shows where the 28x28 field ends on the white page.
    big = np.pad(ui.digit_image(reading.image, 5), 1, constant_values=190)
    st.image(big, caption="What the model sees: 28×28 pixels")
with right:
    st.plotly_chart(
        charts.evaluation.probability_bars(reading.proba, reading.label, height=240),
        key="draw_proba",
        config={"displayModeBar": False},
    )
    (st.success if verdict.sure else st.warning)(verdict.reason)

# Classroom mode: the class's confirmed drawings become a second test set.
ui.drawing_feedback(steps.result, drawing, reading.label, reading.proba, preset, k)

st.markdown(f"#### Why: the {k} training digit{'s' if k > 1 else ''} closest to yours")
st.image(
    [ui.digit_image(data.x_train[i], 3) for i in reading.ind],
    caption=[
        f"{lab} · dist {d:.2f}" for lab, d in zip(reading.neigh_labels, reading.dist, strict=True)
    ],
    width=84,
)
st.caption(vote_summary(reading))
