"""The Draw page's canvas (streamlit-drawable-canvas) and the fix for its toolbar."""

from pathlib import Path

import streamlit as st

# Why the canvas needs it: see the script's opening comment. The script holds no HTML tag, not even
# in a comment: st.html's sanitiser parses tags inside <script> and then drops the script.
TOOLBAR_FIX = "<script>" + Path(__file__).with_name("canvas_toolbar_fix.js").read_text() + "</script>"


def keep_toolbar_off_the_canvas() -> None:
    st.html(TOOLBAR_FIX, unsafe_allow_javascript=True)
