"""The store's quota: the oldest visitors' runs go first, never a bundled run, a run in use or one kept."""

import os
import time

import pytest

from mnist_core.runs import quota
from mnist_core.jobs.access import Limits
from mnist_core.runs.store import StoreError, list_runs
from tests.support.runs import fake_run


@pytest.fixture(autouse=True)
def no_sessions(monkeypatch):
    monkeypatch.setattr(quota, "_active", {})
    monkeypatch.setattr(quota, "_alive", None)


def day(n: int) -> str:
    return f"2026-01-{n:02d}T00:00:00+00:00"


def names(store):
    return sorted(run.name for run in list_runs(store) if not run.bundled)


def test_the_oldest_visitors_runs_go_first_but_not_a_run_in_use(store):
    for n, name in enumerate(["d", "a", "c", "b", "e"], 1):  # created on days 1..5, not in name order
        fake_run(store, name, created=day(n))
    fake_run(store, "owners", created=day(1), temporary=False)
    fake_run(store, "cli", created=day(2), temporary=False)
    quota.note_active("session-1", "d")  # the oldest, but someone has it active
    assert quota.make_room(store, Limits(max_runs=3), new_runs=1) == ["a", "c", "b"]
    assert names(store) == ["cli", "d", "e", "owners"]  # the owner's and the command line's never count nor go
    assert quota.make_room(store, Limits(max_runs=3), new_runs=1) == []  # room already made


def test_megabytes_count_too_and_a_kept_run_is_spared(store):
    for n, name in enumerate(["old", "mid", "new"], 1):
        fake_run(store, name, created=day(n), size=400_000)
    assert quota.make_room(store, Limits(max_megabytes=0.9), keep=frozenset({"old"})) == ["mid"]
    assert names(store) == ["new", "old"]
    assert quota.make_room(store, Limits(max_megabytes=0.5)) == ["old"]
    assert quota.make_room(store, Limits()) == []  # no quota: nothing ever goes
    assert names(store) == ["new"]


def test_when_every_run_left_is_in_use_the_start_is_refused(store):
    for n, name in enumerate(["a", "b"], 1):
        fake_run(store, name, created=day(n))
        quota.note_active(f"session-{n}", name)
    with pytest.raises(StoreError, match="the model store is full: visitors' runs may number 2 and take 200 MB, and "
                                         "the ones left are in use; try again later"):
        quota.make_room(store, Limits(max_runs=2, max_megabytes=200), new_runs=1)
    assert names(store) == ["a", "b"]


def test_a_session_gone_quiet_no_longer_holds_its_run(store):
    fake_run(store, "a", created=day(1))
    fake_run(store, "b", created=day(2))
    quota.note_active("quiet", "a", clock=lambda: 0.0)  # seen long ago
    quota.note_active("busy", "b")
    quota.note_active("switched", "a")
    quota.note_active("switched", "b")  # a session has one active run: its latest
    assert quota.runs_in_use() == {"b"} and set(quota._active) == {"busy", "switched"}
    assert quota.make_room(store, Limits(max_runs=1)) == ["a"]


def test_the_bundled_run_is_never_a_candidate(store, monkeypatch):
    fake_run(store, "mine", created=day(1))
    bundled = [run for run in list_runs(store) if run.bundled]
    assert [run.name for run in bundled] == ["default"]
    monkeypatch.setattr(quota, "list_runs", lambda s: [*bundled, *list_runs(s)])
    assert quota.make_room(store, Limits(max_runs=0)) == ["mine"]
    assert (bundled[0].path / "model.onnx").is_file()


def test_a_run_deleted_meanwhile_is_not_an_error(store, monkeypatch):
    fake_run(store, "a", created=day(1))
    fake_run(store, "b", created=day(2))
    gone = quota.temporary_runs(store)
    os.rename(store / "a", store / ".deleted-a")  # its owner deleted it after the list was read
    monkeypatch.setattr(quota, "temporary_runs", lambda s: gone)
    assert quota.make_room(store, Limits(max_runs=1)) == [] and names(store) == ["b"]


def test_a_session_gone_no_longer_pins_its_run(store, monkeypatch):
    fake_run(store, "a", created=day(1))
    fake_run(store, "b", created=day(2))
    connected = {"open-tab"}
    monkeypatch.setattr(quota, "_alive", connected.__contains__)
    quota.note_active("closed-tab", "a", client="client:1")
    quota.note_active("open-tab", "b", client="client:2")
    assert quota.runs_in_use() == {"b"} and set(quota._active) == {"open-tab"}  # its tab closed: its pin ended
    assert quota.make_room(store, Limits(max_runs=1)) == ["a"]


def test_one_client_pins_a_few_runs_at_most(store):
    """20 throwaway sessions of one client, each with a visitor's run active, filled the store,
    and every visitor's training then failed with "the model store is full"."""
    start = time.time() - 100
    for n in range(20):
        fake_run(store, f"run-{n:02d}", created=day(n + 1))
        quota.note_active(f"session-{n}", f"run-{n:02d}", client="client:203.0.113.7", clock=lambda n=n: start + n)
    quota.note_active("someone-else", "run-00", client="client:198.51.100.4")
    assert quota.runs_in_use() == {f"run-{n:02d}" for n in range(20)}  # no cap given: every pin holds
    assert quota.runs_in_use(3) == {"run-19", "run-18", "run-17", "run-00"}  # that client's latest three
    deleted = quota.make_room(store, Limits(max_runs=6, max_pins_per_client=3), new_runs=1)
    assert deleted == [f"run-{n:02d}" for n in range(1, 16)]
    assert names(store) == ["run-00", "run-16", "run-17", "run-18", "run-19"]
    with pytest.raises(StoreError, match="the model store is full"):
        quota.make_room(store, Limits(max_runs=6), new_runs=6)  # without the cap all 20 would be spared


def test_a_run_deleted_while_it_is_measured_counts_as_gone(store, monkeypatch):
    import pathlib
    import shutil

    fake_run(store, "a", created=day(1), size=300_000)
    (store / "a" / "gallery.npz").write_bytes(b"\0" * 300_000)
    is_file = pathlib.Path.is_file

    def deleted_meanwhile(self):
        found = is_file(self)
        if self.name == "gallery.npz" and self.parent.name == "a" and self.parent.exists():
            shutil.rmtree(self.parent)  # deleted right after it was seen, before its size was read
        return found

    monkeypatch.setattr(pathlib.Path, "is_file", deleted_meanwhile)
    assert quota.run_bytes(quota.temporary_runs(store)[0]) < 600_000  # no FileNotFoundError
    assert quota.folder_bytes(store / "never-was") == 0


def test_unsaved_networks_count_and_go_first(store):
    fake_run(store, "old", created=day(1), size=300_000)
    kept = store / ".unsaved-big-123"
    kept.mkdir()
    (kept / "model.keras").write_bytes(b"\0" * 500_000)
    assert quota.make_room(store, Limits(max_megabytes=1.0)) == []  # 0.8 MB in all: room enough
    assert quota.make_room(store, Limits(max_megabytes=0.5)) == [".unsaved-big-123"]
    assert names(store) == ["old"] and not kept.exists()
    assert quota.make_room(store, Limits()) == []
