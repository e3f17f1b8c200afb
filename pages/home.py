"""Home: what the app is, a sample of MNIST, and the active model's card."""

from pathlib import Path

import numpy as np
import streamlit as st

from ui import active_model, deep_link, loaders
from ui.images import digit_row
from ui.model_card import model_card

deep_link.require_navigation()

st.title("✍️ mnist-studio")
st.markdown(
    "Draw a digit and watch a neural network read it as you draw. "
    "Retrain the network with your own hyperparameters and watch it learn, epoch by epoch. "
    "Then open its confusion matrix and click any cell to see the digits it got wrong."
)
st.page_link(Path(__file__).with_name("draw.py"), label="Start drawing", icon=":material/draw:")

st.subheader("Digits from the MNIST test set")
images, labels, _ = loaders.mnist_sample()
if st.button("New sample", icon=":material/shuffle:") or "home_sample" not in st.session_state:
    st.session_state.home_sample = np.random.default_rng().choice(len(labels), 16, replace=False)
sample = st.session_state.home_sample
digit_row(images[sample], [str(label) for label in labels[sample]])
st.caption(f"{len(labels)} test digits ship with the app (MNIST: LeCun, Cortes & Burges, CC BY-SA 3.0).")

clf = active_model.classifier()
if clf is not None:
    st.subheader(f"Active model: {clf.name}")
    model_card(clf.card)
