"""Plotly figures (functions returning go.Figure; no streamlit)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

# The predicted digit stands out; the others stay quiet.
HIGHLIGHT = "#ff4b4b"
MUTED = "#9aa5b1"


def probability_bars(proba, label: int | None = None, height: int = 260) -> go.Figure:
    """Vote shares of the ten digits as bars, the predicted one (``label``) highlighted.

    Parameters
    ----------
    proba : array-like of 10 floats in [0, 1]
    label : the digit to highlight (default: the largest share)
    """
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (10,):
        raise ValueError(f"expected 10 probabilities, got shape {proba.shape}")
    label = int(np.argmax(proba)) if label is None else int(label)
    digits = [str(d) for d in range(10)]
    fig = go.Figure(
        go.Bar(
            x=digits,
            y=proba,
            marker_color=[HIGHLIGHT if d == label else MUTED for d in range(10)],
            text=[f"{p:.0%}" if p > 0 else "" for p in proba],
            textposition="outside",
            textfont=dict(size=13),
            cliponaxis=False,
            constraintext="none",
            hovertemplate="digit %{x}: %{y:.1%} of the vote<extra></extra>",
        )
    )
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        showlegend=False,
        xaxis=dict(title=None, type="category", tickvals=digits, tickfont=dict(size=16)),
        yaxis=dict(title="share of the vote", range=[0, 1.12], tickformat=".0%", dtick=0.25),
        title=dict(text="Probabilities (vote shares)", font=dict(size=14), x=0),
    )
    return fig
