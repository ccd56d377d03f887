"""mnist-knn: the router. Page files live in pages/; the sidebar is shared."""

import streamlit as st

from mnist_knn import ui

st.set_page_config(page_title="mnist-knn", page_icon="✏️", layout="wide")

pages = {
    "": [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/draw.py", title="Draw", icon="✏️"),
    ],
    "Learn": [
        st.Page("pages/how_it_works.py", title="How it works", icon=":material/school:"),
        st.Page("pages/compare_models.py", title="Compare models", icon=":material/leaderboard:"),
        st.Page("pages/digit_map.py", title="Digit map", icon=":material/scatter_plot:"),
    ],
    "Evaluation": [
        st.Page("pages/dataset.py", title="Dataset", icon=":material/dataset:"),
        st.Page("pages/metrics.py", title="Metrics", icon=":material/table_chart:"),
        st.Page("pages/confusion.py", title="Confusion matrix", icon=":material/grid_on:"),
        st.Page("pages/roc.py", title="ROC curves", icon=":material/show_chart:"),
        st.Page("pages/precision_recall.py", title="Precision-recall", icon=":material/insights:"),
        st.Page("pages/misclassified.py", title="Misclassified", icon=":material/cancel:"),
        st.Page("pages/tuning.py", title="Tuning k", icon=":material/tune:"),
    ],
    "Classroom": [
        st.Page("pages/class_drawings.py", title="Class drawings", icon=":material/groups:"),
    ],
}
navigation = st.navigation(pages)
ui.preset_selector()
ui.room_input()
navigation.run()
