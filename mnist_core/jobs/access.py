"""Who may do what on a server that strangers share: local users, visitors and the deployment's owner.

The rule, stated once: nothing a client sends (a header, its address, a cookie, a URL) makes a
session local. A session is *local* (unlimited: it is the person who started the app) only by
that person's say-so: MNIST_STUDIO_ACCESS=local in the server's environment at start, honoured
only while the server listens on this machine's loopback alone (`--server.address 127.0.0.1`),
and then for every session whose request carries no proxy header (X-Forwarded-For,
X-Forwarded-Host, X-Real-IP, Forwarded), so that a proxy which says so is never taken for the
person at the keyboard. The say-so with any other listen address is refused (ConfigError, every
session a visitor). Without it every session is a *visitor*, with VISITOR_LIMITS: a server fails
closed. A deployment's owner becomes *owner* (unlimited) in their session with the password set
as `owner_password` in the app's secrets; without that secret no one can.

A run, or a job, belongs to the session that made it: it records the session's owner id, a
hash of a random token that never leaves the session. Everyone may view, use and download every
run; only its owner, a local user or the deployment's owner may delete it or stop its job.

A session's *client* is the address the nearest proxy reports (the last X-Forwarded-For entry)
or else the connection's peer: what limits a person with many tabs (queue places, pinned runs,
password guesses). A client reached without a proxy could make up its X-Forwarded-For, so the
per-session and server-wide limits hold whatever a client claims.
"""

import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Mapping

from mnist_core.config import ConfigError, TrainConfig

ACCESS_ENV = "MNIST_STUDIO_ACCESS"
LOCAL_START = "MNIST_STUDIO_ACCESS=local streamlit run streamlit_app.py --server.address 127.0.0.1"
LOCAL, VISITOR, OWNER = "local", "visitor", "owner"  # a session's role
PROXY_HEADERS = ("x-forwarded-for", "x-forwarded-host", "x-real-ip", "forwarded")
MNIST_TRAIN_IMAGES = 60_000
# CPU-seconds one training image costs per epoch, by preset, with augmentation on (the dearer
# case) and the app's thread setting (one thread on a two-core machine), measured on the
# development machine (bench/README.md has the figures, and those of the batch-size caps below).
COST_PER_IMAGE_EPOCH = {"seed-mlp": 0.14e-3, "quick": 0.18e-3, "best": 1.8e-3}
START_SECONDS = 20.0  # a training process's start-up (TensorFlow, data) and save, on top of its epochs
# An import reads the test set twice (its evaluation, and the features its map is made of): a
# fixed IMPORT_SECONDS (TensorFlow's start, the data, the map, the export and the save; the
# figure the queue used for every import before) plus, per weight and image, what `best`'s
# forward pass costs (a third of its training step's 1.8e-3 s an image, over its 327k weights).
# A convolution reuses each weight at many places, a dense layer once: for a dense network the
# estimate errs high.
IMPORT_SECONDS, IMPORT_IMAGES, COST_PER_WEIGHT_IMAGE = 40.0, 20_000, 1.8e-3 / 3 / 327_000
MAX_FAILED_LOGINS, LOGIN_WINDOW = 10, 60.0  # wrong owner passwords a client may give a minute


class AccessError(RuntimeError):
    """A session may not do this; the message says why and who may."""


@dataclass(frozen=True)
class Limits:
    """What one session's trainings may use; None means no limit."""

    cpu_seconds: float | None = None  # a training's estimated compute, checked before it starts
    max_batch_size: dict | None = None  # by preset: the largest that keep a server and its training under 1.5 GB
    wall_seconds: float | None = None  # the watchdog stops a job that runs longer than this...
    kill_grace: float = 120.0  # ...and kills it if it has not ended this much later
    max_waiting: int | None = None  # jobs that may wait in the queue when this session submits
    max_jobs_per_client: int | None = None  # jobs one client (all its sessions) may have running or waiting
    max_pins_per_client: int | None = None  # runs one client's live sessions may spare from the quota
    max_runs: int | None = None  # visitors' runs the store keeps (see quota.py)
    max_megabytes: float | None = None  # and the room they may take


