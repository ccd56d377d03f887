"""The browser tests' marker: skipped where Debian's Chromium is missing, except in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.browser import CHROMIUM

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Skipped where Debian's Chromium is missing, except in CI, where they must run (and fail
# loudly if .ci/run could not install it).
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not IN_CI, reason=f"no Chromium at {CHROMIUM}"
    ),
]
