"""A number's answer as HTML: the number in large type, each digit's box over the ink, and each
digit as the network saw it (mnist_core.reading.number reads it; this only draws).

HTML and one small PNG rather than Streamlit elements and a chart, for the reason the one-digit
answer card gives (ui/charts.py): it is redrawn on every stroke.
"""

import html

import numpy as np
from PIL import Image

from ui.charts import ACCENT, MUTED, phone_line, png_data_uri

UNSURE, NOT_A_DIGIT = "#e8a317", "#808495"  # amber: read, but not surely; gray: no digit at all
INK_SCALE = 2  # the ink is sent at half the canvas's size: the boxes need no more


def digit_colour(digit) -> str:
    return NOT_A_DIGIT if not digit.prediction.is_digit else UNSURE if digit.unsure else ACCENT


def digit_text(digit) -> str:
    """What a digit of the number says in one line: "7 · 99%", "7? · 62%" or "not a digit"."""
    p = digit.prediction
    if not p.is_digit:
        return "not a digit"
    return f"{p.digit}{'?' if digit.unsure else ''} · {p.confidence:.0%}"


def boxes_over_ink(reading) -> str:
    """The picture's ink, gray on white, the width of the page, and each digit's box over it in its
    colour (dashed when unsure or no digit) with what it was read as. Boxes are placed in percent of
    the picture, so they stay on the ink at any width (st.html keeps no SVG)."""
    ink = reading.ink
    height, width = ink.shape
    small = Image.fromarray(np.round(255 - 200 * ink / max(float(ink.max()), 1e-6)).astype(np.uint8))
    small = small.reduce(INK_SCALE) if min(height, width) >= 4 * INK_SCALE else small
    boxes = []
    for digit in reading.digits:
        x0, y0, x1, y1 = digit.box
        colour = digit_colour(digit)
        line = "dashed" if digit.unsure or not digit.prediction.is_digit else "solid"
        label = html.escape(str(digit.prediction.digit) if digit.prediction.is_digit else "?")
        boxes.append(f"<div data-testid='number-box' style='position:absolute;left:{100 * x0 / width:.2f}%;"
                     f"top:{100 * y0 / height:.2f}%;width:{100 * (x1 - x0) / width:.2f}%;"
                     f"height:{100 * (y1 - y0) / height:.2f}%;border:2px {line} {colour};box-sizing:border-box'>"
                     f"<span style='position:absolute;left:2px;top:-1.4rem;color:{colour};font-weight:700'>"
                     f"{label}</span></div>")
    return (f"<div style='position:relative;width:100%;max-width:{min(width, 600)}px;margin-top:1.6rem'>"
            f"<img src='{png_data_uri(np.asarray(small))}' alt='your drawing, each digit boxed' "
            f"style='width:100%;display:block;border:1px solid #ddd'>{''.join(boxes)}</div>")


def number_card(reading, caption: str) -> str:
    """The number, the boxes over the ink and the caption (the digits' own figures are drawn in
    columns by the page, each above its Right / No)."""
    digits = "".join(f"<span style='color:{digit_colour(d) if d.unsure or not d.prediction.is_digit else 'inherit'}'>"
                     f"{d.prediction.digit if d.prediction.is_digit else '?'}</span>" for d in reading.digits)
    unsure = sum(d.unsure or not d.prediction.is_digit for d in reading.digits)
    note = (f"<div style='font-size:0.875rem;color:{MUTED}'>{unsure} of its {len(reading.digits)} digits are "
            "unsure or no digit: marked in amber or gray</div>" if unsure else "")
    return (f"<div data-testid='number' style='font-size:4.5rem;font-weight:700;line-height:1.1;"
            f"letter-spacing:0.05em'>{digits}</div>{note}{boxes_over_ink(reading)}"
            f"<p style='font-size:0.875rem;color:{MUTED};margin-top:0.25rem'>{html.escape(caption)}</p>")


def digit_figure(digit, position: int) -> str:
    """One digit of the number: the 28x28 the network saw and what it read."""
    return (f"<figure style='margin:0' data-testid='number-digit'><img src='{png_data_uri(digit.prediction.network_input)}' "
            f"width='84' height='84' alt='digit {position} as the network saw it' "
            f"style='image-rendering:pixelated;border:2px solid {digit_colour(digit)}'>"
            f"<figcaption style='font-size:1rem;font-weight:600'>{html.escape(digit_text(digit))}</figcaption></figure>")


def number_on_a_phone(reading=None) -> str:
    """The number in one line above the canvas on a phone (charts.phone_line)."""
    if reading is None:
        return phone_line("Write a number below")
    return phone_line(f"Reads <b style='font-size:2rem'>{html.escape(reading.number)}</b>")
