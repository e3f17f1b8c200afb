"""The personal set: adding digits, counting them, files in and out, and what is refused."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from mnist_core import personal
from mnist_core.personal import PersonalSetError
from mnist_core.reading.preprocess import read_image, to_model_input
from tests.support.data import draw_digit


def model_input(seed: int) -> np.ndarray:
    """A float 28x28 input in [0, 1] like Prediction.model_input, with some ink."""
    image = np.random.default_rng(seed).random((28, 28)).astype(np.float32)
    image[10:18, 12:16] = 1.0
    return image


def some_set(n: int = 12) -> personal.PersonalSet:
    s = personal.empty()
    for i in range(n):
        s = personal.add(s, model_input(i), i % 10)
    return s


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_add_keeps_the_inputs_as_uint8_and_counts_each_digit():
    s = personal.empty()
    first = personal.add(s, model_input(0), 7)
    second = personal.add(first, model_input(1), np.int64(7))
    third = personal.add(second, model_input(2), 3)
    assert len(s) == 0 and len(first) == 1  # adding makes a new set; the old one is unchanged
    assert third.counts() == [0, 0, 0, 1, 0, 0, 0, 2, 0, 0]
    assert third.x.dtype == np.uint8 and third.x.shape == (3, 28, 28)
    assert third.y.tolist() == [7, 7, 3]
    np.testing.assert_array_equal(third.x[2], np.round(model_input(2) * 255).astype(np.uint8))
    np.testing.assert_allclose(third.model_inputs()[2], model_input(2), atol=0.5 / 255)


@pytest.mark.parametrize("image, label, message", [
    (np.full((28, 28), np.nan, np.float32), 1, "NaN"),
    (np.full((28, 28), 1.5, np.float32), 1, "expected 0 (background) to 1 (ink)"),
    (np.full((28, 28), -0.1, np.float32), 1, "expected 0 (background) to 1 (ink)"),
    (np.ones((27, 28), np.float32), 1, "shape (27, 28)"),
    (np.ones((28, 28, 3), np.float32), 1, "shape (28, 28, 3)"),
    (np.ones((28, 28), bool), 1, "dtype bool"),
    (np.zeros((28, 28), np.float32), 1, "blank"),
    (np.ones((28, 28), np.float32), 10, "a digit 0-9, got 10"),
    (np.ones((28, 28), np.float32), -1, "a digit 0-9, got -1"),
    (np.ones((28, 28), np.float32), True, "a digit 0-9, got True"),
    (np.ones((28, 28), np.float32), 3.0, "a digit 0-9, got 3.0"),
])
def test_add_refuses_what_is_not_a_labelled_model_input(image, label, message):
    with pytest.raises(PersonalSetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        personal.add(personal.empty(), image, label)


def test_undo_drops_the_newest_only():
    s = some_set(3)
    undone = personal.without_last(s)
    assert undone.y.tolist() == [0, 1] and len(s) == 3
    np.testing.assert_array_equal(undone.x, s.x[:2])
    assert len(personal.without_last(personal.without_last(undone))) == 0  # the empty set stays empty


def test_merge_adds_only_what_is_new_and_refuses_too_many(monkeypatch):
    mine, file = some_set(4), some_set(6)  # the file holds my 4 digits and 2 more
    relabelled = personal.PersonalSet(file.x[:1], np.array([9], np.uint8))  # a picture I have, as another digit
    merged = personal.merge(mine, file)
    assert merged.y.tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_array_equal(merged.x, file.x)
    assert personal.merge(merged, file).y.tolist() == merged.y.tolist()  # the same file again adds nothing
    assert personal.merge(merged, relabelled).y.tolist() == [0, 1, 2, 3, 4, 5, 9]
    monkeypatch.setattr(personal, "MAX_EXAMPLES", 5)
    with pytest.raises(PersonalSetError, match="together that is 6 digits, more than the 5"):
        personal.merge(mine, file)


def test_a_full_set_refuses_one_more(monkeypatch):
    monkeypatch.setattr(personal, "MAX_EXAMPLES", 3)
    full = some_set(3)
    with pytest.raises(PersonalSetError, match="full \\(3 digits\\)"):
        personal.add(full, model_input(9), 1)


def test_bytes_round_trip_is_exact():
    s = some_set()
    back = personal.from_bytes(personal.to_bytes(s))
    assert back.x.dtype == np.uint8 and back.y.dtype == np.uint8
    np.testing.assert_array_equal(back.x, s.x)
    np.testing.assert_array_equal(back.y, s.y)
    with np.load(io.BytesIO(personal.to_bytes(s))) as npz:  # a plain .npz any NumPy reads
        assert sorted(npz.files) == ["x", "y"] and npz["x"].shape == (12, 28, 28)


def test_file_round_trip_is_exact_and_leaves_no_temporary_file(tmp_path):
    s = some_set()
    path = personal.save(s, tmp_path / "mine.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.npz"]
    back = personal.load(path)
    np.testing.assert_array_equal(back.x, s.x)
    np.testing.assert_array_equal(back.y, s.y)
    personal.save(personal.add(s, model_input(50), 5), path)  # replaced whole
    assert len(personal.load(path)) == 13 and personal.read_examples(path).counts()[5] == 2


def test_an_empty_set_round_trips():
    back = personal.from_bytes(personal.to_bytes(personal.empty()))
    assert back.x.shape == (0, 28, 28) and back.y.shape == (0,)


def test_float_inputs_and_any_integer_labels_are_accepted():
    x = np.stack([model_input(i) for i in range(3)]).astype(np.float64)
    back = personal.from_bytes(npz_bytes(x=x, y=np.array([1, 2, 3], np.int64)))
    np.testing.assert_array_equal(back.x, np.round(x * 255).astype(np.uint8))
    assert back.y.tolist() == [1, 2, 3] and back.y.dtype == np.uint8


def header_claiming(shape: tuple) -> bytes:
    """An .npz whose x.npy header claims `shape` but holds almost no data."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        with archive.open("x.npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "|u1", "fortran_order": False, "shape": shape})
            member.write(b"\x00" * 16)
        with archive.open("y.npy", "w") as member:
            np.lib.format.write_array(member, np.zeros(2, np.uint8))
    return buffer.getvalue()


