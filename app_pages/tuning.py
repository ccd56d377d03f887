"""Tuning k: cross-validated accuracy against k on the training set, the chosen k marked."""

import pandas as pd
import streamlit as st

from mnist_knn import PRESETS, charts, ui
from mnist_knn.evaluation.tuning import CV_CONFIG, accuracy_by_k_on_test_set
from mnist_knn.model import DEFAULT_PRESET

st.session_state.setdefault("tuning_show_test", False)


@ui.cache_data(show_spinner=False)
def test_reference(artifact):
    """Test-set accuracy per k, re-voted from the stored neighbours (reference only)."""
    return accuracy_by_k_on_test_set(artifact.evaluation, ui.get_data().y_train)


@ui.cache_data(show_spinner=False)
def tuning_figure(tuning, artifact, show_test: bool):
    spec = tuning.preset
    return charts.evaluation.tuning_figure(
        tuning.ks,
        tuning.mean,
        tuning.std,
        tuning.weights,
        (spec.k, spec.weights),
        test_reference(artifact) if show_test else None,
    )


preset = ui.current_preset()
spec = PRESETS[preset]
n_splits = CV_CONFIG["n_splits"]

st.title("Tuning k")
st.markdown(
    f"How many neighbours should vote, and should closer ones count more? Each k from 1 to "
    f"{CV_CONFIG['k_max']} is scored by **{n_splits}-fold stratified cross-validation on the "
    f"training set**: fit on nine tenths, classify the held-out tenth, ten times. The test set "
    f"is never used to choose. One neighbour search per fold serves every k and both weightings."
)

tuning = ui.get_tuning(preset)
if tuning is None and preset == DEFAULT_PRESET:
    ui.wait_for_background("tuning")  # the server tunes the default preset at start
if tuning is None:
    st.info(
        f"The cross-validation of the **{preset}** preset has not been computed yet (or is out "
        f"of date). Compute it from a terminal with\n\n"
        f"```\npython -m mnist_knn tune --preset {preset}\n```\n\n"
        "or here (about a minute for the PCA presets, three for raw pixels, on two cores)."
    )
    if st.button("Cross-validate now", key="tuning_run", type="primary"):
        ui.run_tuning(preset)
        st.rerun()  # the page without its "not computed yet" note
if tuning is None:
    st.stop()

artifact = ui.get_artifact(preset)
built = tuning.meta["built"]
best_k, best_weights, best_accuracy = tuning.best()
chosen = tuning.accuracy(spec.k, spec.weights)
cols = st.columns(3)
cols[0].metric(f"Preset {preset} uses", f"k={spec.k}, {spec.weights}")
cols[1].metric("Its cross-validated accuracy", f"{chosen:.2%}")
cols[2].metric(
    "Best in the grid",
    f"k={best_k}, {best_weights}",
    f"{best_accuracy - chosen:+.2%}" if (best_k, best_weights) != (spec.k, spec.weights) else None,
    help="The highest mean accuracy over the folds; ties go to the smaller k.",
)
show_test = st.toggle(
    "Also show the test-set accuracy (for reference: it must not be used to choose)",
    key="tuning_show_test",
)
st.plotly_chart(
    tuning_figure(tuning, artifact, show_test),
    key="tuning_chart",
)
st.caption(
    "Shaded bands: ±1 standard deviation over the folds. With k=2 and uniform votes every "
    "split vote is a tie, broken towards the smaller digit, hence its dip; distance weights "
    "break ties by closeness. "
    f"Computed {built[:16].replace('T', ' ')} in {tuning.meta['seconds']:.0f} s on "
    f"{tuning.meta['n_train']:,} training digits."
)
with st.expander("The numbers"):
    table = pd.DataFrame(
        {"k": tuning.ks}
        | {f"{w} (mean)": tuning.mean[i] for i, w in enumerate(tuning.weights)}
        | {f"{w} (sd)": tuning.std[i] for i, w in enumerate(tuning.weights)}
    )
    st.dataframe(
        table,
        hide_index=True,
        key="tuning_table",
        column_config={c: st.column_config.NumberColumn(format="%.4f") for c in table.columns[1:]},
    )
