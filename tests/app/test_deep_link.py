"""ui/deep_link.py writes a private attribute of Streamlit's: fail loudly when it changes."""

import inspect

from streamlit.commands import navigation
from streamlit.runtime import pages_manager
from streamlit.runtime.scriptrunner import script_runner


def test_streamlit_still_has_the_legacy_pages_flag_deep_link_relies_on():
    """ui/deep_link.py sets PagesManager.uses_pages_directory = False so that a deep link
    runs through the entry point. If this fails, Streamlit changed how it decides between a
    legacy `pages/` app and st.navigation: find the new switch and update ui/deep_link.py."""
    assert "uses_pages_directory" in vars(pages_manager.PagesManager), "PagesManager.uses_pages_directory is gone"
    # the script runner runs the page file itself (legacy mode) when the flag is true ...
    assert "if PagesManager.uses_pages_directory:" in inspect.getsource(script_runner)
    # ... and st.navigation switches it off the same way deep_link does
    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation)
