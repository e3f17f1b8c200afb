"""Baseline for the stroke-latency benchmark: the same canvas, doing nothing with the drawing.

It shows only how many strokes arrived, so the benchmark can see the round trip end.
"""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

canvas = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=280, width=280,
                   drawing_mode="freedraw", update_streamlit=True, return_image_data=True, key="canvas-0")
strokes = len((canvas.json_data or {}).get("objects", []))
st.caption(f"drawing ({strokes} stroke{'s' if strokes != 1 else ''})")
