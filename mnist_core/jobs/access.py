"""Who may do what on a server that strangers share: local users, visitors and the deployment's owner.

The rule, with no configuration: a browser session is *local* (unlimited: it is the person who
started the app) when its connection comes from this machine (the peer address is loopback),
the address the browser asked for is a loopback host (`Host` is localhost, 127.x or [::1]), and
no proxy stood in between (no X-Forwarded-For, X-Forwarded-Host, X-Real-IP or Forwarded
header). Every other session is a *visitor*, with VISITOR_LIMITS. A public deployment always
reaches the app through a proxy or from another machine, so its visitors are never local; a
client cannot pretend otherwise, since it controls neither its peer address nor the proxy's
headers. MNIST_STUDIO_ACCESS=public or =local forces either answer for every session. A
deployment's owner becomes *owner* (unlimited) in their session with the password set as
`owner_password` in the app's secrets; without that secret no one can.

A run, or a job, belongs to the session that made it: it records the session's owner id, a
hash of a random token that never leaves the session. Everyone may view, use and download every
run; only its owner, a local user or the deployment's owner may delete it or stop its job.
"""

import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Mapping

from mnist_core.config import ConfigError, TrainConfig

ACCESS_ENV = "MNIST_STUDIO_ACCESS"
LOCAL, VISITOR, OWNER = "local", "visitor", "owner"  # a session's role
PROXY_HEADERS = ("x-forwarded-for", "x-forwarded-host", "x-real-ip", "forwarded")
MNIST_TRAIN_IMAGES = 60_000
# CPU-seconds one training image costs per epoch, by preset, with augmentation on (the dearer
# case) and the app's thread setting (one thread on a two-core machine), measured on the
# development machine (bench/README.md has the figures, and those of the batch-size caps below).
COST_PER_IMAGE_EPOCH = {"seed-mlp": 0.14e-3, "quick": 0.18e-3, "best": 1.8e-3}
START_SECONDS = 20.0  # a training process's start-up (TensorFlow, data) and save, on top of its epochs
MAX_FAILED_LOGINS, LOGIN_WINDOW = 10, 60.0  # wrong owner passwords a minute, server-wide


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
    max_runs: int | None = None  # visitors' runs the store keeps (see quota.py)
    max_megabytes: float | None = None  # and the room they may take


NO_LIMITS = Limits()
VISITOR_LIMITS = Limits(cpu_seconds=300.0, max_batch_size={"seed-mlp": 8192, "quick": 2048, "best": 256},
                        wall_seconds=900.0, kill_grace=120.0, max_waiting=3, max_runs=20, max_megabytes=200.0)


@dataclass(frozen=True)
class Session:
    """One browser session: its role and the owner id its runs and jobs record."""

    role: str
    owner_id: str

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


def forced_role(environ: Mapping = os.environ) -> str | None:
    """LOCAL or VISITOR when MNIST_STUDIO_ACCESS forces one, else None."""
    value = environ.get(ACCESS_ENV, "").strip().lower()
    if value in ("", "auto"):
        return None
    if value not in ("public", "local"):
        raise ConfigError(f"{ACCESS_ENV} must be 'public' or 'local', got {value[:40]!r}; treating every session "
                          "as a visitor")
    return LOCAL if value == "local" else VISITOR


def _loopback_address(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _loopback_host(host: str) -> bool:
    """Whether a Host header ("localhost:8501", "127.0.0.1", "[::1]:8501") names this machine."""
    host = host.strip().lower()
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    else:
        name = host.rpartition(":")[0] if host.count(":") == 1 else host
    return name == "localhost" or _loopback_address(name)


def connection_role(headers: Mapping[str, str], peer: str | None) -> str:
    """LOCAL or VISITOR for a connection, by the rule above (without MNIST_STUDIO_ACCESS).

    `headers` are the browser's (any case); `peer` is the remote address as Streamlit gives it
    (st.context.ip_address): None for a loopback peer.
    """
    headers = {str(key).lower(): str(value) for key, value in headers.items()}
    if any(header in headers for header in PROXY_HEADERS):
        return VISITOR
    if peer is not None and not _loopback_address(peer):
        return VISITOR
    return LOCAL if _loopback_host(headers.get("host", "")) else VISITOR


_failed_logins: deque = deque()
_login_lock = threading.Lock()


def check_owner_password(given: str, secret, clock=time.monotonic) -> bool:
    """Whether `given` is the owner's password `secret` (compared in constant time).

    AccessError while MAX_FAILED_LOGINS wrong passwords were given on this server in the last
    LOGIN_WINDOW seconds: a stranger guessing cannot try more than that, whichever session.
    """
    if not isinstance(secret, str) or not secret:
        raise AccessError("this deployment has no owner password")
    with _login_lock:
        now = clock()
        while _failed_logins and now - _failed_logins[0] > LOGIN_WINDOW:
            _failed_logins.popleft()
        if len(_failed_logins) >= MAX_FAILED_LOGINS:
            raise AccessError("too many wrong passwords in the last minute; try again in a minute")
        if hmac.compare_digest(str(given).encode(), secret.encode()):
            return True
        _failed_logins.append(now)
        return False


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
