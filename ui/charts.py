"""Figures for the pages: the Draw page's answer card (HTML), training curves, the confusion
matrix and the map of the test set (Plotly)."""

import base64
import html
import io
import math

import numpy as np
from PIL import Image
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mnist_core.reading.explain import saliency_image

ACCENT, MUTED, WRONG = "#ff4b4b", "#9aa5b1", "#1f77b4"
# Matrices are clicked, not zoomed or panned: without the toolbar, which on a phone sits over the
# axis title, a tap is all there is.
CLICK_ONLY = {"displayModeBar": False}
RUN_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")  # runs side by side must not share a hue


def png_data_uri(image: np.ndarray) -> str:
    """A float image in [0, 1] (or uint8 RGB) as an inline PNG, so it travels inside the HTML that shows it."""
    buffer = io.BytesIO()
    pixels = image if image.dtype == np.uint8 else np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def probability_bars(probabilities: np.ndarray) -> str:
    """The ten probabilities as HTML bars, the answer's bar in the accent colour."""
    best = int(np.argmax(probabilities))
    columns = []
    for digit, p in enumerate(probabilities):
        label = f"{p:.0%}" if p >= 0.005 else ""
        colour = ACCENT if digit == best else MUTED
        columns.append(
            f"<div style='flex:1;display:flex;flex-direction:column;align-items:center;justify-content:flex-end'>"
            f"<div style='font-size:0.75rem;color:#555'>{label}</div>"
            f"<div style='width:70%;height:{max(p * 140, 1):.1f}px;background:{colour};border-radius:3px 3px 0 0'></div>"
            f"<div style='font-weight:{700 if digit == best else 400};border-top:1px solid #ccc;width:100%;"
            f"text-align:center'>{digit}</div></div>")
    return (f"<div role='img' aria-label='probability of each digit' "
            f"style='display:flex;gap:4px;height:180px;margin-top:1rem'>{''.join(columns)}</div>")


def _figure(uri: str, alt: str, caption: str) -> str:
    return (f"<figure style='margin:0'><img src='{uri}' width='112' height='112' alt='{html.escape(alt)}' "
            "style='image-rendering:pixelated;border:1px solid #ddd'>"
            f"<figcaption style='font-size:0.875rem;color:#808495;max-width:112px'>{caption}</figcaption></figure>")


def answer_card(prediction, caption: str, explanation=None) -> str:
    """The digit, its confidence, what the model saw, why it answered so (when `explanation` is
    given: mnist_core.reading.explain) and all ten probabilities, as one HTML block.

    One block rather than five Streamlit elements and a Plotly chart: it is redrawn on every
    stroke, and the browser lays out one HTML block far faster than those elements (the figures
    are in bench/README.md).
    """
    heading = ""
    if prediction.is_digit:
        answer = ("<div style='font-size:7rem;font-weight:700;line-height:1' data-testid='predicted-digit'>"
                  f"{prediction.digit}</div><div style='font-size:0.875rem;margin-top:0.5rem'>Confidence</div>"
                  f"<div style='font-size:2.25rem;line-height:1.2' data-testid='confidence'>"
                  f"{prediction.confidence:.1%}</div>")
    else:  # the honest answer first, on a line of its own; the closest digit stays, small, for whoever wonders
        heading = ("<div style='font-size:1.5rem;font-weight:700;line-height:1.2;margin-bottom:0.75rem' "
                   "data-testid='not-a-digit'>That doesn't look like a digit</div>")
        flat = prediction.confidence < 2 / len(prediction.probabilities)  # under twice a guess's share
        answer = ("<div style='font-size:0.875rem'>Closest digit:</div>"
                  "<div style='font-size:3rem;font-weight:700;line-height:1.1;color:#808495' "
                  f"data-testid='predicted-digit'>{prediction.digit}</div>"
                  f"<div style='font-size:1rem' data-testid='confidence'>{prediction.confidence:.1%}</div>"
                  + ("<div style='font-size:0.75rem;color:#808495;max-width:7rem'>no digit much closer than "
                     "another</div>" if flat else ""))
    return (
        heading
        + "<div style='display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start'>"
        f"<div>{answer}</div>"
        + _figure(png_data_uri(prediction.network_input), "the 28×28 image the model saw", "What the network saw (28×28)")
        + (_figure(png_data_uri(saliency_image(explanation, scale=1)),  # enlarged by the browser
                   f"which strokes pushed toward {explanation.digit} and which toward {explanation.runner_up}",
                   f"Why: <span style='color:#d62728'>red</span> pushed toward {explanation.digit}, "
                   f"<span style='color:#1f77b4'>blue</span> toward {explanation.runner_up}")
           if explanation is not None else "")
        + "</div>"
        f"{probability_bars(prediction.probabilities)}"
        f"<p style='font-size:0.875rem;color:#808495;margin-top:0.75rem'>{html.escape(caption)}</p>"
    )


