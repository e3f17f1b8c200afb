"""Home: what the app is, a sample of MNIST, and the active model's card."""

from pathlib import Path

import numpy as np
import streamlit as st

from pages import active_model, deep_link, loaders
from pages.images import enlarge
from pages.model_card import model_card

deep_link.require_navigation()

st.title("✍️ mnist-studio")
st.markdown(
    "Draw a digit and watch a neural network read it as you draw. "
    "Retrain the network with your own hyperparameters and watch it learn, epoch by epoch. "
    "Then open its confusion matrix and click any cell to see the digits it got wrong."
)
st.page_link(Path(__file__).with_name("draw.py"), label="Start drawing", icon=":material/draw:")

st.subheader("A random sample of the MNIST test set")
data = loaders.test_set()
if data is not None:
    x_test, y_test = data
    if st.button("New sample", icon=":material/shuffle:") or "home_sample" not in st.session_state:
        st.session_state.home_sample = np.random.default_rng().choice(len(x_test), 16, replace=False)
    columns = st.columns(16)
    for column, index in zip(columns, st.session_state.home_sample):
        column.image(enlarge(x_test[index] / 255.0, 3), caption=str(y_test[index]))

clf = active_model.classifier()
if clf is not None:
    st.subheader(f"Active model: {clf.name}")
    model_card(clf.card)
