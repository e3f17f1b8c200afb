"""Each digit as a person writes it with a pen, in a unit box (x right, y down), and a number made
of them on a canvas: what tests and benchmarks draw when a real person is not at hand.

Shared by tests/reading/test_explain.py, the number e2e tests and bench/tools/screenshot.py.
"""

import numpy as np


def _ellipse(cx, cy, rx, ry, n=24):
    t = np.linspace(0, 2 * np.pi, n)
    return list(zip(cx + rx * np.sin(t), cy - ry * np.cos(t)))


# Each digit as pen strokes in a unit box; training.strokes.random_canvas_drawing draws them at a
# random size, place, pen width and polarity, as someone might on the Draw page.
DIGITS = {
    0: [_ellipse(0.5, 0.5, 0.32, 0.48)],
    1: [[(0.55, 0.0), (0.45, 1.0)]],
    2: [[(0.15, 0.25), (0.35, 0.03), (0.65, 0.03), (0.82, 0.25), (0.7, 0.5), (0.1, 0.97), (0.9, 0.97)]],
    3: [[(0.15, 0.1), (0.45, 0.0), (0.75, 0.1), (0.75, 0.35), (0.4, 0.48), (0.8, 0.62), (0.8, 0.88), (0.5, 1.0),
         (0.15, 0.9)]],
    4: [[(0.55, 0.0), (0.08, 0.65), (0.92, 0.65)], [(0.68, 0.3), (0.68, 1.0)]],
    5: [[(0.85, 0.02), (0.25, 0.02), (0.18, 0.45), (0.55, 0.38), (0.82, 0.6), (0.75, 0.9), (0.45, 1.0), (0.12, 0.9)]],
    6: [[(0.72, 0.0), (0.35, 0.3), (0.2, 0.7), (0.4, 0.98), (0.72, 0.85), (0.72, 0.6), (0.45, 0.5), (0.22, 0.68)]],
    7: [[(0.1, 0.03), (0.9, 0.03), (0.4, 1.0)]],
    8: [_ellipse(0.5, 0.25, 0.25, 0.24), _ellipse(0.5, 0.73, 0.3, 0.26)],
    9: [_ellipse(0.5, 0.27, 0.3, 0.26) + [(0.8, 0.27)], [(0.8, 0.27), (0.75, 1.0)]],
}


def number_strokes(text: str, height: float = 190, top: float = 45, left: float = 60,
                   gap: float = 40) -> list[list[tuple[float, float]]]:
    """The strokes of `text` (digits) written left to right, each digit `height` high and about
    0.6 of that wide, `gap` pixels apart, in canvas pixels."""
    strokes, x = [], left
    for digit in text:
        width = 0.6 * height
        strokes += [[(x + px * width, top + py * height) for px, py in stroke] for stroke in DIGITS[int(digit)]]
        x += width + gap
    return strokes
