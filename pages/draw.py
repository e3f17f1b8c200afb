"""Draw: a canvas whose prediction updates as you draw (one digit, or a whole number), or an uploaded
picture; teach it your handwriting."""

import streamlit as st

from mnist_core import DrawingError, NothingDrawnError
from mnist_core.runs.digit_map import MapError, place
from mnist_core.reading.explain import explain
from mnist_core.reading.number import read_number
from mnist_core.runs.gallery import GalleryError, images_for
from ui import active_model, charts, deep_link, loaders
from ui.drawing import canvas, number_card, teach, uploads
from ui.images import digit_row
from ui.redact import without_paths

deep_link.require_navigation()

st.title("Draw a digit or a number")
ONE_DIGIT, A_NUMBER = "One digit", "A number"
clf = active_model.classifier()
st.session_state.setdefault("canvas_round", 0)


def picture_to_read(drawing: canvas.Drawing, upload) -> tuple:
    """The upload if there is one, else the drawing, and where it came from; (None, …) before
    anything is drawn; DrawingError if it cannot be read."""
    if upload is not None:
        return uploads.decoded(upload), f"upload {upload.name} (remove it to read the canvas)"
    return drawing.image(), f"drawing ({drawing.strokes} stroke{'s' if drawing.strokes != 1 else ''})"


def next_drawing() -> None:
    st.session_state.canvas_round += 1  # a clean canvas for the next digit to teach


def job_state() -> tuple:
    """What decides whether the page polls: this session's job, and whether it waits or runs."""
    job = st.session_state.get("my_job")
    return job, job is not None and (job.active or job.waiting)


def show_on_map(prediction) -> None:
    """The drawing as a star on the map of the test set, and the test digits nearest to it."""
    try:
        digit_map, gallery = loaders.digit_map(clf.run), loaders.gallery(clf.run)
    except (MapError, GalleryError) as exc:
        st.caption(f"{without_paths(exc)}.")
        return
    features = clf.final_features(prediction.network_input)
    if features is None or features.shape != digit_map.mean.shape:
        st.caption(f"{clf.name} was exported without the features that place a drawing on its map.")
        return
    test_set = loaders.local_test_set()
    among = None if test_set is not None else gallery.indices  # only digits whose images are at hand
    where, nearest = place(digit_map, features, among)
    st.plotly_chart(charts.digit_map(digit_map.xy, gallery.labels, gallery.probabilities.argmax(axis=1), where,
                                     height=380), width="stretch", key="drawing-on-map")
    st.caption("Its nearest test digits" + (" (of those stored with the model)" if among is not None else "") + ":")
    images, _ = images_for(nearest, gallery, test_set)
    digit_row(images, [f"a {gallery.labels[index]}" for index in nearest], factor=2)


def read_or_say(drawing: canvas.Drawing, upload, read, hint: str):
    """(read(picture), the picture, where it came from) for the upload or the drawing; None, after
    saying why, when there is nothing to read (`hint`: what to do before the first stroke)."""
    try:
        image, source = picture_to_read(drawing, upload)
    except DrawingError as exc:
        st.error(f"Cannot read {upload.name if upload else 'the drawing'}: {exc}")
        return None
    try:
        if image is None:
            raise NothingDrawnError("Nothing drawn yet")
        return read(image), image, source
    except NothingDrawnError:
        if upload is None:
            st.info(hint)
        else:  # the hint would say to draw, with the picture in plain view in the uploader
            st.warning(f"Nothing to read in {upload.name}: the picture is blank or one flat colour.")
    except DrawingError as exc:
        st.warning(str(exc))
    return None


def show_answer(drawing: canvas.Drawing, upload):
    """The answer for the upload or the drawing, why, Right / No, and inside the network; the
    prediction shown, or None."""
    read = read_or_say(drawing, upload, clf.predict, "✏️ Draw a digit in the black box: the prediction appears as you draw.")
    if read is None:
        return None
    prediction, _, source = read
    why = explain(clf.reader, prediction.model_input, probabilities=prediction.probabilities)
    st.html(charts.answer_card(prediction, f"Model {clf.name} · from the {source}", why))
    round_, this = st.session_state.canvas_round, teach.drawing_id(prediction)
    # An upload stays in the uploader after it is added: its key must not change with the round.
    teach.feedback(prediction, f"upload-{this}" if upload is not None else f"{round_}-{this}", str(round_),
                   on_added=next_drawing)
    if st.toggle("Inside the network", help="What each convolution detects in your drawing: one small "
                                            "picture per filter, bright where it responds."):
        layers = clf.feature_maps(prediction.network_input)
        if not layers:
            st.caption(f"{clf.name} has no convolutions to show (or was exported without them).")
        for number, maps in enumerate(layers, start=1):
            st.image(charts.feature_map_tiles(maps), caption=f"convolution {number}: {maps.shape[2]} "
                     f"filters, {maps.shape[0]}×{maps.shape[1]} each")
    if st.toggle("Where is it on the map", help="Your drawing among the test digits the network sees alike "
                                                "(Explore has the whole map)"):
        show_on_map(prediction)
    return prediction


