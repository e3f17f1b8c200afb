"""Images for st.image."""

from collections.abc import Sequence

import numpy as np
import streamlit as st


def enlarge(image: np.ndarray, factor: int = 4) -> np.ndarray:
    """Nearest-neighbour upscaling, so 28x28 pixels stay crisp squares in the browser."""
    return np.kron(np.clip(image, 0, 1), np.ones((factor, factor), np.float32))


def digit_row(images: Sequence[np.ndarray], captions: Sequence[str], factor: int = 3) -> None:
    """Digits (uint8, 0-255) side by side, each with its caption. One st.image of them all wraps to
    the screen's width; st.columns would stack them one under another on a phone."""
    st.image([enlarge(image / 255.0, factor) for image in images], caption=list(captions))
