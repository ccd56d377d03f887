"""Plotly figures for the teaching pages (functions returning go.Figure; no Streamlit)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

DIGITS = list(range(10))
# One colour per digit, the same as the evaluation pages'.
DIGIT_COLOURS = qualitative.Plotly
OTHER = "#bbbbbb"


# ------------------------------------------------------------------ how it works


def distance_histogram(
    dist: np.ndarray,
    train_labels: np.ndarray,
    predicted: int,
    nearest_dist: Sequence[float],
    nearest_labels: Sequence[int],
    bins: int = 80,
) -> go.Figure:
    """Histogram of the distances from a drawing to every training digit, the k nearest marked.

    The bars are binned here (not in the browser), so the figure stays small
    whatever the size of the training set. Digits labelled ``predicted`` are
    stacked in their colour over the rest; each of the k nearest is a marker on
    the axis with its label, and a dashed line shows the k-th distance.
    """
    dist = np.asarray(dist, dtype=np.float64)
    train_labels = np.asarray(train_labels)
    finite = dist[np.isfinite(dist)]
    edges = np.linspace(0, finite.max() * 1.02 if finite.size else 1, bins + 1)
    centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
    same = train_labels == predicted
    fig = go.Figure()
    for name, mask, colour in (
        (f"training digits labelled {predicted}", same, DIGIT_COLOURS[predicted]),
        ("all other training digits", ~same, OTHER),
    ):
        counts, _ = np.histogram(dist[mask], edges)
        fig.add_bar(
            x=centres,
            y=counts,
            width=width,
            name=f"{name} ({int(mask.sum()):,})",
            marker_color=colour,
            hovertemplate="distance %{x:.2f}: %{y:,} digits<extra>" + name + "</extra>",
        )
    nearest_dist, nearest_labels = np.asarray(nearest_dist), np.asarray(nearest_labels)
    fig.add_scatter(
        x=nearest_dist,
        y=np.zeros(len(nearest_dist)),
        mode="markers+text",
        text=[str(label) for label in nearest_labels],
        textposition="top center",
        marker={
            "symbol": "triangle-up",
            "size": 12,
            "color": [DIGIT_COLOURS[label] for label in nearest_labels],
            "line": {"width": 1, "color": "#222"},
        },
        name=f"the {len(nearest_dist)} nearest",
        hovertemplate="neighbour at distance %{x:.3f}: a %{text}<extra></extra>",
    )
    if len(nearest_dist):
        fig.add_vline(
            x=float(nearest_dist[-1]),
            line={"dash": "dash", "color": "#222", "width": 1},
            annotation_text=f"k = {len(nearest_dist)}",
            annotation_position="top right",
        )
    fig.update_layout(
        barmode="stack",
        bargap=0,
        xaxis={"title": "Distance from the drawing", "rangemode": "tozero"},
        yaxis={"title": "Training digits"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"t": 40, "b": 40, "l": 60, "r": 20},
        height=340,
    )
    return fig


def vote_bars(proba: Sequence[float], title: str = "") -> go.Figure:
    """The vote: each digit's share, the winner in its colour, the others grey."""
    proba = np.asarray(proba, dtype=np.float64)
    winner = int(np.argmax(proba))
    fig = go.Figure(
        go.Bar(
            x=DIGITS,
            y=proba,
            marker_color=[DIGIT_COLOURS[d] if d == winner else OTHER for d in DIGITS],
            text=[f"{p:.0%}" if p > 0 else "" for p in proba],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.1%} of the vote<extra></extra>",
        )
    )
    fig.update_layout(
        title=title or None,
        xaxis={"title": "Digit", "tickmode": "array", "tickvals": DIGITS},
        yaxis={"title": "Share of the vote", "tickformat": ".0%", "range": [0, 1.15]},
        margin={"t": 40 if title else 10, "b": 40, "l": 60, "r": 10},
        height=280,
        showlegend=False,
    )
    return fig
