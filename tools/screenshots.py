"""Take a headless-Chromium screenshot of app pages: python -m tools.screenshots [PAGE ...].

PAGE is a page's URL path ("" or "home" for the home page, "draw", "metrics", …);
each goes to docs/screenshots/<page>.png. PAGE@TAB clicks the tab labelled TAB first
and goes to <page>-<tab>.png. ``--viewports 390x844t,1280x720`` shoots each page at each
size instead (a trailing "t": a phone, by touch), as <page>-<width>.png, the visible
screen only (what fits without scrolling); there PAGE?NAME=VALUE opens the page with that
query parameter and adds -NAME to the file's name (``draw?presenter=1`` ->
draw-presenter-1280.png). Uses the project's models/ (built if missing), and the
environment as it is (e.g. MNIST_KNN_STORE for the Class drawings page).
"""

from __future__ import annotations

import argparse
import contextlib
import re
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from app_pages import by_name
from tools.browser import (
    IDLE,
    PREDICTION,
    ROOT,
    chromium,
    draw_strokes,
    open_page,
    streamlit_server,
    wait_for_canvas,
)

# A "2" in one stroke, in fractions of the canvas.
TWO = [
    (0.30, 0.32),
    (0.36, 0.22),
    (0.48, 0.17),
    (0.60, 0.19),
    (0.67, 0.28),
    (0.66, 0.40),
    (0.58, 0.52),
    (0.45, 0.64),
    (0.33, 0.77),
    (0.42, 0.78),
    (0.56, 0.78),
    (0.72, 0.79),
]


def draw_a_digit(page, touch: bool = False) -> None:
    """The Draw page is worth a picture only with a digit on it and its prediction."""
    page.get_by_text("in the white box").wait_for(timeout=120_000)
    wait_for_canvas(page)
    draw_strokes(page, [TWO], touch=touch)
    page.locator(PREDICTION).wait_for(timeout=60_000)
    wait_until_drawn(page)  # the vote chart (none in the presenter view), the neighbours


# Every plotly chart drawn and every picture loaded (on a busy machine "network idle"
# came before the charts were drawn: a grey box in the screenshot).
DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .every(c => c.querySelector('.main-svg') && c.getBoundingClientRect().height > 100)
  && [...document.images].every(i => i.complete && i.naturalWidth > 0)"""


def wait_until_drawn(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_selector(IDLE)
    page.wait_for_function(DRAWN, polling=200, timeout=120_000)


# What to do on a page before its screenshot.
ACTIONS = {"draw": draw_a_digit}


def choose_preset(page, name: str) -> None:
    """Pick the model preset ``name`` in the sidebar, as a visitor would."""
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=name.capitalize(), exact=True).click()
    # The rerun with the new preset: wait for it to start (unless it was over before we
    # looked), then to end.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_selector(IDLE.replace("notRunning", "running"), timeout=5_000)
    page.wait_for_selector(IDLE, timeout=300_000)
    page.evaluate("document.activeElement && document.activeElement.blur()")  # no focus ring


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", nargs="*", default=["home"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--viewports", default="", help="e.g. 390x844t,820x1180,1280x720")
    parser.add_argument(
        "--preset",
        help="choose this model preset in the sidebar first; the files get a -PRESET suffix",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url, chromium() as browser:
        if args.viewports:
            for spec in args.viewports.split(","):
                touch = spec.endswith("t")
                width, height = (int(n) for n in spec.rstrip("t").split("x"))
                context = browser.new_context(
                    viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch
                )
                page = context.new_page()
                for spec in args.pages:
                    name, _, query = spec.partition("?")
                    address = f"{url}/{by_name(name).url_path}" + (f"?{query}" if query else "")
                    open_page(page, address)
                    if name == "draw":
                        draw_a_digit(page, touch)
                    wait_until_drawn(page)
                    suffix = f"-{query.partition('=')[0]}" if query else ""
                    path = args.out / f"{name or 'home'}{suffix}-{width}.png"
                    page.screenshot(path=path)
                    print(path)
                context.close()
            return
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        for spec in args.pages:
            name, _, tab = spec.partition("@")
            open_page(page, f"{url}/{by_name(name).url_path}")
            if args.preset:
                choose_preset(page, args.preset)
            if tab:
                page.get_by_role("tab", name=tab).click()
            page.wait_for_load_state("networkidle")
            if name in ACTIONS:
                ACTIONS[name](page)
            wait_until_drawn(page)
            slug = re.sub(r"[^a-z0-9]+", "-", "-".join(filter(None, [tab, args.preset])).lower())
            slug = slug.strip("-")
            path = args.out / f"{name or 'home'}{'-' + slug if slug else ''}.png"
            full_screenshot(page, path, args.width, args.height)
            print(path)


def full_screenshot(page, path: Path, width: int, height: int) -> None:
    """Streamlit scrolls inside its main area, so ``full_page`` alone stops at the
    viewport: grow the viewport to the content's height, shoot, then restore it."""
    content = page.evaluate(
        "Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stAppViewContainer]')].map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": width, "height": max(height, content)})
    page.wait_for_timeout(1500)  # charts lay themselves out again for the new size
    wait_until_drawn(page)
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size({"width": width, "height": height})


if __name__ == "__main__":
    main()
