"""Precision-recall curves per digit, and whether the model's confidence can be trusted."""

import streamlit as st

from mnist_knn import charts, ui
from mnist_knn.evaluation.metrics import pr_curves, reliability

st.session_state.setdefault("precision_recall_digits", list(range(10)))
st.session_state.setdefault("precision_recall_micro", True)
st.session_state.setdefault("precision_recall_zoom", True)
st.session_state.setdefault("precision_recall_bins", 10)


@ui.cache_data(show_spinner=False)
def curves(artifact):
    return pr_curves(artifact.evaluation.y_true, artifact.evaluation.proba)


@ui.cache_data(show_spinner=False)
def calibration(artifact, n_bins: int):
    """The reliability diagram, and how the unanimous (100% confident) answers fared."""
    evaluation = artifact.evaluation
    rel = reliability(evaluation.y_true, evaluation.proba, n_bins)
    unanimous = evaluation.proba.max(axis=1) == 1.0
    right = evaluation.y_true[unanimous] == evaluation.y_pred[unanimous]
    return rel, charts.evaluation.reliability_figure(rel), int(unanimous.sum()), float(right.mean())


preset = ui.current_preset()
artifact = ui.get_artifact(preset)

st.title("Precision-recall and calibration")
st.markdown(
    "**Precision**: of the test digits the model called a 7, how many were 7s. "
    "**Recall**: of the real 7s, how many it found. Lowering the probability needed to "
    "answer 7 trades one for the other; the curve shows the trade, and its average "
    "precision (AP) sums it up."
)
digits = st.pills("Digits", list(range(10)), selection_mode="multi", key="precision_recall_digits")
left, right = st.columns(2)
micro = left.toggle("Micro-average", key="precision_recall_micro")
zoom = right.toggle("Zoom into the top-right corner", key="precision_recall_zoom")
st.plotly_chart(
    charts.evaluation.pr_figure(curves(artifact), sorted(digits), ["micro"] if micro else [], zoom),
    key="precision_recall_chart",
)

st.header("Calibration")
st.markdown(
    "When the model answers with 80% confidence, is it right 80% of the time? Each bar "
    "gathers the answers given with similar confidence and shows how many were right; a "
    "perfectly calibrated model's bars reach the dashed diagonal. The **expected "
    "calibration error** (ECE) is the average gap, weighted by how many answers each bin holds."
)
n_bins = st.slider("Bins", 5, 20, key="precision_recall_bins")
rel, figure, n_unanimous, right_unanimous = calibration(artifact, n_bins)
cols = st.columns(3)
cols[0].metric("Expected calibration error", f"{rel.ece:.4f}")
cols[1].metric("Unanimous answers (confidence 100%)", f"{n_unanimous:,}")
cols[2].metric("…of which right", f"{right_unanimous:.2%}")
st.plotly_chart(figure, key="precision_recall_calibration")
st.caption(
    f"{n_unanimous / len(artifact.evaluation.y_true):.1%} of the answers come from a "
    f"unanimous vote (the last bin), and {right_unanimous:.2%} of those are right: a vote of "
    "k neighbours cannot say 99.5%, only 100%. Split votes are often right more often than their "
    "confidence says. The histogram below uses a log scale."
)