def show_number(drawing: canvas.Drawing, upload):
    """A number read digit by digit, its boxes over the ink, each digit with Right / No; the reading, or None."""
    strokes = drawing.objects if upload is None else None  # an upload is read from its picture alone
    read = read_or_say(drawing, upload, lambda image: read_number(clf, image, strokes),
                       "✏️ Write a number in the black box, its digits side by side: it is read as you write.")
    if read is None:
        return None
    reading, _, source = read
    st.html(number_card.number_card(reading, f"Model {clf.name} · from the {source}"))
    round_ = st.session_state.canvas_round
    for position, (column, digit) in enumerate(zip(st.columns(len(reading.digits)), reading.digits), start=1):
        with column:
            st.html(number_card.digit_figure(digit, position))
            with st.popover("Teach", icon=":material/school:", help="Right, or what it really is: teach the model"):
                teach.feedback(digit.prediction, f"{round_}-{teach.drawing_id(digit.prediction)}",
                               f"{round_}-{position}")
    return reading


def clear_and_upload(what: str):
    """The Clear button (a clean canvas) and the uploader for a picture of `what`; the upload or None."""
    if st.button("Clear", icon=":material/delete:"):
        next_drawing()
        st.rerun(scope="fragment")
    return st.file_uploader(f"…or upload a picture of {what}", type=["png", "jpg", "jpeg", "gif", "bmp", "webp"])


def read_one_digit() -> None:
    left, right = st.columns([1, 1], gap="large")
    with left:
        pen_width = st.slider("Pen width", 6, 40, 18,
                              help="MNIST digits have strokes about a tenth of their height.")
        # On a phone the columns stack: the answer's gist goes above the canvas, in a line of the
        # same height from the start, written once a run (until then the last run's line stays).
        in_view = st.empty()
        drawing = canvas.drawing_canvas(pen_width, key=f"canvas-{st.session_state.canvas_round}")
        upload = clear_and_upload("a digit")
    if clf is None:
        in_view.html(charts.answer_on_a_phone())
        return
    with right:
        prediction = show_answer(drawing, upload)
    in_view.html(charts.answer_on_a_phone(prediction))


def read_a_number() -> None:
    phone = canvas.on_a_phone()
    pen_width = st.slider("Pen width", 4, 40, 8 if phone else 18, key=f"number-pen-{phone}",
                          help="Write the digits side by side, each about as high as the canvas.")
    in_view = st.empty()  # the number above the canvas on a phone, as for one digit
    drawing = canvas.drawing_canvas(pen_width, key=f"number-{st.session_state.canvas_round}",
                                    size=canvas.PHONE_WIDE if phone else canvas.WIDE)
    upload = clear_and_upload("a number")
    if clf is None:
        in_view.html(number_card.number_on_a_phone())
        return
    in_view.html(number_card.number_on_a_phone(show_number(drawing, upload)))


@st.fragment
def draw_and_read() -> None:
    """The canvas and its answer: a stroke reruns only this, not the page around it."""
    mode = st.segmented_control("Read", [ONE_DIGIT, A_NUMBER], default=ONE_DIGIT, key="read_mode",
                                label_visibility="collapsed")
    if mode == A_NUMBER:
        read_a_number()
    else:  # also when the chosen button is pressed again (nothing chosen)
        read_one_digit()
    if teach.changed_since_shown():
        st.rerun(scope="app")  # a digit was added: the panel below counts it


# A fine-tune takes seconds to a minute: while this session's waits or runs, the panel polls.
st.session_state.seen_job = job_state()


@st.fragment(run_every=1.0 if st.session_state.seen_job[1] else None)
def digits_panel() -> None:
    """The person's digits and the fine-tune: its own fragment, so that a stroke does not redraw it."""
    st.subheader("Teach it your handwriting")
    teach.panel()
    if job_state() != st.session_state.seen_job:
        st.rerun(scope="app")  # a fine-tune began or ended: start or stop polling


draw_and_read()
if clf is not None:
    digits_panel()
canvas.keep_toolbar_off_the_canvas()
