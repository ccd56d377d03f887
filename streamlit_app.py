"""mnist-knn: the router. Page files live in pages/; the sidebar is shared."""

import streamlit as st

from mnist_knn import ui

st.set_page_config(page_title="mnist-knn", page_icon="✏️", layout="wide")

pages = {
    "": [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    ],
    "Learn": [
        st.Page("pages/how_it_works.py", title="How it works", icon=":material/school:"),
        st.Page("pages/compare_models.py", title="Compare models", icon=":material/leaderboard:"),
        st.Page("pages/digit_map.py", title="Digit map", icon=":material/scatter_plot:"),
    ],
}
navigation = st.navigation(pages)
ui.preset_selector()
navigation.run()
