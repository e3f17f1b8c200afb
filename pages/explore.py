"""Explore: the active model's confusion matrix, the test labels it disputes, a map of the test set,
and how another run compares; click a cell or a point to see the digits behind it. Everything
comes from what runs store."""

import numpy as np
import pandas as pd
import streamlit as st

from mnist_core import evaluate_probabilities
from mnist_core.evaluate import cell_examples, compare_probabilities, confusion_sentences, plural, suspicious_labels
from mnist_core.runs.digit_map import MapError
from mnist_core.runs.gallery import FIRST_PAGE as PAGE_SIZE, GalleryError, images_for
from ui import active_model, charts, deep_link, loaders
from ui.images import digit_row, enlarge
from ui.redact import without_paths

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


def digit_grid(indices, source, captions) -> None:
    """Test digits side by side, each with its caption."""
    images, _ = images_for(indices, source, test_set)
    digit_row(images, captions)


def clicked_cell(event, key: str):
    """The (true, predicted) cell just clicked on a matrix, once (a selection persists across reruns)."""
    points = event.selection.points if event and event.selection else []
    clicked = tuple(int(v) for v in points[0]["customdata"]) if points else None
    new = clicked if clicked and clicked != st.session_state.get(key) else None
    st.session_state[key] = clicked
    return new


