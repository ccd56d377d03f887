"""Dataset: what MNIST holds - class balance, the first digits, mean images, a digit browser."""

import numpy as np
import streamlit as st

from mnist_knn import charts, ui
from mnist_knn.evaluation.metrics import class_counts, class_means, confidence
from mnist_knn.reading import a_digit

st.session_state.setdefault("dataset_split", "training")
st.session_state.setdefault("dataset_digit", "any")
st.session_state.setdefault("dataset_position", 0)


@ui.cache_data(show_spinner="Drawing the dataset overview…")
def overview(data):
    """Class balance, first-100 grid and mean images."""
    return (
        charts.evaluation.class_balance(class_counts(data.y_train), class_counts(data.y_test)),
        charts.evaluation.digit_grid(data.x_train[:100], data.y_train[:100]),
        charts.evaluation.mean_images(class_means(data.x_train, data.y_train)),
    )


data = ui.get_data()
balance, grid, means = overview(data)

st.title("Dataset")
st.markdown(
    f"MNIST: **{len(data.y_train):,}** handwritten training digits the model searches, and "
    f"**{len(data.y_test):,}** test digits it is judged on (never used to choose anything). "
    "Each is a 28×28 grey image, the ink centred by its centre of mass in a 20×20 box."
)

st.plotly_chart(balance, key="dataset_balance")
st.caption(
    "The classes are nearly balanced (1s are the most common, 5s the least), so plain "
    "accuracy is a fair summary; the per-class pages show where it hides something."
)

left, right = st.columns(2)
with left:
    st.subheader("The first 100 training digits")
    st.plotly_chart(grid, key="dataset_grid")
with right:
    st.subheader("The average digit")
    st.plotly_chart(means, key="dataset_means")
    st.caption("Blurry averages: a nearest-neighbour model compares with every digit instead.")

st.subheader("Digit browser")
controls, view = st.columns([1, 2])
split = controls.segmented_control(
    "Split", ["training", "test"], key="dataset_split", required=True
)
digit = controls.selectbox("Digit", ["any", *range(10)], key="dataset_digit")
x, y = (data.x_train, data.y_train) if split == "training" else (data.x_test, data.y_test)
pool = np.arange(len(y)) if digit == "any" else np.flatnonzero(y == digit)
# Keep the position valid when the pool shrinks (set before the widget exists in this run).
st.session_state.dataset_position = min(st.session_state.dataset_position, len(pool) - 1)
position = controls.number_input(
    f"Position among {len(pool):,} {'digits' if digit == 'any' else f'{digit}s'}",
    min_value=0,
    max_value=len(pool) - 1,
    step=1,
    key="dataset_position",
)
index = int(pool[position])
controls.markdown(f"**{split} digit #{index:,}**: labelled **{y[index]}**")
if split == "test":
    preset = ui.current_preset()
    evaluation = ui.get_artifact(preset).evaluation
    answer, sure = int(evaluation.y_pred[index]), float(confidence(evaluation)[index])
    verdict = "✅ right" if answer == y[index] else "❌ wrong"
    controls.markdown(f"The **{preset}** model says **{answer}** ({sure:.0%}): {verdict}")
view.image(ui.digit_image(x[index], 10), caption=f"#{index:,}: {a_digit(y[index])}", width=280)
