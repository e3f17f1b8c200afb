"""Who is local, visitor or owner; the owner's password; what a visitor's training may ask for."""

import pytest

from mnist_core.jobs import access
from mnist_core.jobs.access import LOCAL, VISITOR, VISITOR_LIMITS, AccessError, Session
from mnist_core.config import ConfigError, make_config


@pytest.mark.parametrize("environ, address, role", [
    ({}, "127.0.0.1", VISITOR),  # nothing said: a visitor, even on a loopback-only server (fail closed)
    ({}, None, VISITOR),
    ({access.ACCESS_ENV: "public"}, "127.0.0.1", VISITOR),
    ({access.ACCESS_ENV: "local"}, "127.0.0.1", LOCAL),  # the README's start command
    ({access.ACCESS_ENV: " LOCAL "}, "localhost", LOCAL),
    ({access.ACCESS_ENV: "local"}, "::1", LOCAL),
    ({access.ACCESS_ENV: "local"}, "[::1]", LOCAL),
    ({access.ACCESS_ENV: "local"}, "127.8.9.10", LOCAL),
])
def test_a_server_is_local_only_by_the_say_so_of_whoever_started_it(environ, address, role):
    assert access.started_role(environ, address) == role


@pytest.mark.parametrize("address, where", [
    (None, "on every address"), ("", "on every address"), ("0.0.0.0", "on '0.0.0.0'"), ("::", "on '::'"),
    ("192.168.1.5", "on '192.168.1.5'"), ("localhost.evil.example", "on 'localhost.evil.example'"),
    ("127.0.0.1.nip.io", "on '127.0.0.1.nip.io'"),
])
def test_the_say_so_is_refused_on_a_server_others_can_reach(address, where):
    with pytest.raises(ConfigError) as refused:
        access.started_role({access.ACCESS_ENV: "local"}, address)
    assert str(refused.value) == (f"MNIST_STUDIO_ACCESS=local is refused: this server listens {where}, so others can "
                                  "reach it; every session is a visitor. For no limits on your own machine: "
                                  "MNIST_STUDIO_ACCESS=local streamlit run streamlit_app.py --server.address 127.0.0.1")


def test_an_unknown_say_so_is_an_error_that_says_what_it_does():
    with pytest.raises(ConfigError, match="MNIST_STUDIO_ACCESS must be 'local' or 'public', got 'auto'; every "
                                          "session is a visitor"):
        access.started_role({access.ACCESS_ENV: "auto"}, "127.0.0.1")


@pytest.mark.parametrize("headers", [
    {"Host": "localhost:8501"}, {"host": "127.0.0.1:8501"}, {"Host": "[::1]:8501"}, {},
    {"Host": "127.0.0.1:8501", "Origin": "http://localhost:8501", "Cookie": "local=1", "Referer": "http://[::1]/"},
])
def test_nothing_a_client_sends_makes_a_session_local(headers):
    """Before, a loopback peer asking for a loopback Host was local: a proxy on the same machine
    (nginx's `proxy_pass http://127.0.0.1:8501;`) made every stranger so. Now no header can."""
    assert access.session_role(VISITOR, headers) == VISITOR
    assert access.session_role(LOCAL, headers) == LOCAL  # ...and under the say-so none is needed


@pytest.mark.parametrize("header", ["X-Forwarded-For", "x-real-ip", "Forwarded", "X-Forwarded-Host"])
def test_a_proxy_that_says_so_makes_even_a_local_servers_session_a_visitor(header):
    assert access.session_role(LOCAL, {"Host": "localhost:8501", header: "203.0.113.7"}) == VISITOR


@pytest.mark.parametrize("headers, peer, client", [
    ({"X-Forwarded-For": "203.0.113.7"}, None, "203.0.113.7"),  # Community Cloud's proxy
    ({"x-forwarded-for": "10.9.9.9, 203.0.113.7"}, "10.0.0.2", "203.0.113.7"),  # what the client made up goes first
    ({}, "198.51.100.4", "198.51.100.4"),  # no proxy: the peer
    ({}, None, None),  # a loopback peer and no proxy: the session is its own client
    ({"X-Forwarded-For": " , "}, None, None),
])
def test_a_client_is_what_the_nearest_proxy_reports(headers, peer, client):
    assert access.client_of(headers, peer) == client
    session = Session(VISITOR, "a" * 32, client)
    assert session.client_key == (f"client:{client}" if client else f"session:{'a' * 32}")


def test_wrong_passwords_slow_down_their_client_and_the_owner_still_signs_in(monkeypatch):
    monkeypatch.setattr(access, "_failed_logins", {})
    now = [1000.0]
    clock = lambda: now[0]  # noqa: E731
    owner, stranger = "client:198.51.100.9", "client:203.0.113.7"
    assert access.check_owner_password("s3cret-pass", "s3cret-pass", owner, clock) is True
    assert access.check_owner_password("s3cret-pas", "s3cret-pass", stranger, clock) is False
    assert access.check_owner_password("", "s3cret-pass", stranger, clock) is False
    for secret in (None, ""):
        with pytest.raises(AccessError, match="no owner password"):
            access.check_owner_password("", secret, owner, clock)
    for _ in range(access.MAX_FAILED_LOGINS - 2):
        assert access.check_owner_password("guess", "s3cret-pass", stranger, clock) is False
    with pytest.raises(AccessError, match="too many wrong passwords from here in the last minute"):
        access.check_owner_password("s3cret-pass", "s3cret-pass", stranger, clock)  # not even compared
    assert access.check_owner_password("s3cret-pass", "s3cret-pass", owner, clock) is True  # not locked out
    assert access.check_owner_password("typo", "s3cret-pass", owner, clock) is False
    now[0] += access.LOGIN_WINDOW + 1
    assert access.check_owner_password("s3cret-pass", "s3cret-pass", stranger, clock) is True
    assert set(access._failed_logins) == set()  # clients quiet for a window are forgotten


