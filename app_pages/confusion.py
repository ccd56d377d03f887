"""Confusion matrix: which digits are taken for which; click a cell to see its test digits."""

import streamlit as st

from mnist_knn import charts, ui
from mnist_knn.evaluation.metrics import confidence, confusion, select, top_confusions

NORMALISE = {"Counts": None, "By true digit": "true", "By predicted digit": "pred"}
SHOWN = 60  # digits drawn per cell; more would slow the page down without telling more

st.session_state.setdefault("confusion_normalise", "Counts")
st.session_state.setdefault("confusion_true", None)
st.session_state.setdefault("confusion_pred", None)


@ui.cache_data(show_spinner=False)
def confusion_figure(artifact, normalise: str | None, cell):
    counts = confusion(artifact.evaluation.y_true, artifact.evaluation.y_pred)
    return charts.evaluation.confusion_heatmap(counts, normalise, highlight=cell)


def on_cell_click() -> None:
    """Copy the clicked cell into the two digit boxes below the chart."""
    points = st.session_state.confusion_chart.selection.points
    if points:
        st.session_state.confusion_pred = int(points[0]["x"])
        st.session_state.confusion_true = int(points[0]["y"])


preset = ui.current_preset()
artifact = ui.get_artifact(preset)
evaluation = artifact.evaluation
counts = confusion(evaluation.y_true, evaluation.y_pred)
top = top_confusions(counts, 3)
if st.session_state.confusion_true is None:
    # Until a click, show the most frequent mistake.
    st.session_state.confusion_true, st.session_state.confusion_pred = top[0][:2] if top else (0, 0)

st.title("Confusion matrix")
st.markdown(
    f"Rows are the true digits, columns the **{preset}** model's answers on the "
    f"{len(evaluation.y_true):,} test digits. The grey diagonal holds the "
    f"{int(counts.trace()):,} right answers; the red cells are the "
    f"{int(counts.sum() - counts.trace()):,} mistakes. **Click a cell** to see its digits."
)
if top:
    st.caption(
        "Most frequent mistakes: " + ", ".join(f"{t} taken for {p} ({c}×)" for t, p, c in top) + "."
    )
normalise = st.segmented_control("Show", list(NORMALISE), key="confusion_normalise", required=True)
chart, gallery = st.columns([3, 2])
with chart:
    st.plotly_chart(
        confusion_figure(
            artifact,
            NORMALISE[normalise],
            (st.session_state.confusion_true, st.session_state.confusion_pred),
        ),
        key="confusion_chart",
        on_select=on_cell_click,
        selection_mode="points",
        config={"displayModeBar": False},
    )
with gallery:
    left, right = st.columns(2)
    true = left.selectbox("True digit", range(10), key="confusion_true")
    pred = right.selectbox("Predicted digit", range(10), key="confusion_pred")
    index = select(evaluation, true, pred)
    sure = confidence(evaluation)
    kind = "right answers" if true == pred else "mistakes"
    st.markdown(
        f"**{len(index):,} {kind}**: true **{true}**, predicted **{pred}**"
        + (f" (the {SHOWN} most confident shown)" if len(index) > SHOWN else "")
        + ", most confident first."
    )
    if len(index):
        st.image(
            [ui.digit_image(img, 2) for img in ui.get_data().x_test[index[:SHOWN]]],
            caption=[f"#{i} {sure[i]:.0%}" for i in index[:SHOWN]],
            width=80,
        )
    else:
        st.caption("No test digit falls in this cell.")
