"""Warm page-load times of the app in headless Chromium: python scripts/page_times.py [PAGE ...].

Starts the app on the project's models/, opens every page once to warm the caches,
then times, per page and over --repeat rounds:

- ``reload``: ``page.goto(url)`` until Streamlit reports the script run finished
  (a full browser load: HTML, scripts, websocket, then the page's run);
- ``click``: a click on the page's sidebar link until its title is shown and the
  run has finished (moving between pages inside the app).

Prints the median of each, in seconds. Numbers, not assertions: see the README.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser import IDLE, chromium, open_page, streamlit_server

PAGES = {
    "dataset": ("Dataset", "Dataset"),
    "metrics": ("Metrics", "Metrics"),
    "confusion": ("Confusion matrix", "Confusion matrix"),
    "roc": ("ROC curves", "ROC curves"),
    "precision_recall": ("Precision-recall", "Precision-recall and calibration"),
    "misclassified": ("Misclassified", "Misclassified digits"),
    "tuning": ("Tuning k", "Tuning k"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", nargs="*", default=list(PAGES))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with streamlit_server() as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_page(page, url)  # the entry point first (see scripts/screenshots.py)
        for name in args.pages:  # warm every cache
            open_page(page, f"{url}/{name}")
            page.get_by_role("heading", name=PAGES[name][1]).wait_for(timeout=600_000)
        reload, click = {n: [] for n in args.pages}, {n: [] for n in args.pages}
        for _ in range(args.repeat):
            for name in args.pages:
                start = time.perf_counter()
                open_page(page, f"{url}/{name}")
                page.get_by_role("heading", name=PAGES[name][1]).wait_for()
                page.wait_for_selector(IDLE)
                reload[name].append(time.perf_counter() - start)
            for name in args.pages:
                open_page(page, url)
                link = page.locator('[data-testid="stSidebarNav"] a').filter(
                    has_text=PAGES[name][0]
                )
                start = time.perf_counter()
                link.first.click()
                page.get_by_role("heading", name=PAGES[name][1]).wait_for()
                page.wait_for_selector(IDLE)
                click[name].append(time.perf_counter() - start)
        print(f"{'page':<18} {'reload (s)':>10} {'click (s)':>10}   (median of {args.repeat})")
        for name in args.pages:
            print(
                f"{name:<18} {statistics.median(reload[name]):>10.2f} "
                f"{statistics.median(click[name]):>10.2f}"
            )


if __name__ == "__main__":
    main()
