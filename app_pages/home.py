"""Home: what the app is, and how good the current model is."""

import streamlit as st

from mnist_knn import PRESETS, charts, ui

preset = ui.current_preset()
artifact = ui.get_artifact(preset)
meta, data = artifact.meta, ui.get_data()

st.title("✏️ mnist-knn")
st.markdown(
    "Draw a digit and watch a **k-nearest-neighbours** classifier read it: it compares your "
    "drawing with the 60,000 handwritten digits of **MNIST** and lets the closest ones vote. "
    "The other pages show how good that is, and where it goes wrong."
)

st.page_link("app_pages/draw.py", label="**Draw a digit**", icon="✏️")

col1, col2, col3 = st.columns(3)
col1.metric(
    "Test accuracy",
    f"{meta['accuracy']:.2%}",
    help=f"On the {meta['n_test']:,} MNIST test digits, never used to choose anything.",
)
col2.metric("Training digits", f"{meta['n_train']:,}")
col3.metric("Neighbours that vote (k)", PRESETS[preset].k)

st.caption(
    f"Preset **{preset}**: {PRESETS[preset].description} "
    f"Built {meta['built'][:16].replace('T', ' ')} in {meta['build_seconds']:.1f} s."
)

st.subheader("How it works")
st.markdown(
    "1. Your drawing is turned into a 28×28 image the way MNIST's digits were made: "
    "cropped to the ink, its strokes evened to MNIST's pen width, scaled into a 20×20 box, "
    "centred by its centre of mass.\n"
    "2. The model measures the distance from it to every training digit.\n"
    "3. The *k* closest digits vote, closer ones counting more; the vote shares are the "
    "probabilities you see."
)
st.subheader("Some of the digits it learned from")
st.image(
    ui.digit_image(charts.evaluation.tile(data.x_train[:20], ncols=10), 2),
    caption="The first 20 training digits: " + " ".join(str(y) for y in data.y_train[:20]),
)