def answer_on_a_phone(prediction=None) -> str:
    """The answer in one line, shown only where the columns stack (narrow screens), so it stays in
    view above the canvas while drawing. The line has the same height before the first stroke
    (`prediction` None) as after: the canvas below it must not move under the finger."""
    if prediction is None:
        line = "Draw a digit below"
    elif prediction.is_digit:
        line = f"Reads <b style='font-size:2rem'>{prediction.digit}</b> · {prediction.confidence:.0%} sure"
    else:
        line = "<b>Not a digit?</b> Closest: " + str(prediction.digit)
    return phone_line(line)


def phone_line(line: str) -> str:
    """One line of HTML shown only on narrow screens, of the same height whatever it says."""
    return ("<style>.answer-on-a-phone{display:none}"
            "@media (max-width: 640px){.answer-on-a-phone{display:block}}</style>"
            "<div class='answer-on-a-phone' data-testid='answer-on-a-phone' style='font-size:1.25rem;height:3rem;"
            f"line-height:3rem;white-space:nowrap;overflow:hidden'>{line}</div>")


def digit_counts(counts) -> str:
    """How many of each digit a person taught, as a one-row HTML table: cheaper to redraw on every
    rerun of the Draw page than a dataframe (bench/README.md, the load bench's profile)."""
    cell = "padding:0.25rem 0.5rem;text-align:center;border:1px solid rgba(128,128,128,0.3)"
    head = "".join(f"<th style='{cell}'>{digit}</th>" for digit in range(10))
    row = "".join(f"<td style='{cell}'>{count}</td>" for count in counts)
    return (f"<table aria-label='your digits, how many of each' style='border-collapse:collapse;width:100%'>"
            f"<tr><th style='{cell};text-align:left'>digit</th>{head}</tr>"
            f"<tr><th style='{cell};text-align:left'>yours</th>{row}</tr></table>")


def feature_map_tiles(maps: np.ndarray, columns: int = 16, scale: int = 3) -> np.ndarray:
    """One layer's activation maps (H x W x channels) as small multiples: a uint8 grid, each map
    scaled to its own peak (bright = active), crisp pixels, a dark gap between maps."""
    height, width, channels = maps.shape
    rows = -(-channels // columns)
    grid = np.full((rows * (height + 1) + 1, columns * (width + 1) + 1), 40, np.uint8)
    peaks = np.maximum(maps.max(axis=(0, 1)), 1e-6)
    for c in range(channels):
        r, k = divmod(c, columns)
        grid[1 + r * (height + 1):1 + r * (height + 1) + height, 1 + k * (width + 1):1 + k * (width + 1) + width] = \
            np.round(255 * np.clip(maps[..., c] / peaks[c], 0, 1))
    return np.kron(grid, np.ones((scale, scale), np.uint8))


def epoch_curves(history: dict) -> go.Figure:
    """Train and validation loss (left) and accuracy (right) per epoch."""
    epochs = list(range(1, len(history.get("loss", [])) + 1))
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    for col, metric in ((1, "loss"), (2, "accuracy")):
        for prefix, colour in (("", "#1f77b4"), ("val_", "#ff7f0e")):
            values = history.get(prefix + metric) or []
            fig.add_trace(go.Scatter(x=epochs[:len(values)], y=values, mode="lines+markers",
                                     name="validation" if prefix else "train", legendgroup=prefix,
                                     showlegend=col == 1, line=dict(color=colour)), row=1, col=col)
    fig.update_xaxes(title_text="epoch", tick0=1, dtick=max(1, math.ceil(len(epochs) / 10)))
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.3))
    return fig


