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
        for name in args.pages:
            open_page(page, f"{url}/{'' if name == 'home' else name}")
            page.wait_for_load_state("networkidle")
            path = args.out / f"{name or 'home'}.png"
            page.screenshot(path=path, full_page=True)
            print(path)


if __name__ == "__main__":
    main()