def encrypted(npz: bytes) -> bytes:
    """`npz` with every member flagged as encrypted (general-purpose bit 0), as a password-protected zip."""
    flagged = bytearray(npz)
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local headers, central directory
        at = flagged.find(signature)
        while at >= 0:
            flagged[at + flags] |= 1
            at = flagged.find(signature, at + 1)
    return bytes(flagged)


def test_refuses_bad_files():
    good = personal.to_bytes(some_set())
    corrupt = bytearray(good)
    corrupt[len(good) // 3: len(good) // 3 + 40] = b"\xff" * 40
    cases = {
        "not an .npz": [b"", b"hello", good[:-30], b"\x80\x04\x95" + bytes(40)],
        "damaged or truncated": [bytes(corrupt)],
        "damaged or truncated \\(File 'x.npy' is encrypted": [encrypted(good)],
        "no 'x' array \\(found x_train\\)": [npz_bytes(x_train=np.zeros((2, 28, 28), np.uint8))],
        "no 'y' array": [npz_bytes(x=np.ones((2, 28, 28), np.uint8))],
        "x has shape \\(2, 27, 28\\)": [npz_bytes(x=np.ones((2, 27, 28), np.uint8), y=np.zeros(2, np.uint8))],
        "y has shape \\(3,\\), expected \\(2,\\)": [npz_bytes(x=np.ones((2, 28, 28), np.uint8),
                                                             y=np.zeros(3, np.uint8))],
        "N at most 500": [npz_bytes(x=np.ones((501, 28, 28), np.uint8), y=np.zeros(501, np.uint8)),
                          header_claiming((10**9, 28, 28))],
        "x has dtype object": [npz_bytes(x=np.full((1, 28, 28), None, object), y=np.zeros(1, np.uint8))],
        "y has dtype float64": [npz_bytes(x=np.ones((1, 28, 28), np.uint8), y=np.zeros(1))],
        "digits 0-9": [npz_bytes(x=np.ones((1, 28, 28), np.uint8), y=np.array([10]))],
        "NaN": [npz_bytes(x=np.full((1, 28, 28), np.nan), y=np.zeros(1, np.uint8))],
        "expected 0 \\(background\\) to 1": [npz_bytes(x=np.full((1, 28, 28), 2.0), y=np.zeros(1, np.uint8))],
        "blank": [npz_bytes(x=np.zeros((1, 28, 28), np.uint8), y=np.zeros(1, np.uint8))],
        "at most 4,000,000": [bytes(personal.MAX_FILE_BYTES + 1)],
    }
    for message, files in cases.items():
        for data in files:
            with pytest.raises(PersonalSetError, match=message):
                personal.from_bytes(data, "upload.npz")


def test_save_to_a_missing_folder_says_so(tmp_path):
    with pytest.raises(PersonalSetError, match="cannot write .*mine.npz: No such file or directory"):
        personal.save(some_set(), tmp_path / "missing" / "mine.npz")


def test_load_refuses_a_missing_or_oversized_file(tmp_path):
    with pytest.raises(PersonalSetError, match="cannot read"):
        personal.load(tmp_path / "missing.npz")
    big = tmp_path / "big.npz"
    big.write_bytes(bytes(personal.MAX_FILE_BYTES + 1))
    with pytest.raises(PersonalSetError, match="a personal set is at most"):
        personal.load(big)


def digit_folder(root, files: dict) -> None:
    """files: {"3/a.png": PIL image or raw bytes}."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content.save(path)


def test_load_folder_reads_each_digit_subfolder_as_the_app_reads_a_drawing(tmp_path):
    seven = draw_digit()
    small = draw_digit(box=(20, 30, 90, 150), width=8, ink=0, background=255)
    digit_folder(tmp_path, {"7/a.png": seven, "7/b.jpg": small.convert("RGB"), "1/c.png": small,
                            "1/notes.txt": b"not an image", ".hidden/d.png": seven})
    s = personal.load_folder(tmp_path)
    assert s.y.tolist() == [1, 7, 7] and s.counts()[1] == 1 and s.counts()[7] == 2
    expected = to_model_input(read_image(tmp_path / "7" / "a.png"))
    np.testing.assert_array_equal(s.x[1], np.round(expected * 255).astype(np.uint8))
    np.testing.assert_array_equal(personal.read_examples(tmp_path).x, s.x)


def test_load_folder_refuses_what_is_not_a_digit_folder(tmp_path):
    with pytest.raises(PersonalSetError, match="is not a folder"):
        personal.load_folder(tmp_path / "missing")
    digit_folder(tmp_path / "strangers", {"3/a.png": draw_digit(), "sevens/b.png": draw_digit()})
    with pytest.raises(PersonalSetError, match="found 'sevens'"):
        personal.load_folder(tmp_path / "strangers")
    (tmp_path / "empty" / "4").mkdir(parents=True)
    with pytest.raises(PersonalSetError, match="no images"):
        personal.load_folder(tmp_path / "empty")
    digit_folder(tmp_path / "broken", {"2/good.png": draw_digit(), "2/bad.png": b"\x89PNG but not really"})
    with pytest.raises(PersonalSetError, match="bad.png: not a readable image"):
        personal.load_folder(tmp_path / "broken")
    digit_folder(tmp_path / "blank", {"5/nothing.png": Image.new("L", (50, 50), 255)})
    with pytest.raises(PersonalSetError, match="nothing.png: Nothing drawn"):
        personal.load_folder(tmp_path / "blank")
    digit_folder(tmp_path / "many", {f"{d}/{i}.png": draw_digit() for d in range(3) for i in range(2)})
    with pytest.raises(PersonalSetError, match="6 images, more than the 5"):
        personal.load_folder(tmp_path / "many", limit=5)