def test_a_session_manages_only_its_own_unless_it_is_local_or_the_owner():
    token_a, token_b = access.new_token(), access.new_token()
    a, b = access.owner_id(token_a), access.owner_id(token_b)
    assert token_a != token_b and len(a) == 32 and token_a not in a and a == access.owner_id(token_a)
    visitor = Session(VISITOR, a)
    assert visitor.may_manage(a) and not visitor.may_manage(b) and not visitor.may_manage(None)
    assert not visitor.may_manage({"id": a})  # whatever a card holds, only the same id matches
    for role in (LOCAL, access.OWNER):
        assert Session(role, a).may_manage(b) and Session(role, a).may_manage(None)
    assert visitor.limits is VISITOR_LIMITS and Session(LOCAL, a).limits == access.NO_LIMITS


@pytest.mark.parametrize("preset, overrides, message", [
    ("best", dict(epochs=10), "10 epochs of 59,500 images would take about 18 CPU-minutes; a training on this "
                              "public server may take 5 CPU-minutes: at most 2 epochs with 59,500 images"),
    ("quick", dict(epochs=40, train_size=0), "40 epochs of 55,000 images would take about 7 CPU-minutes; a training "
                                             "on this public server may take 5 CPU-minutes: at most 30 epochs with "
                                             "55,000 images"),
    ("seed-mlp", dict(epochs=500, train_size=20000), "500 epochs of 20,000 images would take about 23 CPU-minutes; "
                                                     "a training on this public server may take 5 CPU-minutes: at "
                                                     "most 107 epochs with 20,000 images"),
    ("best", dict(batch_size=512), "batch size must be at most 256 for best on this public server (larger batches "
                                   "need more memory than it has), got 512"),
    ("quick", dict(batch_size=4096), "batch size must be at most 2048 for quick"),
])
def test_a_visitor_training_beyond_the_budget_is_refused_with_the_largest_allowed_value(preset, overrides, message):
    config = make_config(preset, **overrides)
    with pytest.raises(ConfigError) as refused:
        access.check_training(config, VISITOR_LIMITS)
    assert str(refused.value).startswith(message)
    access.check_training(config, access.NO_LIMITS)  # a local user or the owner: no budget


def test_the_largest_allowed_epochs_is_allowed_and_one_more_is_not():
    for preset in ("seed-mlp", "quick", "best"):
        largest = int(str(_refusal(make_config(preset, epochs=500))).split("at most ")[1].split(" epoch")[0])
        access.check_training(make_config(preset, epochs=largest), VISITOR_LIMITS)
        assert f"at most {largest} epochs" in str(_refusal(make_config(preset, epochs=largest + 1)))


def test_the_images_counted_are_the_training_split_and_the_synthesised_styles():
    config = make_config("best", epochs=1, style_images=30000, train_size=60000, validation_size=100)
    assert access.training_images(config) == 59_900 + 30_000
    assert access.cpu_seconds(config) == pytest.approx(89_900 * 1.8e-3)
    access.check_training(config, VISITOR_LIMITS)
    assert access.training_images(make_config("quick", train_size=2000)) == 2000


def test_when_even_one_epoch_is_too_much_it_says_how_many_images_fit():
    limits = access.Limits(cpu_seconds=60.0)
    message = str(_refusal(make_config("best", epochs=1), limits))
    assert message == ("1 epoch of 59,500 images would take about 2 CPU-minutes; a training on this public server "
                       "may take 1 CPU-minute: at most 28,833 training images for one epoch")


def _refusal(config, limits=VISITOR_LIMITS) -> ConfigError:
    with pytest.raises(ConfigError) as refused:
        access.check_training(config, limits)
    return refused.value


def test_an_imports_cost_is_estimated_from_its_weights_and_a_visitors_budget_bounds_it():
    best = 1_310_000  # `best`'s weights file: 327k float32 weights
    assert access.import_seconds(best) == pytest.approx(40 + 327_500 * 20_000 * 1.8e-3 / 3 / 327_000)
    access.check_import(best, VISITOR_LIMITS)
    access.check_import(40_000_000, access.NO_LIMITS)  # a local user or the owner: no budget
    with pytest.raises(ConfigError) as refused:
        access.check_import(40_000_000, VISITOR_LIMITS)
    assert str(refused.value) == ("this network has about 10.0 million weights: importing it (the test set read "
                                  "twice) would take about 7 CPU-minutes; a job on this public server may take 5 "
                                  "CPU-minutes")
