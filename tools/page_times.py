"""Warm page-load times of the app in headless Chromium: python -m tools.page_times [PAGE ...].

Starts the app on the project's models/, opens every page once to warm the caches,
then times, per page and over --repeat rounds:

- ``reload``: ``page.goto(url)`` until Streamlit reports the script run finished
  (a full browser load: HTML, scripts, websocket, then the page's run);
- ``click``: a click on the page's sidebar link until its title is shown and the
  run has finished (moving between pages inside the app);
- ``click CPU``: the CPU time the app server and Chromium (every process this script
  started) spent during that click - what the click costs on an idle machine, more
  or less, since on a shared machine the wall-clock times include waiting for a core.

Prints the median of each, in seconds, and the load average. Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from app_pages import by_name, in_section
from tools.browser import IDLE, chromium, open_page, streamlit_server

# Page name: (sidebar link text, page title); home, the lightest page, is a yardstick.
PAGES = {
    page.name: (page.title, page.heading) for page in (by_name("home"), *in_section("Evaluation"))
}


def path(url: str, name: str) -> str:
    return f"{url}/{by_name(name).url_path}"


def _descendants_cpu() -> float:
    """CPU seconds (user + system) used so far by every living descendant of this process."""
    parents, cpu = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    ours, total = {os.getpid()}, 0.0
    for _ in range(10):  # a few generations deep is plenty (node -> chromium -> renderers)
        ours |= {pid for pid, parent in parents.items() if parent in ours}
    for pid in ours - {os.getpid()}:
        total += cpu.get(pid, 0.0)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", nargs="*", default=list(PAGES))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with streamlit_server() as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_page(page, url)  # the entry point first (see tools/screenshots.py)
        for name in args.pages:  # warm every cache
            open_page(page, path(url, name))
            page.get_by_role("heading", name=PAGES[name][1]).wait_for(timeout=600_000)
        reload, click = {n: [] for n in args.pages}, {n: [] for n in args.pages}
        click_cpu = {n: [] for n in args.pages}
        for _ in range(args.repeat):
            for name in args.pages:
                start = time.perf_counter()
                open_page(page, path(url, name))
                page.get_by_role("heading", name=PAGES[name][1]).wait_for()
                page.wait_for_selector(IDLE)
                reload[name].append(time.perf_counter() - start)
            for name in args.pages:
                # start from another page, so the click really changes page
                open_page(page, path(url, "tuning" if name == "home" else "home"))
                link = page.locator('[data-testid="stSidebarNav"] a').filter(
                    has_text=PAGES[name][0]
                )
                start, cpu = time.perf_counter(), _descendants_cpu()
                link.first.click()
                page.get_by_role("heading", name=PAGES[name][1]).wait_for()
                page.wait_for_selector(IDLE)
                click[name].append(time.perf_counter() - start)
                click_cpu[name].append(_descendants_cpu() - cpu)
        print(
            f"{'page':<18} {'reload (s)':>10} {'click (s)':>10} {'click CPU (s)':>14}"
            f"   (median of {args.repeat}; load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores)"
        )
        for name in args.pages:
            print(
                f"{name:<18} {statistics.median(reload[name]):>10.2f} "
                f"{statistics.median(click[name]):>10.2f} "
                f"{statistics.median(click_cpu[name]):>14.2f}"
            )


if __name__ == "__main__":
    main()
