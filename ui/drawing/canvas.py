"""The Draw page's canvas (streamlit-drawable-canvas): its value checked before it is decoded,
and the fix for its toolbar."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnist_core.reading.preprocess import read_canvas_png

SIZE = 280  # pixels a side of the one-digit canvas; the PNG a real canvas sends has exactly its size
WIDE, PHONE_WIDE = (840, 280), (360, 120)  # a number's canvas, three times as wide as high, on a phone too

# Why the canvas needs it: see the script's opening comment. The script holds no HTML tag, not even
# in a comment: st.html's sanitiser parses tags inside <script> and then drops the script.
TOOLBAR_FIX = "<script>" + Path(__file__).with_name("canvas_toolbar_fix.js").read_text() + "</script>"


@dataclass(frozen=True)
class Drawing:
    png: bytes | None  # what the browser sent as the drawing's image; None before the first stroke
    size: tuple[int, int] = (SIZE, SIZE)  # (width, height): the canvas's, so the PNG's
    objects: list | None = None  # the strokes as the canvas sent them (fabric.js paths), unchecked

    @property
    def strokes(self) -> int:
        return len(self.objects) if self.objects is not None else 0

    def image(self) -> np.ndarray | None:
        """The drawing as RGBA; DrawingError if the browser sent anything but the canvas's PNG."""
        return None if self.png is None else read_canvas_png(self.png, self.size)


def on_a_phone() -> bool:
    """Whether the browser says it is a phone: a number's canvas must fit its screen."""
    return "Mobi" in (st.context.headers.get("User-Agent") or "")


def drawing_canvas(stroke_width: int, key: str, size: tuple[int, int] = (SIZE, SIZE)) -> Drawing:
    """The canvas, white ink on black, `size` (width, height) pixels; what it returns is read only
    through Drawing.image (and a number's strokes through mnist_core.reading.number, which checks them).

    Its value comes from the visitor's browser, which can send anything in its place. The
    component itself would decode any PNG it is sent (`image_data`, at any size: gigabytes for
    a hand-made 80-megapixel PNG), and reads the value's JSON without checking its shape.
    """
    try:
        result = st_canvas(
            stroke_width=stroke_width, stroke_color="#FFFFFF", background_color="#000000",
            height=size[1], width=size[0], drawing_mode="freedraw", update_streamlit=True, return_image_data=True,
            key=key,
        )
    except (AttributeError, KeyError, TypeError):  # a value of the wrong shape: no canvas sends one
        return Drawing(None, size)
    objects = result.json_data.get("objects") if isinstance(result.json_data, dict) else None
    try:
        png = result.image_bytes  # base64-decoded only: the websocket's size limit bounds it
    except (AttributeError, ValueError):  # not a base64 data URL (binascii.Error is a ValueError)
        png = b""
    return Drawing(png, size, objects if isinstance(objects, list) else None)


def keep_toolbar_off_the_canvas() -> None:
    st.html(TOOLBAR_FIX, unsafe_allow_javascript=True)
