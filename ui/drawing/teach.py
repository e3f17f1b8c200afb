"""Teach it your handwriting: "Right" or "No, it's a …" under each answer, the person's digits
(mnist_core.personal), and a fine-tune of the active model on them (mnist_core.training.finetune), which
runs as a job in the training process and becomes this session's active model.

Where the digits live: on one's own machine (the local role, jobs/access.py) in the model store, as
`personal.npz`, so they outlast the tab; on a public deployment only in the browser session,
since a stranger's digits are theirs alone, with a download to keep them.
"""

import functools
import hashlib
import time
from pathlib import Path

import streamlit as st

from mnist_core import ConfigError, StoreError, jobs, personal, personal_store
from mnist_core.jobs.access import LOCAL
from mnist_core.personal import PersonalSetError
from ui import active_model, charts
from ui.access import session
from ui.redact import without_paths


def _file() -> Path | None:
    """The file the digits are kept in on one's own machine; None on a public deployment."""
    return personal_store.path_in() if session().role == LOCAL else None


def _warn(message: str) -> None:
    """Say where the panel is drawn that the saved file was set aside (without the server's folders)."""
    st.warning(without_paths(message))


def current() -> personal.PersonalSet:
    """This person's digits: the session's, or the store's file (re-read when another tab changed it)."""
    path = _file()
    if path is None:
        return st.session_state.setdefault("personal", personal.empty())
    return personal_store.read(path, on_set_aside=_warn)


def change(how) -> str | None:
    """Replace the digits with `how(current digits)`; the problem, if any, as a message (nothing changed)."""
    try:
        if (path := _file()) is None:
            st.session_state.personal = how(current())
        else:
            personal_store.change(path, how, on_set_aside=_warn)
    except (PersonalSetError, OSError) as exc:
        return without_paths(exc)
    st.session_state.digits_changes = st.session_state.get("digits_changes", 0) + 1
    return None


def changed_since_shown() -> bool:
    """Whether the digits changed after the panel last drew them (from a button under the answer);
    True once per change, so that the whole page's rerun it calls for does not ask again."""
    changes = st.session_state.get("digits_changes", 0)
    if changes == st.session_state.get("digits_shown", 0):
        return False
    st.session_state.digits_shown = changes
    return True


def drawing_id(prediction) -> str:
    return hashlib.sha256(prediction.model_input.tobytes()).hexdigest()[:16]


TAUGHT_KEPT = 50  # drawings remembered as taught: a number's digits each count, and nothing grows unbounded


def _add(prediction, digit: int, key: str, on_added) -> None:
    """A button's callback: the drawing, as the network saw it, joins the digits as `digit` (once)."""
    taught = st.session_state.setdefault("taught_drawings", [])
    if key in taught:
        return  # a second press of the same button, or of another one for the same drawing
    problem = change(lambda digits: personal.add(digits, prediction.model_input, digit))
    if problem:
        st.session_state.panel_message = ("error", f"Not added: {problem}")
        return
    taught[:] = [*taught, key][-TAUGHT_KEPT:]
    st.session_state.panel_message = ("toast", f"Added a {digit} to your digits ({len(current())} in all).")
    if on_added is not None:
        on_added()


def feedback(prediction, drawing: str, key: str, on_added=None) -> None:
    """Under an answer: "Right" or "No, it's a …" (one click either way); `on_added()` runs after.
    `drawing` names the drawing (one example per drawing, however often its buttons are pressed);
    `key` names the widgets, kept for the whole canvas round, so a stroke updates them, not remakes them."""
    if drawing in st.session_state.get("taught_drawings", []):
        st.caption("✓ In your digits. Draw another, or fine-tune on them below.")
        return
    answer = prediction.digit
    if prediction.is_digit:  # "Right" about "not a digit" would teach nothing: no digit to keep it as
        st.button(f"Right, it's a {answer}", icon=":material/check:", key=f"right-{key}", on_click=_add,
                  args=(prediction, answer, drawing, on_added),
                  help="Keep this drawing in your digits, to teach the model")
    st.pills("No, it's a …" if prediction.is_digit else "It is a digit: it's a …", list(range(10)),
             key=f"wrong-{key}",
             on_change=lambda: _add(prediction, st.session_state[f"wrong-{key}"], drawing, on_added),
             help="Keep this drawing in your digits with the right answer, to teach the model")


def _take_upload(upload) -> None:
    """Add the digits of an uploaded set once (reruns hand the same file again)."""
    if upload is None or st.session_state.get("merged_upload") == upload.file_id:
        return
    st.session_state.merged_upload = upload.file_id
    before = len(current())
    try:
        more = personal.from_bytes(upload.getvalue(), upload.name)
    except PersonalSetError as exc:
        st.session_state.panel_message = ("error", f"Not added: {without_paths(exc)}")
        return
    problem = change(lambda digits: personal.merge(digits, more))
    added = len(current()) - before
    st.session_state.panel_message = (("error", f"Not added: {problem}") if problem else
                                      ("success", f"Added {added} of the {len(more)} digits in {upload.name}"
                                       + (" (the others were in your set already)." if added < len(more) else ".")))


