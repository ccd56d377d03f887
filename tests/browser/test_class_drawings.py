"""Browser test of the Class drawings page: a real Chromium opens it and downloads an export."""

from __future__ import annotations

import pytest

from mnist_knn import load_artifact
from mnist_knn.classroom.exchange import CSV_FIELDS, read_export
from mnist_knn.classroom.store import DrawingStore
from mnist_knn.synthetic import save_class
from tests.support.browser import BROWSER
from tools.browser import chromium, open_page, streamlit_server

pytestmark = BROWSER
PASSWORD = "apple pie"


@pytest.fixture(scope="module")
def class_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("class_drawings") / "class.sqlite"
    store = DrawingStore(path)
    save_class(store, load_artifact("default"), {"5B": 12, "Club 🧮": 8}, seed=2)
    env = {"MNIST_KNN_STORE": str(path), "MNIST_KNN_TEACHER_PASSWORD": PASSWORD}
    with streamlit_server(env=env) as url:
        yield url, store


def test_the_page_shows_the_drawings_and_downloads_a_csv(class_url, tmp_path):
    url, store = class_url
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_page(page, url)  # the router first: it switches Streamlit to st.navigation
        open_page(page, f"{url}/class_drawings")
        assert page.get_by_role("heading", name="Class drawings").is_visible()
        # Locked, the page shows the sidebar's room (none here: nothing); the teacher unlocks.
        page.get_by_role("tab", name="Teacher").click()
        page.get_by_label("Teacher password").fill(PASSWORD)
        page.get_by_label("Teacher password").press("Enter")
        page.get_by_role("button", name="Unlock").click()
        page.get_by_role("button", name="Lock").wait_for()
        page.get_by_role("tab", name="Gallery").click()
        gallery = page.get_by_test_id("stImage").first  # the first tab's st.image
        gallery.locator("img").first.wait_for()
        assert gallery.locator("img").count() == 20
        assert gallery.get_by_text(" → ").count() == 20  # the captions
        page.get_by_role("tab", name="Teacher").click()
        with page.expect_download() as download:
            page.get_by_role("button", name="CSV").click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
    assert saved.name == "class-drawings-all.csv"
    data = saved.read_bytes()
    assert data.decode().splitlines()[0].split(",") == CSV_FIELDS
    back = read_export(data)
    everything = store.query()
    assert sorted(back.uids) == sorted(everything.uids) and len(back) == 20
