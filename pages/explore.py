"""Explore: the active model's confusion matrix; click a cell to see the digits behind it."""

import numpy as np
import pandas as pd
import streamlit as st

from mnist_core import evaluate_probabilities
from mnist_core.evaluate import cell_examples, confusion_sentences, plural
from mnist_core.gallery import FIRST_PAGE as PAGE_SIZE, GalleryError, images_for
from pages import active_model, charts, deep_link, loaders
from pages.images import enlarge
from pages.redact import without_paths

deep_link.require_navigation()

st.title("Explore the mistakes")
clf = active_model.classifier()
if clf is None:
    st.stop()
try:
    gallery = loaders.gallery(clf.run)
except GalleryError as exc:
    st.error(without_paths(exc))
    st.stop()
test_set = loaders.local_test_set()  # every digit when this machine has MNIST; else those the run stores
labels, probabilities = gallery.labels, gallery.probabilities
result = evaluate_probabilities(labels, probabilities)
st.caption(f"Model **{clf.name}**: {result.accuracy:.2%} test accuracy, {plural(result.errors, 'mistake')} in "
           f"{plural(len(labels), 'test image')}.")

matrix_col, side_col = st.columns([3, 2], gap="large")
with matrix_col:
    normalise = st.toggle("Row-normalised percentages", help="Each row sums to 100%: how often each true digit gets each answer.")
    event = st.plotly_chart(charts.confusion_matrix(result.confusion, normalise), key="confusion",
                            on_select="rerun", selection_mode="points", width="stretch")
with side_col:
    st.markdown("**Most frequent confusions**")
    for sentence in confusion_sentences(result):
        st.markdown(f"- {sentence}")
    st.markdown("**Per-class scores**")
    st.dataframe(pd.DataFrame({"digit": range(10), "precision": result.precision, "recall": result.recall,
                               "F1": result.f1, "images": result.support}).set_index("digit"),
                 column_config={k: st.column_config.NumberColumn(format="%.4f") for k in ("precision", "recall", "F1")})

points = event.selection.points if event and event.selection else []
clicked = tuple(int(v) for v in points[0]["customdata"]) if points else None
if clicked and clicked != st.session_state.get("last_click"):  # a selection persists across reruns
    st.session_state.cell_true, st.session_state.cell_pred = clicked
    st.session_state.cell_page = 1
st.session_state.last_click = clicked
top = result.top_confusions(1)
st.session_state.setdefault("cell_true", top[0][0] if top else 4)
st.session_state.setdefault("cell_pred", top[0][1] if top else 9)

st.subheader("Digits behind a cell")
c1, c2, c3, _ = st.columns([1, 1, 1, 3])
true = c1.selectbox("True digit", range(10), key="cell_true")
predicted = c2.selectbox("Predicted digit", range(10), key="cell_pred")
indices = cell_examples(labels, probabilities, true, predicted)
what = "correctly read" if true == predicted else "read as"
if not len(indices):
    st.info(f"No test image of a {true} was {what} {predicted}.")
    st.stop()
shown_indices = indices if test_set is not None else indices[np.isin(indices, gallery.indices)]
page_count = (len(shown_indices) - 1) // PAGE_SIZE + 1
page = c3.number_input(f"Page (of {page_count})", 1, page_count, key="cell_page") if page_count > 1 else 1
st.markdown(f"**{plural(len(indices), 'test image')}** of a **{true}** {what} **{predicted}**, most confident first"
            + ("" if len(shown_indices) == len(indices) else
               f" (the first {len(shown_indices)}: the rest are not stored with the run, and MNIST is not on this "
               "machine)") + ":")
shown = shown_indices[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
images, _ = images_for(shown, gallery, test_set)
for row in range(0, len(shown), 8):
    for column, index, image in zip(st.columns(8), shown[row:row + 8], images[row:row + 8]):
        column.image(enlarge(image / 255.0, 3), caption=f"#{index}: {probabilities[index, predicted]:.0%}")
