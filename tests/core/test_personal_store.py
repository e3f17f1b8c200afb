"""A person's digits in the model store: two writers at once, a file that cannot be read, and the
cache that must still see a write by another process."""

import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from mnist_core import personal, personal_store
from mnist_core.personal import PersonalSetError
from tests.core.test_personal import model_input, some_set
from tests.support.data import ROOT

NOT_AN_NPZ = b"half a file, say, after a crash"


def never_set_aside(message: str) -> None:
    raise AssertionError(f"nothing should be set aside, got: {message}")


def test_the_file_is_personal_npz_in_the_model_store(store):
    assert personal_store.path_in() == store / "personal.npz"
    assert personal_store.path_in(store / "other") == store / "other" / "personal.npz"


def test_no_file_is_an_empty_set_and_a_first_change_makes_the_store(tmp_path):
    path = tmp_path / "new-store" / "personal.npz"  # a new machine: not even the store yet
    assert len(personal_store.read(path, on_set_aside=never_set_aside)) == 0
    new = personal_store.change(path, lambda digits: personal.add(digits, model_input(0), 4),
                                on_set_aside=never_set_aside)
    assert new.y.tolist() == [4] and personal.load(path).y.tolist() == [4]
    assert personal_store.read(path, on_set_aside=never_set_aside).y.tolist() == [4]


def test_two_writers_at_once_keep_both_digits(tmp_path):
    path = tmp_path / "personal.npz"
    start = threading.Barrier(6)

    def add(digit: int) -> None:
        def slowly(digits):  # read, think a while, write: without the lock the later write would lose the other
            time.sleep(0.02)
            return personal.add(digits, model_input(digit), digit)
        start.wait()
        personal_store.change(path, slowly, on_set_aside=never_set_aside)

    writers = [threading.Thread(target=add, args=(digit,)) for digit in range(6)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    kept = personal.load(path)
    assert sorted(kept.y.tolist()) == [0, 1, 2, 3, 4, 5]
    for image, digit in zip(kept.x, kept.y.tolist()):
        np.testing.assert_array_equal(image, np.round(model_input(digit) * 255).astype(np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["personal.npz", "personal.npz.lock"]  # no temporary file


@pytest.mark.skipif(sys.platform == "win32", reason="the lock across processes is POSIX's flock")
def test_two_processes_at_once_keep_both_digits(tmp_path):
    path = tmp_path / "personal.npz"
    writer = ("import sys, time; from mnist_core import personal, personal_store\n"
              "from tests.core.test_personal import model_input\n"
              "digit = int(sys.argv[2])\n"
              "def slowly(digits):  # a second server's request between the read and the write\n"
              "    time.sleep(0.5)\n"
              "    return personal.add(digits, model_input(digit), digit)\n"
              "personal_store.change(personal_store.Path(sys.argv[1]), slowly, on_set_aside=print)")
    writers = [subprocess.Popen([sys.executable, "-c", writer, str(path), str(digit)], cwd=ROOT) for digit in (3, 7)]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    assert sorted(personal.load(path).y.tolist()) == [3, 7]


def test_a_change_that_fails_changes_nothing(tmp_path):
    path = tmp_path / "personal.npz"
    personal.save(some_set(3), path)
    before = path.read_bytes()

    def refuse(digits):
        return personal.add(digits, np.zeros((28, 28), np.float32), 1)  # blank: refused

    with pytest.raises(PersonalSetError, match="the drawing is blank"):
        personal_store.change(path, refuse, on_set_aside=never_set_aside)
    assert path.read_bytes() == before
    assert personal_store.read(path, on_set_aside=never_set_aside).y.tolist() == [0, 1, 2]


def test_an_unreadable_file_is_set_aside_with_a_message_and_nothing_is_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(personal_store.time, "strftime", lambda pattern: "20240102-030405")
    path = tmp_path / "personal.npz"
    path.write_bytes(NOT_AN_NPZ)
    messages = []
    assert len(personal_store.read(path, on_set_aside=messages.append)) == 0
    assert messages == ["Your saved digits could not be read (personal.npz is not an .npz file (a personal set "
                        "saved by this app has x and y arrays)); the file is kept in the model store as "
                        "personal-unreadable-20240102-030405.npz and a new set begins."]
    assert (tmp_path / "personal-unreadable-20240102-030405.npz").read_bytes() == NOT_AN_NPZ
    assert not path.exists()  # the new set begins with the next digit, not over the old file

    personal_store.change(path, lambda digits: personal.add(digits, model_input(1), 8), on_set_aside=messages.append)
    assert personal.load(path).y.tolist() == [8] and len(messages) == 1

    path.write_bytes(NOT_AN_NPZ + b" again")  # unreadable once more within the same second: a second name
    new = personal_store.change(path, lambda digits: personal.add(digits, model_input(2), 2),
                                on_set_aside=messages.append)
    assert new.y.tolist() == [2] and personal.load(path).y.tolist() == [2]
    assert messages[1].endswith("the file is kept in the model store as personal-unreadable-20240102-030405-2.npz "
                                "and a new set begins.")
    assert (tmp_path / "personal-unreadable-20240102-030405.npz").read_bytes() == NOT_AN_NPZ
    assert (tmp_path / "personal-unreadable-20240102-030405-2.npz").read_bytes() == NOT_AN_NPZ + b" again"


def test_the_cache_is_read_once_and_sees_another_process_write(tmp_path):
    path = tmp_path / "personal.npz"
    personal.save(some_set(2), path)
    first = personal_store.read(path, on_set_aside=never_set_aside)
    assert first.y.tolist() == [0, 1]
    assert personal_store.read(path, on_set_aside=never_set_aside) is first  # unchanged: not read again
    another_process = ("import sys; import numpy as np; from mnist_core import personal\n"
                       "path = sys.argv[1]; image = np.zeros((28, 28), np.uint8); image[5:20, 10:14] = 255\n"
                       "personal.save(personal.add(personal.load(path), image, 6), path)")
    subprocess.run([sys.executable, "-c", another_process, str(path)], cwd=ROOT, check=True, timeout=120)
    seen = personal_store.read(path, on_set_aside=never_set_aside)
    assert seen.y.tolist() == [0, 1, 6]
    assert seen.x[2].sum() == 15 * 4 * 255
    path.unlink()  # and one that removes it: an empty set, nothing set aside
    assert len(personal_store.read(path, on_set_aside=never_set_aside)) == 0
