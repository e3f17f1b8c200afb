"""mnist-studio: draw a digit, train a network, explore its mistakes.

The entry point only sets up navigation and the shared sidebar; each page is a file in pages/.
"""

import streamlit as st

from pages import ui

st.set_page_config(page_title="mnist-studio", page_icon="✍️", layout="wide")

navigation = st.navigation([
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:", url_path="draw"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page("pages/explore.py", title="Explore", icon=":material/grid_on:", url_path="explore"),
    st.Page("pages/models.py", title="Models", icon=":material/inventory_2:", url_path="models"),
])
ui.model_picker()
st.sidebar.caption("mnist-studio · MIT licence · MNIST by LeCun, Cortes & Burges (CC BY-SA 3.0)")
navigation.run()
