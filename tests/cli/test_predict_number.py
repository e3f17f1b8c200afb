"""`predict --number`: a picture of a number read digit by digit, through a real subprocess."""

import json

from PIL import Image

from tests.cli.test_cli import cli
from tests.reading.test_number import ink_box, one, picture, seven, zero


def test_predict_number_json(tmp_path):
    digits = [seven(100), one(330), zero(480)]
    Image.fromarray(picture(*digits, polarity="black-on-white")).save(tmp_path / "number.png")
    Image.new("L", (840, 280), 255).save(tmp_path / "blank.png")
    result = json.loads(cli("predict", tmp_path / "number.png", tmp_path / "blank.png", "--number", "--json",
                            check_code=1).stdout)
    assert [sorted(r) for r in result] == [["digits", "file", "number"], ["error", "file"]]
    number, blank = result
    assert number["file"] == str(tmp_path / "number.png") and number["number"] == "710"
    assert [sorted(d) for d in number["digits"]] == [["box", "digit", "digit_score", "is_digit", "probabilities"]] * 3
    assert [d["digit"] for d in number["digits"]] == [7, 1, 0] and all(d["is_digit"] for d in number["digits"])
    assert [d["box"] for d in number["digits"]] == [list(ink_box(d)) for d in digits]
    assert all(len(d["probabilities"]) == 10 and abs(sum(d["probabilities"]) - 1) < 1e-4 for d in number["digits"])
    assert all(isinstance(d["digit_score"], float) for d in number["digits"])
    assert blank == {"file": str(tmp_path / "blank.png"),
                     "error": "Nothing drawn yet: write a number (the image is blank or one flat colour)."}
    text = cli("predict", tmp_path / "number.png", "--number", check_code=0).stdout
    assert text.startswith(f"{tmp_path / 'number.png'}: 710 (7 ") and text.count("%") == 3
