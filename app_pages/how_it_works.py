"""How it works: one drawing through preprocessing, distances, vote, and a KNN from scratch."""

import inspect

import numpy as np
import pandas as pd
import streamlit as st

from mnist_knn import PRESETS, charts, ui
from mnist_knn import teaching as tch
from mnist_knn.preprocess import ImageError

preset = ui.current_preset()
model, spec = ui.get_artifact(preset).model, PRESETS[preset]
switchable = [*tch.PREPROCESSING, *tch.image_steps(model)]
for key in switchable:
    st.session_state.setdefault(f"how_it_works_on_{key}", True)
st.session_state.setdefault("how_it_works_k", spec.k)


@st.cache_data(max_entries=32, show_spinner=False)
def explained(preset: str, drawing: np.ndarray, skip: frozenset, k: int):
    model = ui.get_artifact(preset).model
    explanation = tch.explain(model, drawing, skip, k=k)
    distances = tch.distances_to_training(model, explanation.view.features)
    found = explanation.neighbours
    neighbours = tch.neighbour_images(model, ui.get_data().x_train[found.ind[0]])
    # Each neighbour as it matched: deformed by its nearest variant, where the preset has them.
    matched = tch.as_matched(model, neighbours, None if found.variant is None else found.variant[0])
    scratch = tch.scratch_for_model(model, explanation.view.features, k=k)
    return explanation, tch.ablation(model, drawing, k=k), distances, matched, scratch


st.title("How it works")
st.markdown(
    "Follow one drawing through the model: how it becomes an MNIST-style 28×28 digit, how "
    "far it is from each of the training digits, and how the nearest ones vote. "
    "Switch steps off to see what each one is for."
)
drawing, caption = ui.teaching_drawing("how_it_works")
if drawing is None:
    st.info(caption)
    st.stop()
skip = frozenset(key for key in switchable if not st.session_state[f"how_it_works_on_{key}"])
k = st.session_state["how_it_works_k"]
try:
    explanation, ablation, distances, neighbour_images, scratch = explained(
        preset, drawing, skip, k
    )
except ImageError as exc:
    st.warning(f"Nothing to explain: {exc}.")
    st.stop()
steps, view, found = explanation.steps, explanation.view, explanation.neighbours
first = explanation.candidates  # the euclidean search; a re-ranking preset's first stage
label, proba = int(found.labels[0]), found.proba[0]

st.header("1. From drawing to 28×28")
st.caption(caption)
stages = tch.stage_images(drawing, explanation)
for i, (column, (key, image)) in enumerate(
    zip(st.columns(len(stages)), stages.items(), strict=True)
):
    column.markdown(f"**{i + 1}. {tch.STEPS[key].short}**")
    column.image(image, width="stretch")
    if key in switchable:
        column.toggle("use it", key=f"how_it_works_on_{key}", help=f"Off: {tch.STEPS[key].skipped}")
step = st.select_slider(
    "Step through", list(stages), format_func=lambda s: tch.STEPS[s].title, key="how_it_works_step"
)
picture, text = st.columns([1, 4])
picture.image(stages[step], width=160)
info = tch.STEPS[step]
text.markdown(
    f"**{info.title}.** {info.does}" + (f" {view.description}." if step == "model" else "")
)
if step in skip:
    text.warning(f"Switched off: {info.skipped}")
full, left, right = ablation[0], *text.columns(2)
share = f"{full['confidence']:.0%} of the vote"
left.metric("Prediction with every step", full["label"], share, "off", delta_arrow="off")
colour = "normal" if label == full["label"] else "inverse"  # red when the prediction changed
share = f"{proba[label]:.0%} of the vote"
right.metric("With the steps switched as above", label, share, colour, delta_arrow="off")
st.markdown("**What each step is for:** the prediction with one step switched off at a time.")
share = st.column_config.NumberColumn("share of the vote", format="percent")
st.dataframe(
    pd.DataFrame(ablation).drop(columns="skipped"),
    hide_index=True,
    key="how_it_works_ablation",
    column_config={"confidence": share, "switched_off": "switched off", "label": "prediction"},
)

