"""Pictures uploaded on the Draw page, decoded once per file.

The uploader hands the same file to every rerun of the page (each stroke, each slider move);
decoding it once keeps a large picture from costing its decoding again and again.
"""

import numpy as np
import streamlit as st

from mnist_core import DrawingError, read_image


def decoded(upload) -> np.ndarray | None:
    """The uploaded file as an image (see read_image for the limits), None without one;
    DrawingError if it is not a picture that can be read."""
    if upload is None:
        st.session_state.pop("decoded_upload", None)
        return None
    cached = st.session_state.get("decoded_upload")
    if cached is None or cached[0] != upload.file_id:
        try:
            cached = (upload.file_id, read_image(upload.getvalue()), None)
        except DrawingError as exc:
            cached = (upload.file_id, None, str(exc))
        st.session_state.decoded_upload = cached
    _, image, problem = cached
    if problem is not None:
        raise DrawingError(problem)
    return image
