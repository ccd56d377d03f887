"""Plotly figures of the Class drawings page (functions returning go.Figure; no Streamlit)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

CLASS_COLOUR = "#e4572e"  # the class's drawings, on every chart of the page
MNIST_COLOUR = "#4c78a8"  # the MNIST test set
_FONT = dict(family="sans-serif", size=13)


def _bar_layout(fig: go.Figure, height: int, **axes) -> go.Figure:
    """The page's grouped-bar look: accuracy in % on the y axis, the legend on top."""
    fig.update_layout(
        barmode="group",
        font=_FONT,
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        yaxis=dict(title="read correctly", ticksuffix="%", range=[0, 112]),
        **axes,
    )
    return fig


def per_digit_accuracy_figure(
    class_accuracy: np.ndarray, class_counts: np.ndarray, mnist_accuracy: np.ndarray
) -> go.Figure:
    """Accuracy of each digit on the class's drawings beside the MNIST test set's.

    Digits nobody drew have no class bar; the hover gives each bar's count.
    """
    digits = [str(d) for d in range(10)]
    fig = go.Figure()
    fig.add_bar(
        x=digits,
        y=np.asarray(mnist_accuracy) * 100,
        name="MNIST test digits",
        marker_color=MNIST_COLOUR,
        hovertemplate="digit %{x}: %{y:.1f}% right on MNIST<extra></extra>",
    )
    drawn = np.asarray(class_counts) > 0
    fig.add_bar(
        x=digits,
        y=np.where(drawn, np.asarray(class_accuracy) * 100, np.nan),
        name="the class's drawings",
        marker_color=CLASS_COLOUR,
        customdata=np.asarray(class_counts),
        text=[f"{n}" if n else "" for n in class_counts],
        textposition="outside",
        hovertemplate="digit %{x}: %{y:.0f}% right of %{customdata} drawings<extra></extra>",
    )
    _bar_layout(
        fig, 320, xaxis=dict(title="digit (number above a bar: drawings of it)", type="category")
    )
    return fig


def confusion_figure(cm: np.ndarray, title: str, colour: str = MNIST_COLOUR) -> go.Figure:
    """A confusion matrix: rows = digit drawn, columns = digit read, counts in the cells.

    Colour is the share of each row, so a set of 60 drawings and one of 10,000
    digits read alike; empty rows stay white.
    """
    cm = np.asarray(cm)
    totals = cm.sum(axis=1, keepdims=True)
    share = np.where(totals > 0, cm / np.maximum(totals, 1), np.nan)
    text = [[str(v) if v else "" for v in row] for row in cm]
    digits = [str(d) for d in range(10)]
    fig = go.Figure(
        go.Heatmap(
            z=share,
            x=digits,
            y=digits,
            text=text,
            texttemplate="%{text}",
            colorscale=[[0, "#ffffff"], [1, colour]],
            zmin=0,
            zmax=1,
            showscale=False,
            xgap=1,
            ygap=1,
            hovertemplate="drawn %{y}, read %{x}: %{text} (%{z:.0%} of the %{y}s)<extra></extra>",
        )
    )
    fig.update_layout(
        title=dict(text=title, font=dict(size=14)),
        font=_FONT,
        height=380,
        margin=dict(l=10, r=10, t=40, b=10),
        xaxis=dict(title="read as", side="bottom", constrain="domain", type="category"),
        yaxis=dict(title="drawn", autorange="reversed", scaleanchor="x", type="category"),
        plot_bgcolor="#ffffff",
    )
    return fig


def before_after_figure(
    class_before: float, class_after: float, test_before: float, test_after: float
) -> go.Figure:
    """Accuracy on the class's drawings and on MNIST test, before and after adding them."""
    sets = ["the class's drawings", "MNIST test digits"]
    fig = go.Figure()
    for name, values, colour in (
        ("MNIST training set only", [class_before, test_before], "#bab0ac"),
        ("+ the class's drawings", [class_after, test_after], CLASS_COLOUR),
    ):
        fig.add_bar(
            x=sets,
            y=np.array(values) * 100,
            name=name,
            marker_color=colour,
            text=[f"{v:.2%}" for v in values],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1f}%<extra>" + name + "</extra>",
        )
    _bar_layout(fig, 300)
    return fig
