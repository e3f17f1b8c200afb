"""Any picture of a digit → the 28x28 input an MNIST model expects, made the way MNIST was.

MNIST digits were cropped to their ink, scaled so the longer side is 20 px (keeping the aspect
ratio, anti-aliased), placed in a 28x28 field and shifted so the centre of mass sits at the
centre. A canvas drawing put through a plain resize looks nothing like that, which is why so
many MNIST demos misread digits drawn small or off-centre.
"""

import io
import struct
from contextlib import contextmanager

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

FIELD, BOX = 28, 20
CENTRE = 14.0  # MNIST's mean centre of mass, in pixel-index coordinates
INK_THRESHOLD = 0.1  # of the full ink range: fainter pixels count as background for the crop
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")  # what pictures are read; by content, not by name
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"}  # the files a folder is searched for
MAX_PIXELS = 4096 * 4096  # the largest picture read at all (a phone photo has 12 megapixels)
MAX_DECODED_PIXELS = 2048 * 2048  # the most one is decoded to, 16 MB as RGBA (see read_image)
MAX_SIDE = 1024  # then it is scaled down to this: the digit ends up 20 pixels tall anyway
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_INK_FRACTION = 0.04  # a drawing whose longer side is below this share of the image is a dot
# So is one below this share that is a round blob, ink over half its box (a tap of a wide pen); no
# digit of the real-handwriting bench's 6,332 read right is (bench/README.md)
BLOB_FRACTION, BLOB_FILL = 0.2, 0.5
THICKEN = 0.5  # how far thicken() moves an input towards its 3x3 dilation


class DrawingError(ValueError):
    """The image holds no readable digit; the message tells the person what to do."""


class NothingDrawnError(DrawingError):
    """The image is blank (or a single flat colour)."""


def _border(image: np.ndarray) -> np.ndarray:
    """The pixels along an image's four edges: what tells its background."""
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def ink_map(image: np.ndarray) -> np.ndarray:
    """A float H x W map, 0 = background, 1 = full ink, from gray, RGB or RGBA of either polarity.

    On a transparent background (as the drawable canvas returns by default) the ink is the alpha
    channel, whatever its colour. Otherwise the background is the colour of the border and ink
    is the distance from it, so dark-on-light and light-on-dark give the same map; pixels that
    are partly transparent there (a screenshot's rounded corners) count as that much background.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)) or min(image.shape[:2]) < 1:
        raise DrawingError(f"expected a gray, RGB or RGBA image, got an array of shape {image.shape}")
    if image.dtype == np.uint8:
        full = 255.0
    else:
        if image.dtype.kind not in "biuf" or (image.dtype.kind == "f" and not np.isfinite(image).all()):
            raise DrawingError("expected an image of finite numbers: this array holds NaN, infinity or non-numbers")
        brightest = float(image.max(initial=0))
        full = 1.0 if brightest <= 1.0 else 255.0 if brightest <= 255 else 65535.0
    opacity = None
    if image.ndim == 3 and image.shape[2] == 4:
        # The alpha channel is checked before any conversion: a canvas image is a quarter alpha.
        alpha = image[..., 3]
        if np.median(_border(alpha)) < full:
            return alpha.astype(np.float32) / np.float32(full)
        if alpha.min() < full:
            opacity = alpha.astype(np.float32) / np.float32(full)
    if image.ndim == 3 and image.dtype == np.uint8 and image.flags.c_contiguous:
        # Pillow's luma (ITU-R 601-2, the weights below; alpha ignored), in C: a fifth of the cost of
        # float arithmetic on an opaque canvas picture, the largest step of reading a stroke
        gray = np.asarray(Image.fromarray(image).convert("L"), np.float32)
    else:
        gray = image[..., :3].astype(np.float32) if image.ndim == 3 else image.astype(np.float32)
        if gray.ndim == 3:
            gray = gray @ np.array([0.299, 0.587, 0.114], np.float32)
    gray /= np.float32(full)  # in place, as below: allocating each canvas-sized result costs as much as computing it
    gray -= np.median(_border(gray))
    if opacity is not None:
        gray *= opacity
    return np.abs(gray, out=gray)


def to_model_input(image: np.ndarray) -> np.ndarray:
    """28x28 float32 in [0, 1], ink high, centred by mass; raises DrawingError if unreadable."""
    return fit_ink(ink_map(image))


def find_ink(ink: np.ndarray, what: str = "draw a digit") -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """An ink map's ink (over INK_THRESHOLD of its peak), the rows and the columns holding any, and
    the peak; NothingDrawnError, telling the person to `what`, when the map is blank."""
    peak = float(ink.max(initial=0))
    if peak < 0.05:
        raise NothingDrawnError(f"Nothing drawn yet: {what} (the image is blank or one flat colour).")
    inked = ink > INK_THRESHOLD * peak
    return inked, np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0)), peak


def fit_ink(ink: np.ndarray) -> np.ndarray:
    """An ink map (as ink_map makes it: float, 0 = background) → to_model_input's 28x28. Split out so
    that a number's digits, cut from one ink map of the whole picture, are made by the same code
    without each crop's ink map computed again."""
    inked, rows, cols, peak = find_ink(ink)
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    height, width = bottom - top, right - left
    side = max(height, width) / max(ink.shape)
    blob = side < BLOB_FRACTION and 0.5 < height / width < 2 and inked[top:bottom, left:right].mean() > BLOB_FILL
    if (side < MIN_INK_FRACTION or blob) and max(ink.shape) > FIELD:
        raise DrawingError("That is only a dot: draw a whole digit, filling most of the box.")
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    crop = Image.fromarray(np.ascontiguousarray(ink[top:bottom, left:right] / np.float32(peak)), mode="F")
    small = np.asarray(crop.resize(size, Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR))
    small = np.clip(small, 0.0, 1.0)
    total = float(small.sum())
    mass_row = float(small.sum(axis=1) @ np.arange(size[1])) / total  # ndimage.center_of_mass, at a fifth of the cost
    mass_col = float(small.sum(axis=0) @ np.arange(size[0])) / total
    y = min(max(round(CENTRE - mass_row), 0), FIELD - size[1])
    x = min(max(round(CENTRE - mass_col), 0), FIELD - size[0])
    field = np.zeros((FIELD, FIELD), np.float32)
    field[y:y + size[1], x:x + size[0]] = small
    return field


