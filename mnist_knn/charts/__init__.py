"""Plotly figures, one module per area: :mod:`.evaluation` (the evaluation dashboards and the
Draw page's vote), :mod:`.learn` (How it works, Compare models, Digit map), :mod:`.classroom`
(Class drawings). Pages call them by area: ``charts.evaluation.confusion_heatmap(...)``."""

from . import classroom, evaluation, learn

__all__ = ["classroom", "evaluation", "learn"]
