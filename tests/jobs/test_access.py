"""Who is local, visitor or owner; the owner's password; what a visitor's training may ask for."""

import pytest

from mnist_core.jobs import access
from mnist_core.jobs.access import LOCAL, VISITOR, VISITOR_LIMITS, AccessError, Session
from mnist_core.config import ConfigError, make_config


@pytest.mark.parametrize("headers, peer, role", [
    ({"Host": "localhost:8501"}, None, LOCAL),  # `streamlit run` on your own machine
    ({"host": "LOCALHOST"}, None, LOCAL),
    ({"Host": "127.0.0.1:8501"}, None, LOCAL),
    ({"Host": "127.8.9.10:8501"}, "127.0.0.1", LOCAL),
    ({"Host": "[::1]:8501"}, "::1", LOCAL),
    ({"Host": "localhost:8501"}, "::ffff:127.0.0.1", LOCAL),  # a dual-stack socket's IPv4 loopback
    ({"Host": "mnist-studio.streamlit.app", "X-Forwarded-For": "203.0.113.7"}, None, VISITOR),  # Community Cloud
    ({"Host": "localhost:8501", "X-Forwarded-For": "203.0.113.7"}, None, VISITOR),  # a proxy on this machine
    ({"Host": "localhost:8501", "x-real-ip": "203.0.113.7"}, None, VISITOR),
    ({"Host": "localhost:8501", "Forwarded": "for=203.0.113.7"}, None, VISITOR),
    ({"Host": "localhost:8501", "X-Forwarded-Host": "example.org"}, None, VISITOR),
    ({"Host": "localhost:8501"}, "203.0.113.7", VISITOR),  # a stranger sending Host: localhost to a public port
    ({"Host": "localhost:8501"}, "192.168.1.20", VISITOR),  # a colleague on the same network
    ({"Host": "192.168.1.5:8501"}, "192.168.1.20", VISITOR),
    ({"Host": "localhost.evil.example"}, None, VISITOR),
    ({"Host": "127.0.0.1.nip.io"}, None, VISITOR),
    ({}, None, VISITOR),  # no Host at all (a test harness): not local
])
def test_the_access_rule_from_headers(headers, peer, role):
    assert access.connection_role(headers, peer) == role


@pytest.mark.parametrize("value, role", [(None, None), ("", None), ("auto", None), ("public", VISITOR),
                                         ("PUBLIC", VISITOR), ("local", LOCAL), (" local ", LOCAL)])
def test_the_environment_forces_a_role(value, role):
    assert access.forced_role({} if value is None else {access.ACCESS_ENV: value}) == role


def test_an_unknown_forced_role_is_an_error_that_says_what_it_does():
    with pytest.raises(ConfigError, match="MNIST_STUDIO_ACCESS must be 'public' or 'local', got 'publik'; treating "
                                          "every session as a visitor"):
        access.forced_role({access.ACCESS_ENV: "publik"})


def test_the_owner_password_and_its_lockout(monkeypatch):
    monkeypatch.setattr(access, "_failed_logins", type(access._failed_logins)())
    now = [1000.0]
    clock = lambda: now[0]  # noqa: E731
    assert access.check_owner_password("s3cret-pass", "s3cret-pass", clock) is True
    assert access.check_owner_password("s3cret-pas", "s3cret-pass", clock) is False
    assert access.check_owner_password("", "s3cret-pass", clock) is False
    with pytest.raises(AccessError, match="no owner password"):
        access.check_owner_password("", None, clock)
    with pytest.raises(AccessError, match="no owner password"):
        access.check_owner_password("", "", clock)
    for _ in range(access.MAX_FAILED_LOGINS - 2):
        assert access.check_owner_password("guess", "s3cret-pass", clock) is False
    with pytest.raises(AccessError, match="too many wrong passwords in the last minute"):
        access.check_owner_password("s3cret-pass", "s3cret-pass", clock)  # even the right one, for a minute
    now[0] += access.LOGIN_WINDOW + 1
    assert access.check_owner_password("s3cret-pass", "s3cret-pass", clock) is True


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
