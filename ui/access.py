"""This browser session's role and owner id (mnist_core.jobs.access), the owner's sign-in, the public notice."""

import os
import sys

import streamlit as st

from mnist_core import ConfigError

from mnist_core.jobs import access

TOKEN_KEY, OWNER_KEY = "session_token", "signed_in_owner"


def _owner_password() -> str | None:
    """The deployment's owner password from st.secrets, or None when it has none."""
    try:
        secret = st.secrets.get("owner_password")
    except (FileNotFoundError, KeyError):  # no secrets file, or one Streamlit cannot parse
        return None
    return secret if isinstance(secret, str) and secret else None


def listen_address() -> str | None:
    """Where this server listens (`--server.address`; empty: every address of the machine)."""
    return st.get_option("server.address")


def refusal() -> str | None:
    """Why the say-so of the person who started this server is refused, if it is (access.started_role)."""
    try:
        access.started_role(os.environ, listen_address())
    except ConfigError as exc:
        return str(exc)
    return None


def _started_role() -> str:
    """LOCAL when the person who started this server said so and it listens on loopback alone;
    a refused say-so is said once in the terminal (and in the sidebar, by sidebar())."""
    problem = refusal()
    if problem is not None and not getattr(_started_role, "told", False):
        _started_role.told = True
        print(f"mnist-studio: {problem}", file=sys.stderr, flush=True)
    return access.VISITOR if problem is not None else access.started_role(os.environ, listen_address())


def client() -> str | None:
    """This session's client as the proxy reports it, or its peer (access.client_of)."""
    return access.client_of(st.context.headers, st.context.ip_address)


def session() -> access.Session:
    """This browser session: a random token made on its first run (kept only in its state), its
    role (the deployment's owner once signed in, else local or visitor by access's rule) and its
    client."""
    if TOKEN_KEY not in st.session_state:
        st.session_state[TOKEN_KEY] = access.new_token()
    owner_id, where = access.owner_id(st.session_state[TOKEN_KEY]), client()
    if st.session_state.get(OWNER_KEY) and _owner_password() is not None:
        me = access.Session(access.OWNER, owner_id, where)
    else:
        me = access.Session(access.session_role(_started_role(), st.context.headers), owner_id, where)
    access.note_client(me)  # a job submitted with the owner id alone still counts against its client
    return me


def _sign_in(secret: str) -> None:
    """The sign-in form's callback."""
    given = st.session_state.get("owner_password_input", "")  # the form clears it once submitted
    try:
        st.session_state[OWNER_KEY] = access.check_owner_password(given, secret, session().client_key)
        st.session_state.sign_in_message = None if st.session_state[OWNER_KEY] else "Wrong password."
    except access.AccessError as exc:
        st.session_state.sign_in_message = f"{exc}."


def sidebar() -> None:
    """Who this session is, the public server's notice, and the owner's sign-in when a password is set."""
    current, secret = session(), _owner_password()
    if (problem := refusal()) is not None:
        st.sidebar.error(problem)
    if current.role == access.OWNER:
        st.sidebar.caption("Signed in as this deployment's owner: no limits, and you may delete any run.")
        st.sidebar.button("Sign out", on_click=lambda: st.session_state.pop(OWNER_KEY, None))
        return
    if current.role == access.LOCAL:
        return
    st.sidebar.caption("This is a shared public server: trainings are limited and wait their turn, and runs are "
                       "temporary (download a run's .keras to keep it).")
    st.sidebar.caption(f"Running the app on your own machine? Start it with `{access.LOCAL_START}` and it has no "
                       "limits.")
    if secret is not None:
        with st.sidebar.expander("Owner sign-in"):
            with st.form("owner-sign-in", clear_on_submit=True, border=False):
                st.text_input("Owner password", type="password", max_chars=200, key="owner_password_input")
                st.form_submit_button("Sign in", on_click=_sign_in, args=(secret,))
            if st.session_state.get("sign_in_message"):
                st.error(st.session_state.sign_in_message)