NO_LIMITS = Limits()
VISITOR_LIMITS = Limits(cpu_seconds=300.0, max_batch_size={"seed-mlp": 8192, "quick": 2048, "best": 256},
                        wall_seconds=900.0, kill_grace=120.0, max_waiting=3, max_jobs_per_client=1,
                        max_pins_per_client=3, max_runs=20, max_megabytes=200.0)


@dataclass(frozen=True)
class Session:
    """One browser session: its role, the owner id its runs and jobs record, and its client (see above)."""

    role: str
    owner_id: str
    client: str | None = None

    @property
    def client_key(self) -> str:
        """What per-client limits count this session under: its client, or itself when unknown."""
        return f"client:{self.client}" if self.client else f"session:{self.owner_id}"

    @property
    def limits(self) -> Limits:
        return VISITOR_LIMITS if self.role == VISITOR else NO_LIMITS

    def may_manage(self, owner_id: str | None) -> bool:
        """Whether this session may delete a run, or stop or cancel a job, recorded as `owner_id`'s."""
        if self.role != VISITOR:
            return True
        return isinstance(owner_id, str) and hmac.compare_digest(owner_id, self.owner_id)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def owner_id(token: str) -> str:
    """What a run records of the session that made it: a hash, so the token itself is never written."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def loopback_only(address: str | None) -> bool:
    """Whether a server listening on `address` (Streamlit's server.address; empty: every address
    of the machine) can be reached from this machine alone."""
    address = (address or "").strip().lower().strip("[]")
    return address == "localhost" or _loopback_address(address)


def started_role(environ: Mapping, listen_address: str | None) -> str:
    """LOCAL when the person who started the server said so (MNIST_STUDIO_ACCESS=local) and it
    listens on loopback alone, else VISITOR; ConfigError (and every session a visitor) for a
    say-so that cannot be honoured or is misspelt."""
    value = environ.get(ACCESS_ENV, "").strip().lower()
    if value in ("", "public"):
        return VISITOR
    if value != "local":
        raise ConfigError(f"{ACCESS_ENV} must be 'local' or 'public', got {value[:40]!r}; every session is a visitor")
    if not loopback_only(listen_address):
        where = f"on {listen_address.strip()[:60]!r}" if (listen_address or "").strip() else "on every address"
        raise ConfigError(f"{ACCESS_ENV}=local is refused: this server listens {where}, so others can reach it; "
                          f"every session is a visitor. For no limits on your own machine: {LOCAL_START}")
    return LOCAL


def session_role(started: str, headers: Mapping[str, str]) -> str:
    """A session's role by the rule above: `started` is started_role's answer, `headers` the
    browser's request headers (any case). Headers can make a session a visitor, never local."""
    names = {str(key).lower() for key in headers}
    return LOCAL if started == LOCAL and not names.intersection(PROXY_HEADERS) else VISITOR


def client_of(headers: Mapping[str, str], peer: str | None) -> str | None:
    """The client as the proxy reports it: the last X-Forwarded-For address (the one the nearest
    proxy appended), else the connection's peer (`st.context.ip_address`: None for loopback);
    None when neither is known (then a session is its own client)."""
    headers = {str(key).lower(): str(value) for key, value in headers.items()}
    forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
    client = forwarded[-1] if forwarded else peer if isinstance(peer, str) else None
    return client[:64] if client else None


_clients: "OrderedDict[str, str]" = OrderedDict()  # owner id → client_key, the sessions seen last
MAX_REMEMBERED_CLIENTS = 10_000


def note_client(session: Session) -> None:
    """Remember which client a session's owner id belongs to, so that a job submitted with its
    owner id alone (client_for) still counts against its client."""
    with _login_lock:
        _clients.pop(session.owner_id, None)
        _clients[session.owner_id] = session.client_key
        while len(_clients) > MAX_REMEMBERED_CLIENTS:
            _clients.popitem(last=False)


def client_for(owner_id: str | None) -> str | None:
    """The client_key last noted for `owner_id`, if any."""
    with _login_lock:
        return _clients.get(owner_id) if owner_id else None