def confusion_tab() -> None:
    matrix_col, side_col = st.columns([3, 2], gap="large")
    with matrix_col:
        normalise = st.toggle("Row-normalised percentages",
                              help="Each row sums to 100%: how often each true digit gets each answer.")
        event = st.plotly_chart(charts.confusion_matrix(result.confusion, normalise), key="confusion",
                                on_select="rerun", selection_mode="points", width="stretch",
                                config=charts.CLICK_ONLY)
    with side_col:
        st.markdown("**Most frequent confusions**")
        for sentence in confusion_sentences(result):
            st.markdown(f"- {sentence}")
        st.markdown("**Per-class scores**")
        st.dataframe(pd.DataFrame({"digit": range(10), "precision": result.precision, "recall": result.recall,
                                   "F1": result.f1, "images": result.support}).set_index("digit"),
                     column_config={k: st.column_config.NumberColumn(format="%.4f")
                                    for k in ("precision", "recall", "F1")})
    if cell := clicked_cell(event, "last_click"):
        st.session_state.cell_true, st.session_state.cell_pred = cell
        st.session_state.cell_page = 1
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
        return
    stored = indices if test_set is not None else indices[np.isin(indices, gallery.indices)]
    page_count = (len(stored) - 1) // PAGE_SIZE + 1
    page = c3.number_input(f"Page (of {page_count})", 1, page_count, key="cell_page") if page_count > 1 else 1
    st.markdown(f"**{plural(len(indices), 'test image')}** of a **{true}** {what} **{predicted}**, most confident "
                "first" + ("" if len(stored) == len(indices) else
                           f" (the first {len(stored)}: the rest are not stored with the run, and MNIST is not "
                           "on this machine)") + ":")
    shown = stored[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    digit_grid(shown, gallery, [f"#{i}: {probabilities[i, predicted]:.0%}" for i in shown])


def disputed_tab() -> None:
    disputed = suspicious_labels(labels, probabilities, limit=48)
    st.markdown(f"Test digits whose label **{clf.name}** disputes: it gives the label under 5% and answers "
                "something else, most confident first. Some are its mistakes; some are MNIST's, which has a "
                "handful of well-known mislabelled test digits.")
    if not disputed:
        st.info("The model disputes no test label.")
        return
    digit_grid([d["index"] for d in disputed], gallery,
               [f"#{d['index']}: labelled {d['given']}, read as {d['predicted']} ({d['confidence']:.0%})"
                for d in disputed])


def map_tab() -> None:
    try:
        digit_map = loaders.digit_map(clf.run)
    except MapError as exc:
        st.info(f"{without_paths(exc)}. Runs trained, fine-tuned or imported now carry one.")
        return
    st.markdown(f"Each test digit is a point, near the digits **{clf.name}** sees alike (t-SNE of the features "
                "its last layer reads), coloured by its label; black rings mark its mistakes. Click a point to "
                "see that digit, or draw a lasso round a group to see them all.")
    predicted = probabilities.argmax(axis=1)
    event = st.plotly_chart(charts.digit_map(digit_map.xy, labels, predicted), key="map", on_select="rerun",
                            selection_mode=("points", "lasso", "box"), width="stretch")
    points = event.selection.points if event and event.selection else []
    traces = charts.map_traces(labels, predicted)
    chosen = sorted({int(traces[p["curve_number"]][p["point_index"]]) for p in points
                     if p.get("curve_number", len(traces)) < len(traces) and "point_index" in p})
    images, found = images_for(chosen, gallery, test_set)
    missing = "" if found.all() else " (the others' images are not stored with the run, and MNIST is not on this machine)"
    if len(chosen) == 1:
        i = chosen[0]
        left, right = st.columns([1, 3])
        if found[0]:
            left.image(enlarge(images[0] / 255.0, 6), caption=f"test digit #{i}")
        right.markdown(f"Test digit #{i}: labelled **{labels[i]}**, read as **{predicted[i]}** "
                       f"({probabilities[i, predicted[i]]:.1%}).{missing.replace('others', 'digit')}")
        right.html(charts.probability_bars(probabilities[i]))
    elif chosen:
        at_hand = [i for i, ok in zip(chosen, found) if ok]
        wrong = [i for i in chosen if predicted[i] != labels[i]]
        shown = sorted(at_hand, key=lambda i: predicted[i] == labels[i])[:48]  # mistakes first
        st.markdown(f"**{plural(len(chosen), 'test digit')}** selected, {plural(len(wrong), 'mistake')}. "
                    f"Shown: {len(shown)}, mistakes first{missing}.")
        digit_grid(shown, gallery, [f"#{i}: a {labels[i]}, read {predicted[i]}" for i in shown])


def compare_tab() -> None:
    others = [run for run in loaders.usable_runs() if run.name != clf.name]
    if not others:
        st.info("Train another run to compare it with this one.")
        return
    other = st.selectbox("Compare with", others, format_func=lambda run: run.name, key="compare_with")
    try:
        other_gallery = loaders.gallery(other)
    except GalleryError as exc:
        st.error(without_paths(exc))
        return
    if not np.array_equal(other_gallery.labels, labels):
        st.error(f"{other.name} was evaluated on a different test set.")
        return
    a, b = clf.name, other.name
    comparison = compare_probabilities(labels, probabilities, other_gallery.probabilities)
    st.markdown(f"**{a}** {comparison.a.accuracy:.2%} → **{b}** {comparison.b.accuracy:.2%}: {b} fixed "
                f"{plural(len(comparison.fixed), 'test image')} that {a} got wrong and broke "
                f"{len(comparison.broke):,} that it got right.")
    matrix_col, curves_col = st.columns([3, 2], gap="large")
    event = matrix_col.plotly_chart(charts.difference_matrix(comparison.difference, a, b), key="difference",
                                    on_select="rerun", selection_mode="points", width="stretch",
                                    config=charts.CLICK_ONLY)
    curves_col.plotly_chart(charts.compare_curves({a: clf.card.history,
                                                   b: other.card.history}, "val_accuracy"),
                            width="stretch")
    if cell := clicked_cell(event, "last_difference_click"):
        st.session_state.difference_cell = cell
    cell = st.session_state.get("difference_cell")
    in_cell = (lambda i: labels[i] == cell[0] and cell[1] in (probabilities[i].argmax(),
                                                               other_gallery.probabilities[i].argmax())) if cell else None
    for title, indices, source, run_probabilities in (
            (f"Fixed by {b}", comparison.fixed, gallery, other_gallery.probabilities),
            (f"Broken by {b}", comparison.broke, other_gallery, other_gallery.probabilities)):
        chosen = [i for i in indices if in_cell is None or in_cell(i)][:PAGE_SIZE]
        st.subheader(f"{title}: {len(chosen) if cell else len(indices):,}"
                     + (f" (true {cell[0]}, read as {cell[1]} by either)" if cell else ""))
        digit_grid(chosen, source, [f"#{i}: {b} reads {int(run_probabilities[i].argmax())}" for i in chosen])


confusion, disputed, mapped, compared = st.tabs(["Confusion matrix", "Labels MNIST may have wrong",
                                                 "Map of the test set", "Run against run"])
with confusion:
    confusion_tab()
with disputed:
    disputed_tab()
with mapped:
    map_tab()
with compared:
    compare_tab()
