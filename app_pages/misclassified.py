"""Misclassified: the test digits the model gets wrong, and the neighbours that outvoted them."""

import streamlit as st

from mnist_knn import PRESETS, ui
from mnist_knn.evaluation.metrics import confidence, misclassified, neighbour_vote
from mnist_knn.reading import a_digit

PER_PAGE, PER_ROW = 24, 6
ANY = "any"
ORDERS = ["Most confident first", "Least confident first"]

st.session_state.setdefault("misclassified_true", ANY)
st.session_state.setdefault("misclassified_pred", ANY)
st.session_state.setdefault("misclassified_order", ORDERS[0])
st.session_state.setdefault("misclassified_page", 1)
st.session_state.setdefault("misclassified_selected", None)


def pick(index: int) -> None:
    st.session_state.misclassified_selected = index


def restart() -> None:
    """New filters: back to page 1, and the first digit of the new list selected."""
    st.session_state.misclassified_page = 1
    st.session_state.misclassified_selected = None


preset = ui.current_preset()
artifact, data = ui.get_artifact(preset), ui.get_data()
evaluation, spec = artifact.evaluation, PRESETS[preset]
sure = confidence(evaluation)

st.title("Misclassified digits")
n_wrong = int((evaluation.y_true != evaluation.y_pred).sum())
st.markdown(
    f"The **{preset}** model gets **{n_wrong:,}** of the {len(evaluation.y_true):,} test "
    "digits wrong. Under each: true → predicted digit and the probability the model gave its "
    "answer. Press **Why?** to see the training digits that outvoted the truth."
)
filters = st.columns(3)
true = filters[0].selectbox(
    "True digit", [ANY, *range(10)], key="misclassified_true", on_change=restart
)
pred = filters[1].selectbox(
    "Predicted digit", [ANY, *range(10)], key="misclassified_pred", on_change=restart
)
order = filters[2].segmented_control(
    "Sort", ORDERS, key="misclassified_order", required=True, on_change=restart
)
index = misclassified(
    evaluation,
    None if true == ANY else true,
    None if pred == ANY else pred,
    most_confident_first=order == ORDERS[0],
)
pages = max(1, -(-len(index) // PER_PAGE))
st.session_state.misclassified_page = min(st.session_state.misclassified_page, pages)
if st.session_state.misclassified_selected is None and len(index):
    st.session_state.misclassified_selected = int(index[0])

gallery, detail = st.columns([3, 2], gap="large")
with gallery:
    page = st.number_input(
        f"Page (of {pages}; {len(index):,} digits)", 1, pages, step=1, key="misclassified_page"
    )
    shown = index[(page - 1) * PER_PAGE : page * PER_PAGE]
    if not len(shown):
        st.info("The model makes no mistake of this kind on the test set.")
    for start in range(0, len(shown), PER_ROW):
        for col, i in zip(st.columns(PER_ROW), shown[start : start + PER_ROW], strict=False):
            i = int(i)
            col.image(
                ui.digit_image(data.x_test[i], 3),
                caption=f"{evaluation.y_true[i]} → {evaluation.y_pred[i]} · {sure[i]:.0%}",
            )
            col.button(
                "Why?",
                key=f"misclassified_pick_{i}",
                on_click=pick,
                args=(i,),
                type="primary" if i == st.session_state.misclassified_selected else "secondary",
                width="stretch",
            )

with detail:
    i = st.session_state.misclassified_selected
    if i is not None:
        t, p = int(evaluation.y_true[i]), int(evaluation.y_pred[i])
        votes = neighbour_vote(evaluation, i, data.y_train, spec.k, spec.weights)
        st.subheader(f"Test digit #{i:,}: {a_digit(t)} read as {p}")
        left, right = st.columns([1, 2])
        left.image(ui.digit_image(data.x_test[i], 5), caption=f"true {t}")
        share_p = float(votes.share[votes.label == p].sum())
        share_t = float(votes.share[votes.label == t].sum())
        right.markdown(
            f"Its **{spec.k} nearest training digits** ({spec.weights} weights) voted "
            f"**{p}: {share_p:.0%}** against **{t}: {share_t:.0%}**"
            + (f" (other digits: {1 - share_p - share_t:.0%})" if share_p + share_t < 0.995 else "")
            + f". The model's probability for the truth was {evaluation.proba[i, t]:.0%}."
        )
        right.caption(
            "Under each neighbour: its digit, its distance, its share of the vote "
            "(closer neighbours weigh more)."
        )
        st.markdown(
            f":red[**{p}**]: voted {p}, outvoting the truth · :green[**{t}**]: voted {t}, "
            "the truth · grey: another digit"
        )
        captions = []
        for j in range(spec.k):
            label = int(votes.label[j])
            colour = "red" if label == p else "green" if label == t else "gray"
            captions.append(
                f":{colour}[**{label}**] d {votes.distance[j]:.1f}, {votes.share[j]:.0%}"
            )
        ui.neighbour_gallery(preset, data.x_test[i], votes.index[: spec.k], notes=captions, scale=2)