def batch_curve(batches: list, max_points: int = 1500) -> go.Figure:
    """Per-batch training loss and accuracy (Keras' running means within each epoch)."""
    step = max(1, len(batches) // max_points)
    rows = batches[::step]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss per batch", "accuracy per batch"))
    for col, (index, colour) in enumerate(((1, "#1f77b4"), (2, "#2ca02c")), start=1):
        fig.add_trace(go.Scatter(x=[r[0] for r in rows], y=[r[index] for r in rows], mode="lines",
                                 line=dict(color=colour), showlegend=False), row=1, col=col)
    fig.update_xaxes(title_text="batch")
    fig.update_yaxes(rangemode="tozero", row=1, col=1)
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=30, b=10))
    return fig


METRIC_NAMES = {"loss": "training loss", "accuracy": "training accuracy", "val_loss": "validation loss",
                "val_accuracy": "validation accuracy"}


def compare_curves(runs: dict, metric: str) -> go.Figure:
    """`metric` per epoch for several runs ({name: history}) on one chart."""
    fig = go.Figure()
    for (name, history), colour in zip(runs.items(), RUN_COLOURS):
        values = history.get(metric) or []
        fig.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers", name=name,
                                 line=dict(color=colour)))
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=30, b=10), xaxis_title="epoch",
                      yaxis_title=METRIC_NAMES.get(metric, metric))
    return fig


def _clickable_matrix(fig: go.Figure, text: list, dark: np.ndarray, hover: str) -> go.Figure:
    """Cell labels on an invisible scatter whose points carry (true, predicted).

    Plotly heatmaps send no selection to Streamlit, so each cell also carries a transparent
    square marker: clicking it selects that point.
    """
    digits = list(range(10))
    t, p = np.meshgrid(digits, digits, indexing="ij")
    fig.add_trace(go.Scatter(
        x=p.ravel(), y=t.ravel(), mode="markers+text", text=[text[i][j] for i, j in zip(t.ravel(), p.ravel())],
        textfont=dict(size=12, color=["white" if d else "#31333f" for d in dark.ravel()]),
        customdata=[[int(i), int(j)] for i, j in zip(t.ravel(), p.ravel())],
        marker=dict(symbol="square", size=34, color="rgba(0,0,0,0)"),
        hovertemplate=hover + "<extra>click to see</extra>",
    ))
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
                      xaxis=dict(title="predicted digit", dtick=1, side="top", range=[-0.5, 9.5],
                                 constrain="domain", showgrid=False, zeroline=False),
                      yaxis=dict(title="true digit", dtick=1, range=[9.5, -0.5],
                                 showgrid=False, zeroline=False),
                      clickmode="event+select", dragmode=False)
    return fig


def confusion_matrix(confusion: np.ndarray, normalise: bool) -> go.Figure:
    """Errors in colour, the diagonal in grey; click a cell to select it."""
    totals = confusion.sum(axis=1, keepdims=True)
    values = 100 * confusion / np.maximum(totals, 1) if normalise else confusion.astype(float)
    errors = values.copy()
    np.fill_diagonal(errors, np.nan)
    diagonal = np.where(np.eye(10, dtype=bool), values, np.nan)
    text = [[f"{values[t, p]:.1f}%" if normalise else f"{confusion[t, p]}" for p in range(10)] for t in range(10)]
    digits = list(range(10))
    fig = go.Figure()
    fig.add_trace(go.Heatmap(z=diagonal, x=digits, y=digits, colorscale=[[0, "#e8ecef"], [1, "#e8ecef"]],
                             showscale=False, hoverinfo="skip"))
    fig.add_trace(go.Heatmap(z=errors, x=digits, y=digits, colorscale="Reds", zmin=0,
                             colorbar=dict(title="%" if normalise else "errors"), hoverinfo="skip"))
    dark = errors > 0.6 * np.nanmax(errors, initial=0)
    return _clickable_matrix(fig, text, dark, "true %{customdata[0]} → predicted %{customdata[1]}: %{text}")


