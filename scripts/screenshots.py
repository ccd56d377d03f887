"""Take a headless-Chromium screenshot of app pages: python scripts/screenshots.py [PAGE ...].

PAGE is a page's URL path ("" or "home" for the home page, "draw", "metrics", …);
each goes to docs/screenshots/<page>.png. Uses the project's models/ (built if missing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import (
    IDLE,
    PREDICTION,
    ROOT,
    chromium,
    draw_stroke,
    open_page,
    streamlit_server,
    wait_for_canvas,
)

# A "2" in one stroke, in fractions of the canvas.
TWO = [
    (0.30, 0.32), (0.36, 0.22), (0.48, 0.17), (0.60, 0.19), (0.67, 0.28), (0.66, 0.40),
    (0.58, 0.52), (0.45, 0.64), (0.33, 0.77), (0.42, 0.78), (0.56, 0.78), (0.72, 0.79),
]  # fmt: skip


def draw_a_digit(page) -> None:
    """The Draw page is worth a picture only with a digit on it and its prediction."""
    page.get_by_text("in the white box").wait_for(timeout=120_000)
    wait_for_canvas(page)
    draw_stroke(page, TWO)
    page.locator(PREDICTION).wait_for(timeout=60_000)
    page.wait_for_selector(IDLE)
    page.locator('[data-testid="stPlotlyChart"] .main-svg').first.wait_for()


# What to do on a page before its screenshot.
ACTIONS = {"draw": draw_a_digit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", nargs="*", default=["home"])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as url, chromium() as browser:
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        # The home page first: on a fresh server Streamlit serves a first visit to
        # any other path as an old-style pages/ page, without the router.
        open_page(page, url)
        for name in args.pages:
            open_page(page, f"{url}/{'' if name == 'home' else name}")
            page.wait_for_load_state("networkidle")
            if name in ACTIONS:
                ACTIONS[name](page)
                page.wait_for_load_state("networkidle")
            path = args.out / f"{name or 'home'}.png"
            page.screenshot(path=path, full_page=True)
            print(path)


if __name__ == "__main__":
    main()
