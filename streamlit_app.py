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
    ],
}
navigation = st.navigation(pages)
ui.preset_selector()
navigation.run()
