"""mnist-knn: the router. The pages are listed in app_pages.PAGES; the sidebar is shared."""

import streamlit as st

from app_pages import PAGES
from mnist_knn import ui

# A narrow sidebar (hidden on phones) leaves the Draw page room for its 280 px canvas.
st.set_page_config(
    page_title="mnist-knn", page_icon=":material/draw:", layout="wide", initial_sidebar_state=240
)

sections: dict[str, list] = {}
for page in PAGES:
    sections.setdefault(page.section, []).append(
        st.Page(page.path, title=page.title, icon=page.icon, default=page.default)
    )
navigation = st.navigation(sections, expanded=True)  # all 13 pages, no "View more"
ui.start_background_builds()  # the digit map, tuning and comparison, once per server
ui.preset_selector()
ui.room_input()
navigation.run()
