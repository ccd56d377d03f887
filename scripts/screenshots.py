"""Take a headless-Chromium screenshot of app pages: python scripts/screenshots.py [PAGE ...].

PAGE is a page's URL path ("" or "home" for the home page, "draw", "metrics", …);
each goes to docs/screenshots/<page>.png. Uses the project's models/ (built if missing).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import ROOT, chromium, open_page, streamlit_server


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
        # Until the entry point has run once, a fresh server serves a deep link like /metrics
        # as a legacy pages/ script (no st.navigation, no shared sidebar): open / first.
        open_page(page, url)
        for name in args.pages:
            page.set_viewport_size({"width": args.width, "height": args.height})
            open_page(page, f"{url}/{'' if name == 'home' else name}")
            page.wait_for_load_state("networkidle")
            # Streamlit scrolls inside its main area, so full_page alone stops at the
            # viewport: grow the viewport to the content's height instead.
            height = page.evaluate(
                "Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                "[data-testid=stAppViewContainer]')].map(e => e.scrollHeight))"
            )
            page.set_viewport_size({"width": args.width, "height": max(args.height, height)})
            page.wait_for_load_state("networkidle")
            path = args.out / f"{name or 'home'}.png"
            page.screenshot(path=path, full_page=True)
            print(path)


if __name__ == "__main__":
    main()
