"""A whole school: two app replicas behind nginx (sticky sessions, websocket upgrade), one
PostgreSQL. A drawing a pupil saves through one replica is on the other's Class drawings page.

Started by tools/serve_school.py as a teacher would; needs Debian's nginx, PostgreSQL and
Chromium (.ci/run installs all three). Without them it is skipped, except in CI.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest

from mnist_knn.classroom.store import DrawingStore
from mnist_knn.synthetic import ONE
from tests.support.browser import BROWSER
from tools.browser import IDLE, IN_CI, PREDICTION, chromium, draw_stroke, wait_for_canvas
from tools.serve_school import COOKIE, NGINX, REPLICA_HEADER, school

pytest_plugins = ["tests.support.store_fixtures"]  # pg_url: a fresh schema per test
pytestmark = BROWSER
TIMEOUT = 120_000  # ms; each replica's first page view builds the small model
ROOM = "5B"


@pytest.fixture
def nginx_binary() -> str:
    if not Path(NGINX).exists():
        message = f"no nginx at {NGINX} (Debian's nginx package)"
        if IN_CI:
            pytest.fail(f"{message}: CI must run the replica test (see .ci/run)")
        pytest.skip(message)
    return NGINX


def replica_of(url: str, cookie: str | None) -> tuple[str, str]:
    """(the replica nginx sends ``cookie`` to, the cookie nginx sets) for one request."""
    request = urllib.request.Request(f"{url}/_stcore/health")
    if cookie is not None:
        request.add_header("Cookie", f"{COOKIE}={cookie}")
    with urllib.request.urlopen(request, timeout=10) as response:
        cookies = dict(
            c.split(";")[0].split("=", 1) for c in response.headers.get_all("Set-Cookie")
        )
        return response.headers[REPLICA_HEADER], cookies[COOKIE]


def cookies_for_each_replica(url: str, replicas: int) -> dict[str, str]:
    """A sticky cookie value per replica address, found by asking nginx."""
    found = {}
    for i in range(64):  # a consistent hash: a few values reach every replica
        address, _ = replica_of(url, f"pupil-{i}")
        found.setdefault(address, f"pupil-{i}")
        if len(found) == replicas:
            return found
    raise AssertionError(f"64 cookies reached only {sorted(found)}")


def open_as(browser, url: str, path: str, cookie: str):
    """A new browser (context) holding the sticky ``cookie``, on ``path`` after the router."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": COOKIE, "value": cookie, "url": url}])
    page = context.new_page()
    response = page.goto(url)  # the router first: it switches Streamlit to st.navigation
    page.wait_for_selector(IDLE, timeout=TIMEOUT)
    served_by = response.headers[REPLICA_HEADER.lower()]
    if path:
        page.goto(f"{url}/{path}")
        page.wait_for_selector(IDLE, timeout=TIMEOUT)
    return context, page, served_by


def set_room(page, room: str) -> None:
    box = page.get_by_role("textbox", name="Class / room")
    box.fill(room)
    box.press("Enter")
    page.wait_for_selector(IDLE, timeout=TIMEOUT)


def test_a_drawing_saved_through_one_replica_is_on_the_others_class_page(nginx_binary, pg_url):
    from playwright.sync_api import expect

    with school(pg_url, replicas=2, env={"MNIST_KNN_TEACHER_PASSWORD": "apple pie"}) as running:
        url = running.url
        replicas = {r.removeprefix("http://") for r in running.replicas}
        # Sticky: a first visit gets a cookie, and that cookie keeps to one replica.
        first, cookie = replica_of(url, None)
        assert first in replicas and cookie
        assert {replica_of(url, cookie)[0] for _ in range(5)} == {first}
        route = cookies_for_each_replica(url, 2)
        assert set(route) == replicas
        one, other = sorted(route)

        with chromium() as browser:
            # A pupil on one replica draws a 1 and confirms it (saved to PostgreSQL).
            context, page, served_by = open_as(browser, url, "draw", route[one])
            assert served_by == one
            set_room(page, ROOM)
            page.get_by_text("in the white box").wait_for(timeout=TIMEOUT)
            wait_for_canvas(page, TIMEOUT)
            draw_stroke(page, ONE)  # through nginx's websocket
            expect(page.locator(PREDICTION)).to_have_text("1", timeout=TIMEOUT)
            page.get_by_role("button", name=re.compile("Yes, it's a 1")).click()
            expect(page.get_by_text("Saved as a 1")).to_be_visible(timeout=TIMEOUT)
            context.close()

            # A classmate on the other replica opens Class drawings: the drawing is there.
            context, page, served_by = open_as(browser, url, "class_drawings", route[other])
            assert served_by == other
            set_room(page, ROOM)
            drawings = page.get_by_test_id("stMetric").filter(has_text="Drawings")
            expect(drawings.get_by_test_id("stMetricValue")).to_have_text("1", timeout=TIMEOUT)
            gallery = page.get_by_test_id("stImage").first
            expect(gallery.get_by_text("1 → 1")).to_have_count(1, timeout=TIMEOUT)
            context.close()

    saved = DrawingStore(pg_url).query()
    assert len(saved) == 1
    assert saved.true_labels.tolist() == [1] and saved.predicted.tolist() == [1]
    assert saved.room.tolist() == [ROOM]
