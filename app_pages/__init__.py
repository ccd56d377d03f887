"""The app's pages, as data: the router builds its navigation from :data:`PAGES`, and the
tests and tools iterate it. A new page is one file here and one entry below."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Page:
    """One page: its file in app_pages/, its place in the navigation, and its heading."""

    name: str  # the file's stem, and the page's URL path (``/draw``)
    title: str  # in the navigation
    icon: str  # a Material icon (emoji fonts are missing on some machines) (":material/school:")
    section: str  # navigation group ("" for the top)
    heading: str  # the page's own title, which tests and tools wait for
    default: bool = False  # the page at "/"

    @property
    def path(self) -> str:
        """The page's script, relative to the project root (as ``st.Page`` takes it)."""
        return f"app_pages/{self.name}.py"

    @property
    def url_path(self) -> str:
        """The page's address below the app's root ("" for the default page)."""
        return "" if self.default else self.name


PAGES = (
    Page("home", "Home", ":material/home:", "", "mnist-knn", default=True),
    Page("draw", "Draw", ":material/draw:", "", "Draw a digit"),
    Page("how_it_works", "How it works", ":material/school:", "Learn", "How it works"),
    Page("compare_models", "Compare models", ":material/leaderboard:", "Learn", "Compare models"),
    Page("digit_map", "Digit map", ":material/scatter_plot:", "Learn", "Digit map"),
    Page("dataset", "Dataset", ":material/dataset:", "Evaluation", "Dataset"),
    Page("metrics", "Metrics", ":material/table_chart:", "Evaluation", "Metrics"),
    Page("confusion", "Confusion matrix", ":material/grid_on:", "Evaluation", "Confusion matrix"),
    Page("roc", "ROC curves", ":material/show_chart:", "Evaluation", "ROC curves"),
    Page(
        "precision_recall",
        "Precision-recall",
        ":material/insights:",
        "Evaluation",
        "Precision-recall and calibration",
    ),
    Page(
        "misclassified", "Misclassified", ":material/cancel:", "Evaluation", "Misclassified digits"
    ),
    Page("tuning", "Tuning k", ":material/tune:", "Evaluation", "Tuning k"),
    Page("class_drawings", "Class drawings", ":material/groups:", "Classroom", "Class drawings"),
)


def by_name(name: str) -> Page:
    """The page called ``name`` (its file's stem)."""
    for page in PAGES:
        if page.name == name:
            return page
    raise KeyError(f"no page {name!r}; pages: {', '.join(p.name for p in PAGES)}")


def in_section(section: str) -> list[Page]:
    """The pages of one navigation section, in order."""
    return [page for page in PAGES if page.section == section]
