"""ROC curves: one digit against the rest, micro and macro averages, AUC in the legend."""

import numpy as np
import streamlit as st

from mnist_knn import PRESETS, charts, ui
from mnist_knn.evaluation.metrics import roc_curves
from mnist_knn.model import vote

st.session_state.setdefault("roc_digits", list(range(10)))
st.session_state.setdefault("roc_averages", ["micro", "macro"])
st.session_state.setdefault("roc_zoom", True)
st.session_state.setdefault("roc_compare", False)


@ui.cache_data(show_spinner=False)
def curves(artifact, weights: str):
    """ROC curves of the stored probabilities, or of the same neighbours re-voted with ``weights``.

    Also returns how many distinct probability values the vote produced.
    """
    evaluation, spec = artifact.evaluation, artifact.preset
    proba = evaluation.proba
    if weights != spec.weights:
        labels = ui.get_data().y_train[evaluation.neigh_ind]
        proba = vote(evaluation.neigh_dist, labels, spec.k, weights)
    return roc_curves(evaluation.y_true, proba), len(np.unique(proba))


preset = ui.current_preset()
artifact = ui.get_artifact(preset)
spec, evaluation = PRESETS[preset], artifact.evaluation
other = "uniform" if spec.weights == "distance" else "distance"
stored, distinct = curves(artifact, spec.weights)
unanimous = float(np.mean(evaluation.proba.max(axis=1) == 1.0))

st.title("ROC curves")
with st.expander("Why a KNN's probabilities are coarse, and which ones are used here", True):
    st.markdown(
        f"A KNN's probability for a digit is the **share of the vote** of its k = {spec.k} "
        f"nearest training digits. With equal (uniform) votes that share can only be "
        f"0, 1/{spec.k}, …, 1: {spec.k + 1} values, so a ROC curve has at most "
        f"{spec.k + 1} corners. The curves here use **{spec.weights}-weighted** votes "
        f"(closer neighbours count more), as the model does, which spreads split votes over "
        f"many values ({distinct:,} distinct ones on the test set). Even so, "
        f"**{unanimous:.1%}** of the test digits get a unanimous vote (probability exactly "
        f"1 for one digit, 0 for the others), so each curve is a few steps and the action is "
        f"in the top-left corner: the zoom (on by default) shows it with a log scale."
    )

digits = st.pills(
    "Digits", list(range(10)), selection_mode="multi", key="roc_digits", width="stretch"
)
cols = st.columns(3)
averages = cols[0].pills("Averages", ["micro", "macro"], selection_mode="multi", key="roc_averages")
zoom = cols[1].toggle(
    "Zoom into the top-left corner",
    key="roc_zoom",
    help="True positive rates from 90%, false positive rates on a log scale.",
)
compare = cols[2].toggle(f"Compare with {other} votes (macro)", key="roc_compare")

extra = None
if compare:
    revoted, _ = curves(artifact, other)
    extra = {f"macro, {other} votes": revoted["macro"]}
st.plotly_chart(
    charts.evaluation.roc_figure(stored, sorted(digits), averages, zoom=zoom, extra=extra),
    key="roc_chart",
)
st.caption(
    "Micro-average pools every (test digit, digit) pair into one curve; macro-average "
    "averages the ten digits' curves (its AUC is the mean of theirs, the ROC-AUC of the "
    "Metrics page). Click legend entries to hide curves; drag to zoom further."
)
