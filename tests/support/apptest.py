"""Opening the app's pages in Streamlit's AppTest (no browser)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from app_pages import by_name
from tests.support.paths import APP


def open_page(name: str, timeout: float = 300, secrets: dict | None = None, **state) -> AppTest:
    """Run the router, then page ``name`` of app_pages.PAGES, with ``state`` in session state.

    The router runs once first: AppTest maps a page file to its st.navigation entry
    only after a first run. Fails the test on any exception the page raised.
    """
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in state.items():
        at.session_state[key] = value
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    at.run().switch_page(by_name(name).path).run()
    assert not at.exception, at.exception
    return at
