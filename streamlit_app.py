"""mnist-knn: the router. Page files live in app_pages/; the sidebar is shared."""

import streamlit as st

from mnist_knn import ui

st.set_page_config(page_title="mnist-knn", page_icon="✏️", layout="wide")

pages = {
    "": [
        st.Page("app_pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("app_pages/draw.py", title="Draw", icon="✏️"),
    ],
    "Learn": [
        st.Page("app_pages/how_it_works.py", title="How it works", icon=":material/school:"),
        st.Page(
            "app_pages/compare_models.py", title="Compare models", icon=":material/leaderboard:"
        ),
        st.Page("app_pages/digit_map.py", title="Digit map", icon=":material/scatter_plot:"),
    ],
    "Evaluation": [
        st.Page("app_pages/dataset.py", title="Dataset", icon=":material/dataset:"),
        st.Page("app_pages/metrics.py", title="Metrics", icon=":material/table_chart:"),
        st.Page("app_pages/confusion.py", title="Confusion matrix", icon=":material/grid_on:"),
        st.Page("app_pages/roc.py", title="ROC curves", icon=":material/show_chart:"),
        st.Page(
            "app_pages/precision_recall.py", title="Precision-recall", icon=":material/insights:"
        ),
        st.Page("app_pages/misclassified.py", title="Misclassified", icon=":material/cancel:"),
        st.Page("app_pages/tuning.py", title="Tuning k", icon=":material/tune:"),
    ],
    "Classroom": [
        st.Page("app_pages/class_drawings.py", title="Class drawings", icon=":material/groups:"),
    ],
}
navigation = st.navigation(pages, expanded=True)  # all 14 pages, no "View more"
ui.preset_selector()
ui.room_input()
navigation.run()
