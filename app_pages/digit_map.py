"""Digit map: training digits laid out in 2-D (PCA, t-SNE), your digit on it, KNN regions."""

import numpy as np
import streamlit as st

from mnist_knn import charts, ui
from mnist_knn.evaluation import digit_map as maps
from mnist_knn.reading import a_digit

st.session_state.setdefault("digit_map_method", "tsne")
st.session_state.setdefault("digit_map_k", 5)
st.session_state.setdefault("digit_map_regions", True)
st.session_state.setdefault("digit_map_pictures", False)
st.session_state.setdefault("digit_map_selected", None)  # a row of the map's sample


@ui.cache_data(max_entries=40, show_spinner=False)
def regions(digit_map, method: str, k: int) -> maps.DecisionGrid:
    return maps.decision_grid(digit_map.coords[method], digit_map.labels, k)


@ui.cache_data(max_entries=4, show_spinner=False)
def pictures(digit_map, method: str, count: int = 300):
    rows = np.arange(0, len(digit_map.index), max(1, len(digit_map.index) // count))
    images = ui.get_data().x_train[digit_map.index[rows]]
    return digit_map.coords[method][rows], charts.learn.ink_uris(images)


@ui.cache_data(max_entries=40, show_spinner=False)
def map_accuracy(digit_map, method: str, k: int) -> float:
    return maps.map_accuracy(digit_map, method, k)


st.title("Digit map")
st.markdown(
    "Every training digit is a point in a space of 784 pixels, or of 50 numbers after PCA. "
    "Here a sample of them is squeezed onto a flat map, so you can see which digits sit close "
    "together, and where yours lands. Click a point to see its digit."
)
ui.wait_for_background("digit map")
digit_map, data, artifact = ui.get_digit_map(), ui.get_data(), ui.get_artifact()
controls = st.columns([2, 3, 2, 2], vertical_alignment="bottom")
method = (
    controls[0].segmented_control(
        "Map", list(maps.METHODS), format_func=maps.METHODS.get, key="digit_map_method"
    )
    or "tsne"
)
k = controls[1].slider("k for the regions", 1, 25, key="digit_map_k")
show_regions = controls[2].toggle("KNN regions", key="digit_map_regions")
show_pictures = controls[3].toggle(
    "Some digits as pictures", key="digit_map_pictures", help="Draws 300 of the digits as images"
)
drawing, digit, caption = ui.teaching_digit("digit_map", "place")
placement = None if digit is None else maps.place(digit_map, digit)
# The star is the pupil's drawing only when the Draw page's drawing is the one shown.
star = "your digit" if st.session_state.get("digit_map_source") == "drawing" else "this digit"

# The click that triggered this run is already in the chart's state: read it before drawing,
# so the ring and the side panel show the point just clicked.
clicked = st.session_state.get("digit_map_chart")
points = clicked.selection.points if clicked else []
if points and charts.learn.clicked_row(points[0]) is not None:
    st.session_state["digit_map_selected"] = charts.learn.clicked_row(points[0])
selected = st.session_state["digit_map_selected"]
if selected is not None and selected >= len(digit_map.index):  # a smaller map was rebuilt
    selected = None
chart, side = st.columns([3, 1])
chart.plotly_chart(
    charts.learn.digit_map(
        digit_map.coords[method],
        digit_map.labels,
        digit_map.index,
        regions=regions(digit_map, method, k) if show_regions else None,
        drawing=placement.coords[method] if placement else None,
        selected=selected,
        pictures=pictures(digit_map, method) if show_pictures else None,
        axis_titles=("first principal component", "second") if method == "pca" else ("", ""),
        drawing_label=star,
    ),
    key="digit_map_chart",
    on_select="rerun",
    selection_mode="points",
)
if selected is not None:
    index = int(digit_map.index[selected])
    side.image(ui.digit_image(data.x_train[index], 5))
    side.markdown(f"Clicked: {a_digit(data.y_train[index])}, training digit #{index:,}.")
else:
    side.info("Click a point to see its digit here.")
if placement is not None:
    on_map = maps.classify_on_map(digit_map, method, k, placement.coords[method])
    model_label = int(artifact.model.search(digit[None]).labels[0])
    side.image(ui.digit_image(digit, 3), caption=f"{star} (the star)")
    side.markdown(
        f"On this map its {k} nearest points say **{on_map}**; the model, measuring in "
        f"all its dimensions, says **{model_label}**."
    )
side.caption(caption)

st.caption(
    f"{digit_map.meta['n']:,} training digits, up to {digit_map.meta['config']['per_class']} of "
    "each, chosen at random. **PCA** is a projection: the two directions along which the "
    f"digits vary most ({digit_map.meta['explained_variance_2d']:.0%} of the variation); your "
    "digit is projected the same way. **t-SNE** moves points so that neighbours in 50 "
    "dimensions stay neighbours on the map; it has no formula for new points, so your digit is "
    f"placed at the weighted mean position of its {maps.PLACE_NEIGHBOURS} nearest sampled "
    "digits (by distance in the 50-dimension PCA space t-SNE was run on). The coloured regions "
    f"are a {k}-nearest-neighbours vote on the 2-D positions alone: on this map it gets "
    f"{map_accuracy(digit_map, method, k):.1%} of the sampled digits right (each left out of its "
    f"own vote), against {artifact.meta['accuracy']:.1%} for the **{artifact.preset.name}** "
    "model on the test digits."
)