def _start_finetune(digits: personal.PersonalSet) -> None:
    me, parent = session(), active_model.name()
    name = f"mine-{time.strftime('%Y%m%d-%H%M%S')}-{me.owner_id[:4]}"
    try:
        st.session_state.my_job = jobs.submit_finetune(digits, parent, name, owner=me.owner_id, limits=me.limits)
    except (ConfigError, StoreError, jobs.JobBusyError) as exc:
        st.session_state.panel_message = ("error", f"Not started: {without_paths(exc)}")


def _finetune_status(job) -> None:
    """Where this session's fine-tune stands, and its before/after once saved (then it is active)."""
    if (place := jobs.place_in_queue(job)) is not None:
        st.info(f"Waiting for a {place[1][0].what} to end (number {place[0]} in the queue, about "
                f"{place[2]:.0f} s).", icon=":material/hourglass_top:")
    elif job.active:
        progress = job.progress
        st.progress(progress.fraction if progress else 0.0,
                    text="Teaching a copy of the model your digits…" if progress else
                    "Starting TensorFlow and loading MNIST to mix in with your digits…")
    elif job.status == jobs.FAILED:
        st.error(f"The fine-tune failed: {without_paths(job.error)}")
    elif job.status == jobs.SAVED:
        card = job.saved.card
        figures = card.personal or {}
        if st.session_state.get("made_active") != job.name:
            st.session_state.made_active = job.name
            active_model.make_active(job.name)
            st.rerun(scope="app")  # the sidebar's picker and the answer above use the new model
        held, before, after = figures.get("held_out", 0), figures.get("personal_before"), figures.get("personal_after")
        mine = (f"of your {held} held-out digits it reads {round(before * held)} → **{round(after * held)}**"
                if held else "no digits were held out to measure it (teach two or more of a digit)")
        st.success(f"**{job.name}** is now your active model: {card.parent} taught {figures.get('taught', 0)} of "
                   f"your digits in {card.wall_time_seconds:.0f} s. Before → after: {mine}; MNIST test "
                   f"{figures.get('mnist_before', 0):.2%} → **{card.test_accuracy:.2%}**.", icon=":material/school:")
        if held and after < before:
            st.warning(f"It reads your held-out digits worse than {card.parent} did: check your digits' labels "
                       f"(Undo removes the last), or pick {card.parent} again in the sidebar.")


def panel() -> None:
    """The person's digits: a count of each, download, upload, undo, start over, and the fine-tune."""
    _take_upload(st.session_state.get("personal_upload"))  # before the counts, which it changes
    digits = current()
    st.session_state.digits_shown = st.session_state.get("digits_changes", 0)
    kind, text = st.session_state.pop("panel_message", (None, None))
    if kind == "toast":
        st.toast(text, icon=":material/check_circle:")
    elif kind:
        getattr(st, kind)(text)
    st.html(charts.digit_counts(digits.counts()))
    where = ("They are kept in the model store on this machine." if _file() is not None else
             "They are kept only while this tab is open: download them to keep them.")
    st.caption(f"{len(digits)} digit{'s' if len(digits) != 1 else ''} (at most {personal.MAX_EXAMPLES}). {where}")
    c1, c2, c3 = st.columns(3)
    # the file is made when the button is pressed, not on every rerun of the page
    c1.download_button("Download (.npz)", functools.partial(personal.to_bytes, digits), file_name="my-digits.npz",
                       mime="application/octet-stream", icon=":material/download:", disabled=not len(digits))
    c2.button("Undo the last", icon=":material/undo:", disabled=not len(digits),
              on_click=lambda: change(personal.without_last))
    with c3.popover("Start over", icon=":material/delete:", disabled=not len(digits)):
        st.write(f"Forget all {len(digits)} of your digits? Download them first to keep them.")
        st.button("Forget them", type="primary", on_click=lambda: change(lambda _: personal.empty()))
    st.file_uploader("Add digits from a file you downloaded here", type=["npz"], key="personal_upload")

    job = st.session_state.get("my_job")
    busy = job is not None and (job.active or job.waiting)
    st.button(f"Fine-tune {active_model.name()} on my digits", type="primary", icon=":material/school:",
              disabled=len(digits) < personal.MIN_TO_FINETUNE or busy, on_click=_start_finetune, args=(digits,),
              help=f"Needs at least {personal.MIN_TO_FINETUNE} digits. Half of each digit teaches a copy of the "
                   "active model (mixed with MNIST, so it keeps reading everyone else); the other half shows how it "
                   "reads you before and after. Takes about half a minute.")
    if job is not None and job.what == jobs.FINETUNE:
        _finetune_status(job)
