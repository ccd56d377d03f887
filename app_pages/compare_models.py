"""Compare models: KNN against logistic regression, SVMs, a random forest and a small CNN."""

import numpy as np
import pandas as pd
import streamlit as st

from mnist_knn import charts, ui
from mnist_knn.evaluation import compare

st.session_state.setdefault("compare_models_metric", "accuracy")


@ui.cache_data(max_entries=64, show_spinner="Asking every model…")
def answers(comparison, digit: np.ndarray) -> list[dict]:
    loaded = ui.get_comparison(models=True)
    models = dict(loaded.models) if loaded else {}  # none if a stored model is damaged
    models |= {compare.knn_name(p): m for p, m in ui.fresh_knn_models().items()}
    return compare.classify_all(models, ui.get_comparison().rows, digit)


st.title("Compare models")
st.markdown(
    "The KNN presets against four classic classifiers and a small convolutional network, all "
    "trained on the same MNIST training digits and tested on the same 10,000 test digits. KNN "
    "learns nothing at fit time and searches the whole training set at predict time; the "
    "others spend their time fitting and then predict with a few matrix products or tree walks."
)
problem = compare.comparison_problem(ui.get_data())
if problem:
    ui.wait_for_background("comparison")
    st.info(
        f"The comparison is {problem}. Build it with `python -m mnist_knn compare` "
        "(a few minutes on two cores: the forest and the SVMs take the longest), or here."
    )
    if not st.button("Build it now", key="compare_models_build", type="primary"):
        st.stop()
    ui.build_comparison()
    st.rerun()  # the page without its "not built" note
comparison = ui.get_comparison()
if comparison is None:
    st.error("models/compare.npz could not be read; run `python -m mnist_knn compare --force`.")
    st.stop()
rows = comparison.rows

table = pd.DataFrame(rows).set_index("title")
table["errors"] = ((1 - table["accuracy"]) * table["n_test"]).round().astype(int)
columns = ["accuracy", "errors", "drawing_ms", "fit_seconds", "predict_seconds", "size_bytes"]
# Real drawings: only where the dev writers are there to measure them (see real_drawings).
real = compare.real_drawings.available() and "real_accuracy" in table
st.dataframe(
    table[[*columns[:2], *(["real_accuracy"] if real else []), *columns[2:], "n_train"]],
    key="compare_models_table",
    column_config={
        "title": "model",
        "accuracy": st.column_config.NumberColumn("test accuracy", format="percent"),
        "errors": st.column_config.NumberColumn(f"errors of {rows[0]['n_test']:,}"),
        "real_accuracy": st.column_config.NumberColumn(
            "real drawings",
            format="percent",
            help=f"Accuracy on {compare.REAL_DRAWINGS:,} digits written with a pen by people "
            "(UNIPEN dev writers), drawn as this app's canvas draws them",
        ),
        "drawing_ms": st.column_config.NumberColumn(
            "one drawing (ms)", format="%.2f", help="Median time to read one drawing"
        ),
        "fit_seconds": st.column_config.NumberColumn("fit (s)", format="%.1f"),
        "predict_seconds": st.column_config.NumberColumn(
            f"predict {rows[0]['n_test']:,} (s)", format="%.2f"
        ),
        "size_bytes": st.column_config.NumberColumn("model size", format="bytes"),
        "n_train": st.column_config.NumberColumn("trained on", format="localized"),
    },
)
st.caption(
    f"Measured on this machine when the comparison was built ({comparison.meta['built'][:16]}). "
    "Model size: the bytes of the arrays each fitted model needs to predict; for KNN that is "
    "its copy of the training set. KNN fit times come from the presets' own builds."
)
left, right = st.columns(2)
metric = left.segmented_control(
    "Chart",
    list(charts.learn.COMPARE_METRICS),
    key="compare_models_metric",
    format_func=lambda m: charts.learn.COMPARE_METRICS[m][0],
)
left.plotly_chart(charts.learn.compare_bars(rows, metric or "accuracy"), key="compare_models_bars")
right.plotly_chart(charts.learn.accuracy_vs_time(rows), key="compare_models_scatter")
with st.expander("What each model is"):
    st.markdown("\n".join(f"- **{r['title']}**: {r['description']}" for r in rows))
if verdict := compare.knn_versus_cnn(rows):
    st.subheader("KNN or CNN?")
    st.markdown(verdict)

st.header("Each model reads the same drawing")
drawing, digit, caption = ui.teaching_digit("compare_models", "classify")
if digit is None:
    (st.info if drawing is None else st.warning)(caption)
    st.stop()
if error := ui.comparison_error(models=True):
    st.warning(
        f"The stored models could not be loaded: {error}. Rebuild them with "
        "`python -m mnist_knn compare --force`; the KNN presets still answer below."
    )
votes = answers(comparison, digit)
picture, right = st.columns([1, 3])
picture.image(ui.digit_image(digit, 5), caption="What every model receives")
picture.caption(caption)
table = pd.DataFrame(
    {
        "model": vote["model"],
        "prediction": "not built" if vote["prediction"] is None else str(vote["prediction"]),
        "probability": f"{vote['confidence']:.0%}" if vote["confidence"] is not None else "",
    }
    for vote in votes
)
right.dataframe(
    table,
    hide_index=True,
    key="compare_models_votes",
    column_config={
        "probability": st.column_config.TextColumn(help="Empty for SVMs: they give scores")
    },
)