def thicken(model_inputs: np.ndarray) -> np.ndarray:
    """28x28 inputs (one, or N x 28 x 28, floats in [0, 1]) with half a pixel more ink around each stroke.

    People draw with pens thinner than MNIST's at a digit's scale (the Draw page's default pen on
    a digit filling the canvas makes strokes of about 1.5 px here, MNIST's are about 2 px), and
    the network reads real handwriting better with its strokes thickened this way (bench/README.md).
    It is how a drawing is read, a step after to_model_input, so that an explanation can blank a
    piece of the stroke together with its thickening. MNIST's own digits are read as they are.
    """
    x = np.asarray(model_inputs, np.float32)
    return x + THICKEN * (ndimage.grey_dilation(x, size=(3, 3) if x.ndim == 2 else (1, 3, 3)) - x)


def thin(model_inputs: np.ndarray) -> np.ndarray:
    """28x28 inputs (one, or N x 28 x 28) with half a pixel less ink around each stroke: thicken's opposite."""
    x = np.asarray(model_inputs, np.float32)
    return x - THICKEN * (x - ndimage.grey_erosion(x, size=(3, 3) if x.ndim == 2 else (1, 3, 3)))


@contextmanager
def _decoding():
    """Pillow's many failure types → one DrawingError that says what to do."""
    try:
        yield
    except DrawingError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far past ours: its message is for programmers
        raise DrawingError(f"the image is too large (over {MAX_PIXELS // 1_000_000} megapixels): scale it down "
                           "first") from exc
    except UnidentifiedImageError as exc:  # its message names the file: the person knows which
        raise DrawingError(f"not a readable image: use a {', '.join(FORMATS[:-1])} or {FORMATS[-1]} file") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise DrawingError(f"the image is damaged or truncated ({exc})") from exc


def read_image(source) -> np.ndarray:
    """A file path or bytes → a uint8 RGBA (or float gray for 16-bit) array, at most MAX_SIDE a side.

    Only FORMATS are read, recognised by their content whatever the file is called. The size is
    read from the header before anything is decoded: over MAX_PIXELS is refused; a JPEG is decoded
    at 1/2, 1/4 or 1/8 scale when that still leaves MAX_SIDE pixels (libjpeg does this while
    decoding); whatever would still decode to more than MAX_DECODED_PIXELS is refused. The result
    is scaled down to MAX_SIDE: reading a picture takes a few tens of megabytes at most, and what
    is kept of it 4 MB.
    """
    try:
        handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(source, "rb")
    except OSError as exc:
        raise DrawingError(f"cannot open {source}: {exc.strerror or exc}") from exc
    with handle, _decoding():
        if not handle.read(1):
            raise DrawingError("the file is empty")
        handle.seek(0)
        with Image.open(handle, formats=FORMATS) as img:
            width, height = img.size
            if max(width, height) > MAX_SIDE:
                scale = MAX_SIDE / max(width, height)
                img.draft(None, (max(1, round(width * scale)), max(1, round(height * scale))))
            if width * height > MAX_PIXELS or img.width * img.height > MAX_DECODED_PIXELS:
                raise DrawingError(f"the image is too large ({width}x{height} pixels; the limit is "
                                   f"{MAX_DECODED_PIXELS // 1_000_000} megapixels, {MAX_PIXELS // 1_000_000} for a "
                                   "JPEG): scale it down first")
            if getattr(img, "n_frames", 1) > 1:
                raise DrawingError("animated images are not supported: upload a single PNG or JPEG frame")
            if img.mode.startswith("I"):  # 16-bit gray
                frame = img.convert("F")
                frame.thumbnail((MAX_SIDE, MAX_SIDE))
                pixels = np.asarray(frame, dtype=np.float32)
                return pixels / (65535.0 if pixels.max(initial=0) > 255 else 255.0)
            frame = img.convert("RGBA")
            frame.thumbnail((MAX_SIDE, MAX_SIDE))
            return np.asarray(frame)


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, its first 24 bytes; None if `data` is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def read_canvas_png(data: bytes, size: tuple[int, int]) -> np.ndarray:
    """The drawing canvas's PNG → uint8 RGBA, refused unread unless its header says `size`.

    The canvas's image comes from the visitor's browser, and a client can send any PNG in its
    place: a few hundred kilobytes can hold 80 megapixels, gigabytes once decoded. A real canvas
    always sends a PNG of exactly its own size, so nothing else is decoded.
    """
    found = png_size(data)
    if found != tuple(size):
        what = f"a {found[0]}x{found[1]} image" if found else "something that is not a PNG"
        raise DrawingError(f"the canvas sent {what}, not its {size[0]}x{size[1]} drawing: draw again")
    with _decoding(), Image.open(io.BytesIO(data), formats=["PNG"]) as img:
        return np.asarray(img if img.mode == "RGBA" else img.convert("RGBA"))
