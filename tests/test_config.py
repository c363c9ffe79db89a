"""``arrears.toml``: paths against the file's folder, secrets from the environment, errors
that name the key and the value; and the engine's refusals (adapters, compliance)."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from _cli import arrears
from arrears import Engine
from arrears.channels import RecordingChannel, SmtpChannel, WebhookChannel
from arrears.compliance import Compliance
from arrears.config import load_config, parse_duration
from arrears.errors import HIDDEN, MISSING, ChannelsMissing, ConfigInvalid, InvalidInput
from arrears.policy import load_policy

ROOT = Path(__file__).resolve().parent.parent
CN = ROOT / "src" / "arrears" / "examples" / "policies" / "cn_consumer_loan.yaml"

FULL = """\
policy = "policies/cn.yaml"

[store]
url = "data/arrears.db"

[run]
every = "1h30m"
owner = "collect-1"
lease_for = "20m"
batch = 200
status_file = "run/status.json"

[logging]
level = "warning"
format = "console"

[adapters.gateway]
type = "webhook"
channels = ["sms", "voicemail"]
url = "https://sms.lender.example/send"
status_url = "https://sms.lender.example/status/{key}"
headers = { X-Tenant = "lender-1" }
headers_env = { Authorization = "SMS_TOKEN" }
secret_env = "SMS_SECRET"

[adapters.mail]
type = "smtp"
host = "smtp.lender.example"
port = 465
from = "service@lender.example"
security = "ssl"
username_env = "SMTP_USER"
password_env = "SMTP_PASSWORD"

