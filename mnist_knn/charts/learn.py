"""Plotly figures for the teaching pages (functions returning go.Figure; no Streamlit)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.colors import qualitative

DIGITS = list(range(10))
# One colour per digit, the same as the evaluation pages'.
# Ten colours told apart on a projector (Plotly's own set gave 4/9 and 1/6 near twins).
DIGIT_COLOURS = qualitative.D3
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


# ------------------------------------------------------------------ compare models

KNN_COLOUR, OTHER_COLOUR = "#636efa", "#9a9a9a"
# Row field -> (short name, axis title, plotly number format, scale applied to the value).
COMPARE_METRICS = {
    "accuracy": ("Accuracy", "Test accuracy", ".2%", 1.0),
    "fit_seconds": ("Fit time", "Fit time (s)", ".1f", 1.0),
    "predict_seconds": ("Predict time", "Predict time for the test set (s)", ".2f", 1.0),
    "size_bytes": ("Size", "Model size (MB)", ".1f", 1e-6),
}


def compare_bars(rows: Sequence[dict], metric: str = "accuracy") -> go.Figure:
    """Horizontal bars of one measure for every model, best at the top; KNN presets in colour."""
    _, title, fmt, scale = COMPARE_METRICS[metric]
    higher_is_better = metric == "accuracy"
    ordered = sorted(rows, key=lambda r: r[metric], reverse=higher_is_better)
    values = [r[metric] * scale for r in ordered]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=[r["title"] for r in ordered],
            orientation="h",
            marker_color=[KNN_COLOUR if r["kind"] == "knn" else OTHER_COLOUR for r in ordered],
            text=[f"{v:{fmt}}" for v in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:" + fmt + "}<extra></extra>",
        )
    )
    low = min(values) if metric == "accuracy" else 0
    fig.update_layout(
        xaxis={
            "title": title,
            "tickformat": fmt,
            # Accuracies differ in the last percent or two: start the axis near the lowest.
            "range": [max(0, low - (1 - low) * 0.6), 1] if metric == "accuracy" else None,
        },
        yaxis={"autorange": "reversed"},
        margin={"t": 10, "b": 40, "l": 10, "r": 60},
        height=60 + 36 * len(rows),
        showlegend=False,
    )
    return fig


def label_positions(x, y, near_x: float = 0.3, near_y: float = 0.3) -> list[str]:
    """Plotly text positions that keep the labels of close points apart and on the chart.

    A point with a close neighbour above it puts its label below, the others above; a
    close neighbour to one side sends the label to the other side, and so does the edge
    of the chart (the leftmost label goes right, the rightmost left). ``x`` and ``y`` are
    compared as shares of their ranges; labels are wide, so "close" reaches further in x.
    """
    x, y = (np.asarray(v, dtype=float) for v in (x, y))
    nx, ny = ((v - v.min()) / max(np.ptp(v), 1e-12) for v in (x, y))
    positions = []
    for i in range(len(x)):
        close = (np.abs(nx - nx[i]) <= near_x) & (np.abs(ny - ny[i]) <= near_y)
        close[i] = False
        vertical = "bottom" if np.any(close & (ny > ny[i])) else "top"
        left, right = np.any(close & (nx < nx[i])), np.any(close & (nx > nx[i]))
        horizontal = "right" if left and not right else "left" if right and not left else "center"
        if nx[i] in (0, 1) and len(x) > 1:  # at an edge of the chart: the label goes inward
            horizontal = "right" if nx[i] == 0 else "left"
        positions.append(f"{vertical} {horizontal}")
    return positions


def crowded(x, y, near_x: float = 0.25, near_y: float = 0.25) -> np.ndarray:
    """Which points have two or more others close by (``x`` and ``y`` compared as shares
    of their ranges): their labels would overlap beside them. (Two close points alone are
    kept apart by :func:`label_positions`, one label above, one below.)"""
    x, y = (np.asarray(v, dtype=float) for v in (x, y))
    nx, ny = ((v - v.min()) / max(np.ptp(v), 1e-12) for v in (x, y))
    close = (np.abs(nx[:, None] - nx) <= near_x) & (np.abs(ny[:, None] - ny) <= near_y)
    np.fill_diagonal(close, False)
    return close.sum(axis=1) >= 2


def spread_labels(y, gap: float, low: float) -> np.ndarray:
    """Label heights as near their points' ``y`` as can be, at least ``gap`` apart, none
    below ``low``: the highest stays level with its point, each next one steps down only
    as far as it must; if the column then runs below ``low``, all of it moves up."""
    y = np.asarray(y, dtype=float)
    order = np.argsort(-y, kind="stable")
    placed = np.empty_like(y)
    last = np.inf
    for i in order:
        last = placed[i] = min(y[i], last - gap)
    if len(y) and placed.min() < low:
        placed += low - placed.min()
    return placed


def accuracy_vs_time(rows: Sequence[dict]) -> go.Figure:
    """Test accuracy against predict time (log scale), marker area proportional to model size.

    Models far from the others carry their name beside them; names of models close
    together (the presets near 98.6-98.9%) sit in a column right of the points, one under
    the other in the order of their accuracy, each joined to its point by a thin line.
    """
    size = np.array([r["size_bytes"] for r in rows], dtype=float)
    times = np.array([max(r["predict_seconds"], 1e-4) for r in rows])
    accuracy = np.array([r["accuracy"] for r in rows])
    log_t = np.log10(times)
    marker = 8 + 40 * np.sqrt(size / size.max())
    where = label_positions(log_t, accuracy)
    apart = crowded(log_t, accuracy)
    fig = go.Figure()
    for kind, colour, name in ((True, KNN_COLOUR, "KNN presets"), (False, OTHER_COLOUR, "others")):
        pick = [i for i, r in enumerate(rows) if (r["kind"] == "knn") == kind]
        if not pick:
            continue
        fig.add_scatter(
            x=times[pick],
            y=accuracy[pick],
            mode="markers+text",
            text=["" if apart[i] else rows[i]["title"] for i in pick],
            textposition=[where[i] for i in pick],
            textfont={"size": 13, "color": "#222222"},
            customdata=np.stack([size[pick] / 1e6, [rows[i]["title"] for i in pick]], axis=1),
            marker={
                "size": marker[pick],
                "color": colour,
                "opacity": 0.75,
                "line": {"width": 1, "color": "#333"},
            },
            name=name,
            hovertemplate="%{customdata[1]}<br>accuracy %{y:.2%}<br>predict %{x:.2f} s"
            "<br>size %{customdata[0]:.1f} MB<extra></extra>",
        )
    lo, hi = log_t.min(), log_t.max()
    column = hi + 0.3  # where the crowded models' names start (log10 seconds)
    right = hi + 0.4
    spread = max(float(np.ptp(accuracy)), 0.01)
    y_lo, y_hi = accuracy.min() - 0.1 * spread, accuracy.max() + 0.07 * spread
    if apart.any():
        # ~20 px between names on a ~340 px high plot.
        heights = spread_labels(accuracy[apart], 0.065 * (y_hi - y_lo), y_lo)
        for i, height in zip(np.flatnonzero(apart), heights, strict=True):
            fig.add_annotation(
                x=log_t[i],  # annotations on a log axis take log10 positions
                y=accuracy[i],
                ax=column,
                ay=height,
                axref="x",
                ayref="y",
                text=rows[i]["title"],
                xanchor="left",
                font={"size": 13, "color": "#222222"},
                showarrow=True,
                arrowhead=0,
                arrowwidth=1,
                arrowcolor="#888888",
                standoff=marker[i] / 2,
            )
        right = column + 0.45 * (hi - lo + 1)  # room for the names
    fig.update_layout(
        xaxis={
            "title": "Predict time for the test set (s, log scale)",
            "type": "log",
            "tickvals": [
                v for v in (0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300) if v < 2 * 10**hi
            ],
            # Room on the left for the fastest model's label, on the right for the names.
            "range": [lo - 0.4, right],
        },
        yaxis={"title": "Test accuracy", "tickformat": ".0%", "range": [y_lo, y_hi]},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"t": 40, "b": 40, "l": 60, "r": 20},
        height=440,
    )
    return fig


# ------------------------------------------------------------------ digit map


def _digit_colourscale() -> list:
    """A stepped colourscale: heatmap value d in [d - 0.5, d + 0.5] gets digit d's colour."""
    scale = []
    for d, colour in enumerate(DIGIT_COLOURS[:10]):
        scale += [[d / 10, colour], [(d + 1) / 10, colour]]
    return scale


