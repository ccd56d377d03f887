"""AppTest of the router and the home page."""

from streamlit.testing.v1 import AppTest

from tests.support.paths import APP


def test_home_page_shows_the_test_accuracy():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    accuracy = float(metrics["Test accuracy"].rstrip("%"))
    assert 85 <= accuracy <= 100
    assert metrics["Training digits"] == "3,000"
    assert at.title[0].value.endswith("mnist-knn")
    assert at.sidebar.selectbox(key="preset").value == "default"


def test_switching_preset_rebuilds_and_shows_its_accuracy():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.selectbox(key="preset").select("baseline").run()
    assert not at.exception
    assert "Preset **baseline**" in at.caption[0].value
