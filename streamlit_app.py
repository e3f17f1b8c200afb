"""mnist-studio: draw a digit, train a network, explore its mistakes.

The entry point only sets up navigation and the shared sidebar; each page is a file in pages/,
and what the pages share is in ui/.
"""

from pathlib import Path

import streamlit as st

from ui import access, active_model, deep_link, upload_limits

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="mnist-studio", page_icon="✍️", layout="wide")
upload_limits.install()

navigation = st.navigation([
    st.Page(PAGES / "home.py", title="Home", icon=":material/home:", default=True),
    st.Page(PAGES / "draw.py", title="Draw", icon=":material/draw:", url_path="draw"),
    st.Page(PAGES / "train.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page(PAGES / "explore.py", title="Explore", icon=":material/grid_on:", url_path="explore"),
    st.Page(PAGES / "models.py", title="Models", icon=":material/inventory_2:", url_path="models"),
])
deep_link.mark_navigation()
upload_limits.note_session(access.session())
active_model.sidebar_picker()
access.sidebar()
st.sidebar.caption("mnist-studio · MIT licence · MNIST by LeCun, Cortes & Burges (CC BY-SA 3.0)")
navigation.run()