def _loopback_address(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


_failed_logins: dict[str, deque] = {}  # client → times of its wrong passwords within LOGIN_WINDOW
_login_lock = threading.Lock()


def check_owner_password(given: str, secret, client: str, clock=time.monotonic) -> bool:
    """Whether `given` is the owner's password `secret` (compared in constant time).

    AccessError, without comparing, while `client` (client_of, else the session) gave
    MAX_FAILED_LOGINS wrong passwords in the last LOGIN_WINDOW seconds: a stranger's guesses slow
    down that stranger alone, and the owner, from their own client, still signs in.
    """
    if not isinstance(secret, str) or not secret:
        raise AccessError("this deployment has no owner password")
    with _login_lock:
        now = clock()
        for key in [key for key, times in _failed_logins.items() if now - times[-1] > LOGIN_WINDOW]:
            del _failed_logins[key]  # forget clients quiet for a window: the table stays small
        failed = _failed_logins.get(client, deque())
        while failed and now - failed[0] > LOGIN_WINDOW:
            failed.popleft()
        if len(failed) >= MAX_FAILED_LOGINS:
            raise AccessError("too many wrong passwords from here in the last minute; try again in a minute")
        if hmac.compare_digest(str(given).encode(), secret.encode()):
            return True
        failed.append(now)
        _failed_logins[client] = failed
        return False


def import_seconds(weight_bytes: int) -> float:
    """The compute an import of a network with `weight_bytes` of float32 weights is expected to take."""
    return IMPORT_SECONDS + weight_bytes / 4 * IMPORT_IMAGES * COST_PER_WEIGHT_IMAGE


def check_import(weight_bytes: int, limits: Limits) -> None:
    """ConfigError when importing such a network would take more than `limits` allow."""
    seconds = import_seconds(weight_bytes)
    if limits.cpu_seconds is None or seconds <= limits.cpu_seconds:
        return
    minutes = limits.cpu_seconds / 60
    raise ConfigError(f"this network has about {weight_bytes / 4 / 1e6:.1f} million weights: importing it (the test "
                      f"set read twice) would take about {seconds / 60:.0f} CPU-minutes; a job on this public server "
                      f"may take {minutes:g} CPU-minute{'s' if minutes != 1 else ''}")


def training_images(config: TrainConfig) -> int:
    """How many images a training goes through per epoch on MNIST (its synthesised styles included)."""
    available = MNIST_TRAIN_IMAGES - config.validation_size
    return (min(config.train_size, available) if config.train_size else available) + config.style_images


def cpu_seconds(config: TrainConfig) -> float:
    """The compute a training is expected to take on MNIST, by COST_PER_IMAGE_EPOCH."""
    return config.epochs * training_images(config) * COST_PER_IMAGE_EPOCH[config.preset]


def check_training(config: TrainConfig, limits: Limits) -> None:
    """ConfigError when a training asks for more than `limits` allow, saying the largest allowed value."""
    largest_batch = (limits.max_batch_size or {}).get(config.preset)
    if largest_batch is not None and config.batch_size > largest_batch:
        raise ConfigError(f"batch size must be at most {largest_batch} for {config.preset} on this public server "
                          f"(larger batches need more memory than it has), got {config.batch_size}")
    if limits.cpu_seconds is None or cpu_seconds(config) <= limits.cpu_seconds:
        return
    minutes = limits.cpu_seconds / 60
    images, budget = training_images(config), f"{minutes:g} CPU-minute{'s' if minutes != 1 else ''}"
    largest_epochs = int(limits.cpu_seconds // (images * COST_PER_IMAGE_EPOCH[config.preset]))
    asked = (f"{config.epochs} epoch{'s' if config.epochs != 1 else ''} of {images:,} images would take about "
             f"{cpu_seconds(config) / 60:.0f} CPU-minutes; a training on this public server may take {budget}")
    if largest_epochs:
        raise ConfigError(f"{asked}: at most {largest_epochs} epoch{'s' if largest_epochs != 1 else ''} "
                          f"with {images:,} images")
    largest_images = int(limits.cpu_seconds // COST_PER_IMAGE_EPOCH[config.preset]) - config.style_images
    raise ConfigError(f"{asked}: at most {max(largest_images, 0):,} training images for one epoch")
