"""A stand-in for the Draw page in AppTests: one synthetic drawing, its prediction, "Right?".

``st.session_state["test_digit"]`` chooses the digit drawn (default 7) and
``"test_seed"`` the hand that draws it.
"""

import numpy as np
import streamlit as st

from mnist_knn import to_mnist, ui
from mnist_knn.synthetic import hand_drawing

st.session_state.setdefault("test_digit", 7)
st.session_state.setdefault("test_seed", 0)
ui.room_input()
canvas = hand_drawing(
    st.session_state.test_digit, np.random.default_rng(st.session_state.test_seed)
)
image = to_mnist(canvas)
preset = ui.current_preset()
artifact = ui.get_artifact(preset)
result = artifact.model.search(image[None])
label = int(result.labels[0])
st.header(f"Read as {label}")
saved = ui.drawing_feedback(
    image, np.asarray(canvas), label, result.proba[0], preset, artifact.preset.k, key_prefix="test"
)
st.text(f"saved id: {saved}")
