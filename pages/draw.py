"""Draw: a canvas whose prediction updates as you draw, or an uploaded picture."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from mnist_core import DrawingError, NothingDrawnError, read_image
from pages import active_model, canvas, charts, deep_link

deep_link.require_navigation()

st.title("Draw a digit")
clf = active_model.classifier()
st.session_state.setdefault("canvas_round", 0)


@st.fragment
def draw_and_read() -> None:
    """The canvas and its answer: a stroke reruns only this, not the page around it."""
    left, right = st.columns([1, 1], gap="large")
    with left:
        stroke = st.slider("Pen width", 6, 40, 18, help="MNIST digits have strokes about a tenth of their height.")
        drawing = st_canvas(
            stroke_width=stroke, stroke_color="#FFFFFF", background_color="#000000",
            height=280, width=280, drawing_mode="freedraw", update_streamlit=True, return_image_data=True,
            key=f"canvas-{st.session_state.canvas_round}",
        )
        if st.button("Clear", icon=":material/delete:"):
            st.session_state.canvas_round += 1
            st.rerun(scope="fragment")
        upload = st.file_uploader("…or upload a picture of a digit", type=["png", "jpg", "jpeg", "gif", "bmp", "webp"])

    strokes = len((drawing.json_data or {}).get("objects", []))
    image, source = drawing.image_data, f"drawing ({strokes} stroke{'s' if strokes != 1 else ''})"
    if upload is not None:
        try:
            image, source = read_image(upload.getvalue()), f"upload {upload.name} (remove it to read the canvas)"
        except DrawingError as exc:
            image = None
            right.error(f"Cannot read {upload.name}: {exc}")

    with right:
        if clf is None:
            return
        try:
            if image is None:
                raise NothingDrawnError("Nothing drawn yet")
            prediction = clf.predict(image)
        except NothingDrawnError:
            st.info("✏️ Draw a digit in the black box: the prediction appears as you draw.")
        except DrawingError as exc:
            st.warning(str(exc))
        else:
            st.html(charts.answer_card(prediction, f"Model {clf.name} · from the {source}"))


draw_and_read()
canvas.keep_toolbar_off_the_canvas()