st.header(f"2. The distance to every training digit ({len(distances):,})")
st.markdown(
    "The model measures the straight-line (euclidean) distance between the "
    f"{view.description.split(':')[0]} of the drawing and those of every training digit. "
    f"The nearest is at {first.dist[0, 0]:.2f}; half of them are farther than "
    f"{np.median(distances):.2f}. Only the k nearest get a say."
    + (
        f" Each training digit is also searched turned {turned}° either way, and its "
        "nearest copy stands for it."
        if (turned := tch.turned_degrees(model))
        else ""
    )
    + (
        f" The **{preset}** preset then measures the {model.candidates} nearest again against "
        f"copies of each slightly deformed ({tch.variant_words(model)}): each digit's "
        "nearest copy stands for it, so a drawing a little turned, resized, shifted or "
        "thicker still finds its match (section 3)."
        if model.variants
        else ""
    )
    + (
        f" The **{preset}** preset first takes the {model.rerank} nearest, then measures "
        "those again with *tangent distance*, which does not count small shifts, turns, "
        "changes of size or of stroke width (section 3)"
        + (f", and adds {model.mix:g} × this distance to it." if model.mix else ".")
        if model.rerank
        else ""
    )
)
nearest = first.dist[0, :k], first.neigh_labels[0, :k]
st.plotly_chart(
    charts.learn.distance_histogram(distances, ui.get_data().y_train, label, *nearest),
    key="how_it_works_hist",
)

st.header("3. The nearest neighbours vote")
if model.rerank:
    st.markdown(
        f"Of the {model.rerank} nearest in section 2, these are nearest by tangent distance: "
        "each neighbour may shift, turn, grow or thicken a little to match the drawing, and "
        "so may the drawing, before their pixels are compared. The distances below are "
        "what is left after that"
        + (
            f", plus {model.mix:g} × the distance of section 2: two views of the digit, "
            "its pixels allowed to bend and its edges, both count."
            if model.mix
            else "."
        )
    )
if model.variants:
    st.markdown(
        f"Of the {model.candidates} nearest in section 2, these are nearest once each may be "
        "slightly deformed: the distances below are to each neighbour's nearest copy."
    )
st.slider("Neighbours that vote (k)", 1, found.dist.shape[1], key="how_it_works_k")
votes = tch.vote_table(found, k, spec.weights)
matched_images, matched_words = neighbour_images
pictures = tch.neighbour_pictures(view.image, matched_images[:k])
captions = [
    "**the drawing**",
    *(
        f"**{r['label']}** · d={r['distance']:.2f}" + (f" · {words}" if words else "")
        for r, words in zip(votes, matched_words, strict=False)
    ),
]
for column, picture, text in zip(st.columns(k + 1), pictures, captions, strict=True):
    column.image(picture, width=84)
    column.caption(text)
st.caption(
    "Top: the drawing and its neighbours as the model compares them"
    + (
        ", each as the variant that matched it (its deformation named under it, where it "
        "was deformed)"
        if model.variants
        else ""
    )
    + "; below each neighbour: |drawing − neighbour|, dark where they differ (the lighter, "
    "the nearer)."
)
if model.rerank:
    st.markdown("**The deformation that made each neighbour match**")
    ui.neighbour_gallery(
        preset,
        steps.result,
        found.ind[0, :k],
        [f"{r['label']} · d={r['distance']:.2f}" for r in votes],
    )
table, bars = st.columns([2, 3])
table.dataframe(
    pd.DataFrame(votes).drop(columns="rank"),
    hide_index=True,
    key="how_it_works_votes",
    column_config={
        "share": st.column_config.NumberColumn(format="percent"),
        "index": "training digit",
        "distance": st.column_config.NumberColumn(format="%.3f"),
        "weight": st.column_config.NumberColumn(format="%.3f"),
    },
)
table.caption(
    "Closer neighbours weigh more: weight = 1 / distance."
    if spec.weights == "distance"
    else "Every neighbour has one vote."
)
bars.plotly_chart(charts.learn.vote_bars(proba), key="how_it_works_vote")

st.header("4. The same KNN in a dozen lines of numpy")
st.markdown(
    "Below is the whole algorithm in plain numpy, run on the same features and training "
    "digits as the model, beside the model's own (scikit-learn) result."
    + (
        f" For **{preset}** that is its first stage, the search of section 2; the re-ranking "
        "by tangent distance comes after it (`mnist_knn/tangent.py`)."
        if model.rerank
        else ""
    )
    + (
        f" For **{preset}** that is its first stage, the search of section 2; the deformed "
        "copies are measured after it."
        if model.variants
        else ""
    )
)
table, verdict = st.columns([3, 2])
columns, same = tch.side_by_side(scratch, first, k)
index = ["prediction", "nearest 3 digits", "nearest distance"]
table.dataframe(pd.DataFrame(columns, index=index), key="how_it_works_scratch")
if same:
    verdict.success(f"Same prediction, same {k} neighbours as the scikit-learn model.")
else:
    verdict.error("They disagree (a tie between equally distant neighbours?).")
if verdict.button("Compare them on 200 test digits", key="how_it_works_check"):
    check = tch.agreement(model, ui.get_data().x_test[:200])
    verdict.metric("Same prediction", f"{check['same']} of {check['n']}")
st.code(inspect.getsource(tch.knn_from_scratch), language="python")
