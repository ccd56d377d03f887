"""Where the tests find the app."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The router: AppTest runs it, then switches to a page.
APP = str(ROOT / "streamlit_app.py")
# A stand-in for the Draw page with one synthetic drawing (see feedback_app.py).
FEEDBACK_APP = str(Path(__file__).resolve().parent / "feedback_app.py")
