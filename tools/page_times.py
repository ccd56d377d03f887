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

``--first`` times instead the first visit of every page on a fresh server whose models
folder (``--models-dir``, default a new temporary one) holds no artifact yet: the pages in
the navigation's order, one visit each, each until its script has finished and no build
shows a progress bar (a build started by the page, or the server's background builds it
waits for). It prints per page the seconds, the seconds since the server started, the
load average, and the progress texts seen while it waited (they show whether a bar moved).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from app_pages import PAGES as ALL_PAGES
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


# The visible progress bars (a finished build's bar stays in its collapsed status, hidden):
# [percent, text] each.
PROGRESS_STATE = """() => [...document.querySelectorAll('[data-testid="stProgress"]')]
  .filter(p => p.getClientRects().length > 0)
  .map(p => {
    const bar = p.querySelector('[role="progressbar"]');
    return [bar ? Number(bar.getAttribute('aria-valuenow')) : null, p.innerText.trim()];
  })"""


def busy(page) -> bool:
    """A script run going on, or a build's bar short of 100% on screen."""
    bars = page.evaluate(PROGRESS_STATE)
    return not page.locator(IDLE).count() or any(v is None or v < 100 for v, _ in bars)


def first_visit(page, url: str, timeout: float = 1800.0) -> tuple[float, list[str]]:
    """Seconds until the page's script has finished with no progress bar on it; the
    distinct progress texts (with their percentage) seen meanwhile."""
    start, seen = time.perf_counter(), []
    page.goto(url)
    while time.perf_counter() - start < timeout:
        for value, text in page.evaluate(PROGRESS_STATE):
            entry = f"{value}% {text}" if value is not None else text
            if not seen or seen[-1] != entry:
                seen.append(entry)
        if not busy(page):
            # A run may stop and the next start at once (a build done -> rerun): idle twice.
            page.wait_for_timeout(300)
            if not busy(page):
                return time.perf_counter() - start, seen
        page.wait_for_timeout(500)
    raise TimeoutError(f"{url} still busy after {timeout:.0f} s")


def first_visits(models_dir: Path, names: list[str] | None = None) -> None:
    """Every page's (or ``names``') first visit on a fresh server (see the module's
    docstring), in the navigation's order or in the order given."""
    models_dir.mkdir(parents=True, exist_ok=True)
    if built := sorted(p.name for p in models_dir.glob("*.npz")):
        raise SystemExit(f"{models_dir} is not empty ({', '.join(built)}): use an empty folder")
    env = {"MNIST_KNN_MODELS_DIR": str(models_dir.resolve()), "MNIST_KNN_BACKGROUND": "1"}
    begin = time.perf_counter()
    print(f"models in {models_dir}; load average at start {os.getloadavg()[0]:.1f}", flush=True)
    with streamlit_server(env) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(1_800_000)
        print(f"{'page':<18} {'first visit (s)':>15} {'since start (s)':>15} {'load':>5}")
        for entry in [by_name(n) for n in names] if names else ALL_PAGES:
            seconds, seen = first_visit(page, f"{url}/{entry.url_path}")
            load = os.getloadavg()[0]
            since = time.perf_counter() - begin
            print(f"{entry.name:<18} {seconds:>15.1f} {since:>15.1f} {load:>5.1f}", flush=True)
            if len(seen) > 12:  # the first, some in between, the last
                seen = [*seen[:4], "...", *seen[4 : -4 : max(1, len(seen) // 8)], "...", *seen[-4:]]
            for text in seen:
                print(f"    {text}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", nargs="*", help="default: the Evaluation pages (all for --first)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--first", action="store_true", help="first visits, fresh server")
    parser.add_argument("--models-dir", type=Path, help="for --first (default: a new temp one)")
    args = parser.parse_args()
    if args.first:
        first_visits(
            args.models_dir or Path(tempfile.mkdtemp(prefix="mnist-knn-models-")), args.pages
        )
        return
    args.pages = args.pages or list(PAGES)
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