[adapters.post]
type = "python"
object = "test_config:PrintShop"
settings = { endpoint = "https://print.example/api" }
settings_env = { api_key = "PRINT_KEY" }
channels = ["letter"]
"""
ENV = {
    "SMS_TOKEN": "Bearer t0ken",
    "SMS_SECRET": "s3cret",
    "SMTP_USER": "smtp-user-7",
    "SMTP_PASSWORD": "pa55",
    "PRINT_KEY": "k3y",
}


class PrintShop:
    """A lender's own letter adapter, built from the file's settings."""

    channels = frozenset({"letter"})

    def __init__(self, endpoint: str, api_key: str) -> None:
        self.endpoint = endpoint
        self.api_key = api_key

    def send(self, message: Any) -> Any:
        raise NotImplementedError

    def delivery(self, key: str) -> Any:
        return None


def not_an_adapter() -> object:
    """Builds something that sends nothing."""
    return object()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deploy" / "arrears.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> ConfigInvalid:
    path = write(tmp_path, text)
    with pytest.raises(ConfigInvalid) as caught:
        load_config(path, environ=ENV if environ is None else environ)
    assert str(caught.value).startswith(f"{path}: ")
    return caught.value


MINIMAL = 'policy = "p.yaml"\n[store]\nurl = "a.db"\n'


class TestLoading:
    def test_a_full_file(self, tmp_path: Path) -> None:
        path = write(tmp_path, FULL)
        config = load_config(path, environ=ENV)
        folder = path.parent.resolve()
        assert config.store_url == str(folder / "data" / "arrears.db")
        assert config.policy_path == folder / "policies" / "cn.yaml"
        assert config.status_file == folder / "run" / "status.json"
        assert config.run.every == timedelta(hours=1, minutes=30)
        assert config.run.lease_for == timedelta(minutes=20)
        assert (config.owner, config.run.batch) == ("collect-1", 200)
        assert (config.logging.level, config.logging.format) == ("warning", "console")
        assert config.channels() == {
            "sms": "gateway",
            "voicemail": "gateway",
            "email": "mail",
            "letter": "post",
        }
        hook, mail, post = config.build_adapters()
        assert isinstance(hook, WebhookChannel)
        assert hook.channels == {"sms", "voicemail"}
        assert hook.status_url == "https://sms.lender.example/status/{key}"
        assert isinstance(mail, SmtpChannel)
        assert (mail.host, mail.port, mail.security, mail.sender) == (
            "smtp.lender.example",
            465,
            "ssl",
            "service@lender.example",
        )
        assert isinstance(post, PrintShop)
        assert (post.endpoint, post.api_key) == ("https://print.example/api", "k3y")

    def test_secrets_come_from_the_environment_and_stay_out_of_repr(self, tmp_path: Path) -> None:
        config = load_config(write(tmp_path, FULL), environ=ENV)
        assert config.secret("gateway", "headers_env.Authorization") == "Bearer t0ken"
        assert config.secret("gateway", "secret_env") == "s3cret"
        assert config.secret("mail", "password_env") == "pa55"
        assert not any(value in repr(config) for value in ENV.values())
        hook = config.build_adapters()[0]
        assert isinstance(hook, WebhookChannel)
        request = hook._client.build_request("POST", hook.url)
        assert request.headers["Authorization"] == "Bearer t0ken"
        assert request.headers["X-Tenant"] == "lender-1"

    def test_a_postgresql_url_from_the_environment_is_kept_as_it_is(self, tmp_path: Path) -> None:
        text = 'policy = "p.yaml"\n[store]\nurl_env = "DB_URL"\n'
        url = "postgresql://collect:pw@db.example/arrears"
        config = load_config(write(tmp_path, text), environ={"DB_URL": url})
        assert config.store_url == url
        assert "pw" not in repr(config)

    def test_defaults(self, tmp_path: Path) -> None:
        config = load_config(write(tmp_path, MINIMAL), environ={})
        assert config.run.every == timedelta(minutes=15)
        assert config.run.batch == 500
        assert config.status_file is None
        assert config.owner  # the host's name
        assert config.adapters == {}


class TestErrors:
    @pytest.mark.parametrize(
        ("text", "key", "value", "expected"),
        [
            (MINIMAL + '[run]\nevery = "15x"\n', "run.every", "15x", "a duration such as 15m"),
            (MINIMAL + '[run]\nevery = "0s"\n', "run.every", "0s", "more than zero"),
            (MINIMAL + "[run]\nbatch = 0\n", "run.batch", 0, "greater than or equal to 1"),
            (MINIMAL + '[logging]\nformat = "xml"\n', "logging.format", "xml", "'json'"),
            ("colour = 1\n" + MINIMAL, "colour", 1, "no such key here"),
            (
                MINIMAL + '[adapters.g]\ntype = "webhook"\nchannels = ["fax"]\nurl = "http://x/"\n',
                "adapters.g.channels",
                ["fax"],
                "channels among",
            ),
            (
                MINIMAL + '[adapters.g]\ntype = "webhook"\nchannels = ["sms"]\nurl = "ftp://x"\n',
                "adapters.g.url",
                "ftp://x",
                "an http:// or https:// URL",
            ),
            (
                MINIMAL + '[adapters.g]\ntype = "webhook"\nurl = "http://x/"\n',
                "adapters.g.channels",
                MISSING,
                "a value: the field is required",
            ),
            (
                MINIMAL + '[adapters.m]\ntype = "smtp"\nhost = "h"\nfrom = "nobody"\n',
                "adapters.m.from",
                "nobody",
                "String should match pattern",
            ),
            (
                MINIMAL + '[adapters.m]\ntype = "fax"\n',
                "adapters.m",
                HIDDEN,
                "'webhook', 'smtp', 'python'",
            ),
            (
                MINIMAL + '[adapters.p]\ntype = "python"\nobject = "no colon"\n',
                "adapters.p.object",
                "no colon",
                "module:attribute",
            ),
            ('[store]\nurl = "a.db"\n', "policy", MISSING, "a value: the field is required"),
            (
                'policy = "p"\n[store]\nurl = "a"\nurl_env = "B"\n',
                "store",
                HIDDEN,
                "exactly one of url and url_env",
            ),
        ],
    )
    def test_an_error_names_the_key_and_the_value(
        self, tmp_path: Path, text: str, key: str, value: Any, expected: str
    ) -> None:
        error = refused(tmp_path, text)
        assert error.field == key
        if value is not HIDDEN:
            assert error.value == value
            assert f"{key}: got {value!r}" in str(error)
        assert expected in error.expected

    def test_a_secret_written_in_the_file_is_never_repeated(self, tmp_path: Path) -> None:
        text = MINIMAL + (
            '[adapters.m]\ntype = "smtp"\nhost = "h"\nfrom = "a@b.example"\npassword = "hunter2"\n'
        )
        error = refused(tmp_path, text)
        assert error.field == "adapters.m.password"
        assert error.value is HIDDEN
        assert "hunter2" not in str(error)
        header = MINIMAL + (
            '[adapters.g]\ntype = "webhook"\nchannels = ["sms"]\nurl = "http://x/"\n'
            'headers = { Authorization = "Bearer abc" }\n'
        )
        error = refused(tmp_path, header)
        assert error.field == "adapters.g.headers"
        assert "headers_env" in error.expected
        assert "Bearer abc" not in str(error)

    def test_an_unset_environment_variable_is_named(self, tmp_path: Path) -> None:
        error = refused(tmp_path, FULL, {k: v for k, v in ENV.items() if k != "SMTP_PASSWORD"})
        assert (error.field, error.value) == ("adapters.mail.password_env", "SMTP_PASSWORD")
        assert "set" in error.expected
        assert "pa55" not in str(error)

    def test_a_channel_served_twice_is_refused(self, tmp_path: Path) -> None:
        text = MINIMAL + (
            '[adapters.a]\ntype = "webhook"\nchannels = ["sms"]\nurl = "http://a/"\n'
            '[adapters.b]\ntype = "webhook"\nchannels = ["email", "sms"]\nurl = "http://b/"\n'
        )
        error = refused(tmp_path, text)
        assert (error.field, error.value) == ("adapters.b.channels", "sms")
        assert "adapters.a" in error.expected

    def test_not_toml(self, tmp_path: Path) -> None:
        error = refused(tmp_path, "policy = \n")
        assert error.field == "file"
        assert "a TOML file" in error.expected

    @pytest.mark.parametrize(
        ("obj", "expected"),
        [
            ("no_such_module_here:X", "an importable module"),
            ("test_config:Nothing", "it has no 'Nothing'"),
            ("test_config:ENV", "a class or function"),
            ("test_config:not_an_adapter", "returns a ChannelAdapter"),
            ("test_config:PrintShop", "a factory that takes settings []"),
        ],
    )
    def test_a_python_adapter_that_cannot_be_built(
        self, tmp_path: Path, obj: str, expected: str
    ) -> None:
        text = MINIMAL + f'[adapters.p]\ntype = "python"\nobject = "{obj}"\n'
        config = load_config(write(tmp_path, text), environ={})
        with pytest.raises(ConfigInvalid) as caught:
            config.build_adapters()
        assert caught.value.field == "adapters.p.object"
        assert caught.value.value == obj
        assert expected in caught.value.expected

    def test_a_python_adapter_must_serve_the_channels_named(self, tmp_path: Path) -> None:
        text = MINIMAL + (
            '[adapters.p]\ntype = "python"\nobject = "test_config:PrintShop"\n'
            'channels = ["letter", "email"]\n'
            'settings = { endpoint = "https://print.example/api", api_key = "k" }\n'
        )
        config = load_config(write(tmp_path, text), environ={})
        with pytest.raises(ConfigInvalid) as caught:
            config.build_adapters()
        assert caught.value.field == "adapters.p.channels"
        assert caught.value.value == ["letter", "email"]
        assert "['letter']" in caught.value.expected


def test_durations() -> None:
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("2d") == timedelta(days=2)
    assert parse_duration(90) == timedelta(seconds=90)
    for bad in ("", "m", "15 minutes", "-5m", "0m", "400d", True):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)  # type: ignore[arg-type]


class TestEngine:
    """No fake deliveries, one source of compliance."""

    def test_adapters_given_must_serve_every_channel_the_policy_sends_on(self) -> None:
        policy = load_policy(CN)
        with pytest.raises(ChannelsMissing) as caught:
            Engine(policy=policy, channels=[RecordingChannel(channels={"email"})])
        assert caught.value.channels == ("sms",)
        assert caught.value.served == ("email",)
        assert str(caught.value).startswith("no channel adapter for sms:")
        Engine(policy=policy, channels=[RecordingChannel(channels={"sms"})])

    def test_an_engine_without_adapters_records_but_will_not_tick(self) -> None:
        engine = Engine(policy=load_policy(CN))
        assert engine.missing_channels() == ("sms",)
        engine.open_case(
            {
                "id": "C-1",
                "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
                "balance": {"currency": "CNY", "principal": "100.00"},
                "due_date": "2026-01-01",
            }
        )
        before = len(engine.history("C-1"))
        with pytest.raises(ChannelsMissing, match="sms"):
            engine.tick()
        assert len(engine.history("C-1")) == before  # nothing was reviewed
        engine.channels = [RecordingChannel(channels={"sms"})]
        assert engine.missing_channels() == ()
        assert engine.tick().reviewed == 1

    def test_compliance_beside_a_policy_must_say_how(self) -> None:
        policy = load_policy(CN)
        own = Compliance(["US-RegF"])
        with pytest.raises(InvalidInput) as caught:
            Engine(policy=policy, compliance=own)
        assert caught.value.field == "compliance"
        assert "compliance_mode='replace'" in caught.value.expected
        replaced = Engine(policy=policy, compliance=own, compliance_mode="replace")
        assert replaced.compliance is own
        added = Engine(policy=policy, compliance=own, compliance_mode="add")
        ids = added.compliance.rule_ids
        assert "CN-HOURS" in ids
        assert "US-7IN7" in ids
        assert ids.index("CN-HOURS") < ids.index("US-7IN7")  # the policy's first
        assert Engine(policy=policy).compliance.rule_ids == policy.build_compliance().rule_ids

    def test_adding_a_rule_the_policy_has_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            Engine(policy=load_policy(CN), compliance=Compliance(["CN"]), compliance_mode="add")
        assert caught.value.field == "compliance"
        assert "CN-HOURS" in caught.value.value

    def test_a_mode_without_compliance_is_refused(self) -> None:
        with pytest.raises(InvalidInput, match="compliance_mode"):
            Engine(policy=load_policy(CN), compliance_mode="add")
        with pytest.raises(InvalidInput, match="compliance_mode"):
            Engine(compliance=Compliance(), compliance_mode="merge")  # type: ignore[arg-type]


class TestCommandLine:
    def arrears(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return arrears(*args, timeout=120)

    def test_a_bad_file_is_one_line_and_exit_2(self, tmp_path: Path) -> None:
        path = write(tmp_path, MINIMAL + '[run]\nevery = "soon"\n')
        for command in ("tick", "run"):
            done = self.arrears(command, "--config", path)
            assert done.returncode == 2
            assert done.stderr.splitlines() == [
                f"arrears {command}: {path}: run.every: got 'soon', expected a duration "
                "such as 15m, 1h30m or 2d"
            ]

    def test_a_channel_without_an_adapter_refuses_to_start(self, tmp_path: Path) -> None:
        text = f'policy = "{CN.as_posix()}"\n[store]\nurl = "arrears.db"\n' + (
            '[adapters.mail]\ntype = "smtp"\nhost = "127.0.0.1"\nfrom = "a@b.example"\n'
        )
        path = write(tmp_path, text)
        (path.parent / "arrears.db").touch()
        for command in ("tick", "run"):
            done = self.arrears(command, "--config", path)
            assert done.returncode == 2
            assert done.stderr.splitlines() == [
                f"arrears {command}: no channel adapter for sms: the policy's steps send on it "
                f"(the adapters serve: email); add an [adapters.NAME] table for it to {path}"
            ]
