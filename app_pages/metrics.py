"""Metrics: the full table for the chosen preset beside the plain baseline, and per-class scores."""

import pandas as pd
import streamlit as st

from mnist_knn import PRESETS, charts, ui
from mnist_knn.evaluation.metrics import METRICS, compute_metrics, per_class_report

BASELINE = "baseline"
CV_LABEL = "10-fold CV accuracy (training set)"


@ui.cache_data(show_spinner=False)
def test_metrics(artifact) -> dict[str, float]:
    """All test-set metrics of one preset."""
    return compute_metrics(artifact.evaluation)


def metric_values(preset: str, artifact) -> dict[str, float]:
    """The test-set metrics and the cross-validated accuracy (NaN until `tune` has run)."""
    tuning, spec = ui.get_tuning(preset), PRESETS[preset]
    cv = tuning.accuracy(spec.k, spec.weights) if tuning else float("nan")
    return test_metrics(artifact) | {"cv_accuracy": cv}


@ui.cache_data(show_spinner=False)
def per_class_figure(artifact):
    evaluation = artifact.evaluation
    return charts.evaluation.per_class_heatmap(
        per_class_report(evaluation.y_true, evaluation.y_pred)
    )


preset = ui.current_preset()
artifact = ui.get_artifact(preset)
# The baseline column comes from its stored model; building it (~20 s) is the visitor's choice.
baseline = ui.built_artifact(BASELINE) if preset != BASELINE else None
values = metric_values(preset, artifact)

st.title("Metrics")
st.markdown(
    f"Every number below is measured on the **{len(artifact.evaluation.y_true):,} MNIST test "
    "digits**, except the cross-validation accuracy, which comes from ten folds of the "
    f"*training* set (how k was chosen). Preset **{preset}**: {PRESETS[preset].description}"
)

labels = {name: label for name, (label, _) in METRICS.items()}
labels["log_loss"] += " (lower is better)"
labels["cv_accuracy"] = CV_LABEL


def shown(value, sign: str = "") -> str:
    """A metric as the table shows it; a missing one (cross-validation not run) in words."""
    missing = value is None or value != value  # None or NaN
    return "not computed yet" if missing else f"{value:{sign}.4f}"


table = pd.DataFrame({"Metric": list(labels.values()), preset: [shown(values[n]) for n in labels]})
if baseline:
    base = metric_values(BASELINE, baseline)
    table[f"{BASELINE} (raw pixels, k=4)"] = [shown(base[n]) for n in labels]
    table["Difference"] = [
        shown(None if None in (values[n], base[n]) else values[n] - base[n], "+") for n in labels
    ]
st.dataframe(table, hide_index=True, key="metrics_table", width="content", height="content")
if preset != BASELINE and baseline is None:
    st.info(
        f"The **{BASELINE}** model (raw pixels, k=4), which this table compares with, is not "
        "built yet: build it here (about 20 s on two cores, with its progress) or with "
        f"`python -m mnist_knn train --preset {BASELINE}`."
    )
    if st.button(f"Build the {BASELINE} model", key="metrics_build_baseline"):
        ui.get_artifact(BASELINE)  # built inside a status with its progress bar
        st.rerun()  # the table with its baseline column, without this note
missing = [p for p in dict.fromkeys([preset, BASELINE]) if ui.get_tuning(p) is None]
if missing:
    st.info(
        "The cross-validation accuracy is not computed yet for "
        + ", ".join(f"**{m}**" for m in missing)
        + ": run `python -m mnist_knn tune --preset all` (one to three minutes per preset on two "
        "cores), or open the **Tuning k** page."
    )
st.caption(
    "Weighted averages weigh each digit by its number of test digits; macro averages weigh "
    "the ten digits equally. ROC-AUC and log loss use the predicted probabilities (the "
    "distance-weighted vote shares); top-3 accuracy counts a digit right when the truth is "
    "among the three most-voted digits. Cohen's kappa and Matthews correlation discount "
    "agreement expected by chance."
)

st.subheader("Per digit")
st.plotly_chart(per_class_figure(artifact), key="metrics_per_class")