def ink_uris(images: np.ndarray) -> list[str]:
    """uint8 digits (n, 28, 28), ink = 255 -> PNG data URIs: black ink, transparent paper."""
    uris = []
    for image in np.asarray(images, dtype=np.uint8):
        rgba = np.zeros((*image.shape, 4), dtype=np.uint8)
        rgba[..., 3] = image
        buffer = io.BytesIO()
        Image.fromarray(rgba, mode="RGBA").save(buffer, format="PNG", optimize=True)
        uris.append("data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    return uris


def digit_map(
    coords: np.ndarray,
    labels: np.ndarray,
    train_index: np.ndarray,
    *,
    regions=None,
    drawing: Sequence[float] | None = None,
    selected: int | None = None,
    pictures: tuple[np.ndarray, Sequence[str]] | None = None,
    axis_titles: tuple[str, str] = ("", ""),
    drawing_label: str = "your digit",
) -> go.Figure:
    """Sampled training digits on a 2-D map, one colour per digit, clickable.

    ``regions`` (a :class:`~mnist_knn.embedding.DecisionGrid`) is drawn underneath
    as the digit a KNN on the map would predict there; ``drawing`` is a star at
    its position, labelled ``drawing_label``; ``selected`` (a row of the sample) is
    ringed; ``pictures`` (positions (m, 2) and :func:`ink_uris`) draws some digits as
    their images.
    Each point's ``customdata`` is (row of the sample, training index), for clicks.
    """
    coords, labels = np.asarray(coords), np.asarray(labels)
    fig = go.Figure()
    if regions is not None:
        fig.add_heatmap(
            x=regions.x,
            y=regions.y,
            z=regions.labels,
            zmin=-0.5,
            zmax=9.5,
            colorscale=_digit_colourscale(),
            showscale=False,
            opacity=0.28,
            hoverinfo="skip",
            name=f"KNN regions (k={regions.k})",
        )
    rows = np.arange(len(labels))
    for d in range(10):
        pick = labels == d
        fig.add_scattergl(
            x=coords[pick, 0],
            y=coords[pick, 1],
            mode="markers",
            marker={
                "size": 5,
                "color": DIGIT_COLOURS[d],
                "line": {"width": 0},
                "opacity": 0.45 if pictures is not None else 1.0,  # let the pictures show
            },
            # A click selects one point; keep the others as they were instead of fading them.
            unselected={"marker": {"opacity": 0.45 if pictures is not None else 1.0}},
            name=str(d),
            customdata=np.column_stack([rows[pick], np.asarray(train_index)[pick]]),
            hovertemplate=f"a {d} (training digit #%{{customdata[1]}})<br>click to see it"
            "<extra></extra>",
        )
    if selected is not None:
        fig.add_scattergl(
            x=[coords[selected, 0]],
            y=[coords[selected, 1]],
            mode="markers",
            marker={"size": 16, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "#111"}},
            name="clicked",
            hoverinfo="skip",
        )
    if drawing is not None:
        fig.add_scattergl(
            x=[drawing[0]],
            y=[drawing[1]],
            mode="markers+text",
            text=[drawing_label],
            textposition="top center",
            textfont={"size": 14, "color": "#111"},
            marker={
                "symbol": "star",
                "size": 22,
                "color": "#111",
                "line": {"width": 2, "color": "white"},
            },
            name=drawing_label,
            hovertemplate=f"{drawing_label}<extra></extra>",
        )
    if pictures is not None:
        where, uris = pictures
        side = 0.045 * float(np.ptp(coords, axis=0).max())
        fig.update_layout(
            images=[
                {
                    "source": uri,
                    "x": float(x),
                    "y": float(y),
                    "xref": "x",
                    "yref": "y",
                    "sizex": side,
                    "sizey": side,
                    "xanchor": "center",
                    "yanchor": "middle",
                    "layer": "below",
                }
                for (x, y), uri in zip(where, uris, strict=True)
            ]
        )
    fig.update_layout(
        xaxis={"title": axis_titles[0], "showgrid": False, "zeroline": False},
        yaxis={"title": axis_titles[1], "showgrid": False, "zeroline": False},
        legend={"title": "digit", "itemsizing": "constant"},
        margin={"t": 10, "b": 40, "l": 40, "r": 10},
        height=640,
    )
    return fig


def clicked_row(point: dict) -> int | None:
    """The sample row of a clicked :func:`digit_map` point, or None (the star, the ring).

    Streamlit hands ``customdata`` back as a list, or, for WebGL traces, as a dict
    keyed "0", "1"; both are read.
    """
    data = point.get("customdata")
    if isinstance(data, dict):
        data = [data.get("0"), data.get("1")]
    if not data or data[0] is None:
        return None
    return int(data[0])
