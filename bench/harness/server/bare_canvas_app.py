"""Baseline for the stroke-latency benchmark: the same canvas, doing nothing with the drawing.

It shows only how many strokes arrived, so the benchmark can see the round trip end. `?canvas=wide`: the
Draw page's canvas for a number (840x280) instead of a digit's.
"""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

st.set_page_config(layout="wide")  # as the app: a wide canvas fits the page's column
width = 840 if st.query_params.get("canvas") == "wide" else 280
canvas = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000", height=280, width=width,
                   drawing_mode="freedraw", update_streamlit=True, return_image_data=True, key="canvas-0")
strokes = len((canvas.json_data or {}).get("objects", []))
st.caption(f"drawing ({strokes} stroke{'s' if strokes != 1 else ''})")
