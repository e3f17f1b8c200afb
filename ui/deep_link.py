"""Deep links (/draw, /explore…) as the first request after the server starts.

Streamlit treats a `pages/` folder beside the entry point as a legacy multipage app until
`st.navigation` has run once in the process; until then a deep link runs the page file
directly, without the entry point and its sidebar. The folder name is fixed by the project's
shape, so each page calls `require_navigation()` first: when the entry point did not run, it
switches that legacy mode off and reruns, and the rerun goes through streamlit_app.py, whose
st.Page for the same URL path has the same page hash, so the person lands on the page they
asked for.

This writes `PagesManager.uses_pages_directory`, a private class attribute of Streamlit's
(st.navigation writes the same value); tests/test_deep_link.py fails if Streamlit drops it.
"""

import threading

import streamlit as st

_this_run = threading.local()  # Streamlit runs each script run in a thread of its own


def mark_navigation() -> None:
    """Called by streamlit_app.py: this run came through the entry point's st.navigation."""
    _this_run.navigated = True


def require_navigation() -> None:
    """Rerun through the entry point if this page was run on its own (see the module's docstring)."""
    if not getattr(_this_run, "navigated", False):
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