def difference_matrix(difference: np.ndarray, a: str, b: str) -> go.Figure:
    """B's confusion matrix minus A's: off the diagonal, red where B errs more, blue where it errs less."""
    shown = difference.astype(float)
    np.fill_diagonal(shown, np.nan)  # the diagonal only mirrors the errors' total
    limit = max(1.0, float(np.nanmax(np.abs(shown), initial=0)))
    text = [["" if t == p else f"{difference[t, p]:+d}" if difference[t, p] else "·" for p in range(10)]
            for t in range(10)]
    fig = go.Figure(go.Heatmap(z=shown, x=list(range(10)), y=list(range(10)), colorscale="RdBu_r", zmid=0,
                               zmin=-limit, zmax=limit, colorbar=dict(title=f"{b} − {a}"), hoverinfo="skip"))
    dark = np.abs(np.nan_to_num(shown)) > 0.6 * limit
    return _clickable_matrix(fig, text, dark, f"true %{{customdata[0]}} → predicted %{{customdata[1]}}: "
                                              f"%{{text}} for {b}")


DIGIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")


def map_traces(labels: np.ndarray, predicted: np.ndarray) -> list[np.ndarray]:
    """The test digits of each of digit_map's traces: one per label, then the mistakes. A selected
    point is (trace, place in it), and this turns it back into a test index."""
    return [np.flatnonzero(labels == digit) for digit in range(10)] + [np.flatnonzero(labels != predicted)]


def digit_map(xy: np.ndarray, labels: np.ndarray, predicted: np.ndarray, drawing=None, height: int = 620) -> go.Figure:
    """A point per test digit coloured by its label, mistakes ringed in black; the hover says which
    digit it is and how it was read. `drawing`: a place to star."""
    fig = go.Figure()
    *by_label, wrong = map_traces(labels, predicted)
    for digit, mine in enumerate(by_label):
        fig.add_trace(go.Scattergl(
            x=xy[mine, 0], y=xy[mine, 1], mode="markers", name=str(digit),
            customdata=np.stack([mine, labels[mine], predicted[mine]], axis=1),
            marker=dict(size=4, color=DIGIT_COLOURS[digit], opacity=0.7),
            hovertemplate="#%{customdata[0]}: a %{customdata[1]}, read as %{customdata[2]}<extra></extra>"))
    fig.add_trace(go.Scattergl(
        x=xy[wrong, 0], y=xy[wrong, 1], mode="markers", name="mistake",
        customdata=np.stack([wrong, labels[wrong], predicted[wrong]], axis=1),
        marker=dict(size=8, color="rgba(0,0,0,0)", line=dict(width=1.5, color="black")),
        hovertemplate="#%{customdata[0]}: a %{customdata[1]}, read as %{customdata[2]} (a mistake)<extra></extra>"))
    if drawing is not None:
        fig.add_trace(go.Scatter(x=[drawing[0]], y=[drawing[1]], mode="markers", name="your drawing",
                                 marker=dict(symbol="star", size=22, color=ACCENT, line=dict(width=2, color="black")),
                                 hoverinfo="skip"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend=dict(itemsizing="constant"),
                      showlegend=drawing is None,  # beside a drawing the map is small: the hover names the digits
                      xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"),
                      clickmode="event+select", dragmode="lasso" if drawing is None else "pan")
    return fig
