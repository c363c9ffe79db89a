"""The configuration file, ``arrears.toml``: the store, the policy, the channel adapters, logging.

One file says everything `arrears tick --config` and `arrears run` need to
review cases for real::

    policy = "policies/cn_consumer_loan.yaml"

    [store]
    url = "arrears.db"

    [adapters.gateway]
    type = "webhook"
    channels = ["sms"]
    url = "https://sms.lender.example/send"
    headers_env = { Authorization = "SMS_GATEWAY_AUTHORIZATION" }

Relative paths (the store's SQLite file, the policy, the status file) are
read from the file's folder, not the working directory.  Secrets never sit
in the file: a key ending in ``_env`` names the environment variable that
holds the value (``password_env = "SMTP_PASSWORD"``), read when the file is
loaded.  `load_config` validates the whole file with pydantic and raises
`ConfigInvalid` naming the key, the value and what was expected; the
reference is ``docs/configuration.md``.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import socket
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .channels import ALL_CHANNELS, ChannelAdapter
from .errors import HIDDEN, ConfigInvalid, invalid_input
from .limits import LEASE

if TYPE_CHECKING:
    from .clock import Clock
    from .policy import Policy
    from .store import Store

__all__ = [
    "AdapterSettings",
    "Config",
    "LoggingSettings",
    "PythonAdapter",
    "RunSettings",
    "SmtpAdapter",
    "StoreSettings",
    "WebhookAdapter",
    "load_config",
    "parse_duration",
]

#: The file `arrears` looks for when none is named.
DEFAULT_FILE: Final = "arrears.toml"

_DURATION: Final = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms])")
_UNITS: Final = {"d": 86400, "h": 3600, "m": 60, "s": 1}
#: Keys whose values an error never repeats (a secret written where its variable's name belongs).
_SECRET: Final = re.compile(r"pass|secret|token|key|auth|credential|cookie", re.IGNORECASE)
_ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OBJECT_PATH: Final = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def parse_duration(value: str | float) -> timedelta:
    """``"15m"``, ``"1h30m"``, ``"2d"``, ``"90s"`` (or a number of seconds) as a timedelta.

    Raises:
        ValueError: not such a duration, or not more than zero.
    """
    if isinstance(value, bool):
        raise ValueError("a duration such as 15m, 1h30m or 2d")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = value.strip().lower()
        parts = _DURATION.findall(text)
        if not parts or _DURATION.sub("", text).strip():
            raise ValueError("a duration such as 15m, 1h30m or 2d")
        seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if not 0 < seconds < 366 * 86400:
        raise ValueError("a duration more than zero and under a year")
    return timedelta(seconds=seconds)


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, (str, int, float)) else value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("the name of an environment variable (letters, digits and _)")
    return value


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/]+\S*", value):
        raise ValueError("an http:// or https:// URL")
    return value


def _object_path(value: str) -> str:
    if not _OBJECT_PATH.fullmatch(value):
        raise ValueError("module:attribute, e.g. lender.printshop:PrintShop")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
EnvName = Annotated[str, AfterValidator(_env_name)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class StoreSettings(_Section):
    """``[store]``: where cases and the journal live.

    Attributes:
        url: An SQLite file (relative to the configuration file's folder) or
            a ``postgresql://`` URL.
        url_env: The environment variable holding the URL instead (a
            PostgreSQL URL with its password); exactly one of the two.
    """

    url: str | None = Field(default=None, min_length=1)
    url_env: EnvName | None = None

    @model_validator(mode="after")
    def _one(self) -> StoreSettings:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env")
        return self


class RunSettings(_Section):
    """``[run]``: how `arrears run` ticks.

    Attributes:
        every: The cadence: a tick every this long (``"15m"``, ``"1h"``).
        owner: The name this worker leases due cases under; the host's name
            when omitted.  Give each process its own, one that survives
            restarts (``"collect-host1-1"``).
        lease_for: How long a lease lasts: a dead worker's cases are taken
            again after it.  Longer than one batch takes; at most a day
            (`arrears.limits.LEASE`).
        batch: Cases per batch (`arrears.engine.Engine.tick`); a stop asked
            for waits for the batch under way, never longer.
        status_file: A JSON file rewritten after every batch with what the
            run is doing (relative to the configuration file's folder).
        max_failures: Ticks in a row that may fail (a store down) before the
            run gives up and exits 3.
    """

    every: Duration = timedelta(minutes=15)
    owner: str | None = Field(default=None, min_length=1, max_length=128)
    lease_for: Duration = Field(default=timedelta(minutes=15), gt=timedelta(0), le=LEASE)
    batch: int = Field(default=500, ge=1, le=100_000)
    status_file: str | None = Field(default=None, min_length=1)
    max_failures: int = Field(default=5, ge=1)


class LoggingSettings(_Section):
    """``[logging]``: the log lines `arrears run` and `arrears tick` write on standard error.

    Attributes:
        level: ``debug``, ``info``, ``warning`` or ``error``.
        format: ``json`` (one object a line, for a log collector) or
            ``console`` (for a person).
    """

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class _Adapter(_Section):
    channels: tuple[str, ...] | None = Field(default=None, min_length=1)

    @field_validator("channels")
    @classmethod
    def _known(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        unknown = sorted(set(value) - ALL_CHANNELS)
        if unknown:
            raise ValueError(f"channels among {sorted(ALL_CHANNELS)} (not {unknown})")
        if len(set(value)) != len(value):
            raise ValueError("each channel once")
        return value


class WebhookAdapter(_Adapter):
    """``type = "webhook"``: `arrears.channels.WebhookChannel`, JSON over HTTP.

    Attributes:
        channels: The channels it serves (required: a webhook can carry any).
        url: The endpoint messages are posted to.
        status_url: Where delivery reports are read, with ``{key}`` in it.
        timeout: Seconds for connecting and for each read and write.
        retries: How many times a retryable failure is tried again.
        backoff: Seconds before the first retry, doubled for each next one.
        headers: Headers sent with every request (not secrets).
        headers_env: Headers whose values are read from environment variables,
            header name → variable name (``Authorization = "SMS_TOKEN"``).
        secret_env: The variable holding the secret each body is signed with.
    """

    type: Literal["webhook"]
    channels: tuple[str, ...] = Field(min_length=1)
    url: HttpUrl
    status_url: HttpUrl | None = None
    timeout: float = Field(default=10.0, gt=0, le=600)
    retries: int = Field(default=2, ge=0, le=10)
    backoff: float = Field(default=0.5, ge=0, le=60)
    headers: dict[str, str] = Field(default_factory=dict)
    headers_env: dict[str, EnvName] = Field(default_factory=dict)
    secret_env: EnvName | None = None

    @field_validator("headers")
    @classmethod
    def _no_secret(cls, value: dict[str, str]) -> dict[str, str]:
        secret = sorted(name for name in value if _SECRET.search(name))
        if secret:
            raise ValueError(
                f"headers without secrets: give {secret} in headers_env, from environment variables"
            )
        return value

    @field_validator("status_url")
    @classmethod
    def _with_key(cls, value: str | None) -> str | None:
        if value is not None and "{key}" not in value:
            raise ValueError("a URL with {key} in it, e.g. https://gw.example/status/{key}")
        return value


class SmtpAdapter(_Adapter):
    """``type = "smtp"``: `arrears.channels.SmtpChannel`, e-mail through an SMTP server.

    Attributes:
        channels: ``["email"]``, the one it can serve (the default).
        host: The server.
        port: Its port: 587 for STARTTLS submission, 465 for TLS, 25 for a relay.
        sender: The ``From`` address (``from`` in the file).
        security: ``starttls`` (the default), ``ssl`` (TLS from the start) or
            ``none`` (a local relay).
        username_env: The variable holding the user to log in as.
        password_env: The variable holding the password.
        timeout: Seconds for the connection and each command.
    """

    type: Literal["smtp"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(alias="from", pattern=r"^[^@\s]+@[^@\s]+$")
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: EnvName | None = None
    password_env: EnvName | None = None
    timeout: float = Field(default=10.0, gt=0, le=600)

    @model_validator(mode="after")
    def _email_only(self) -> SmtpAdapter:
        if self.channels is not None and self.channels != ("email",):
            raise ValueError(f"channels: got {list(self.channels)}, expected ['email']")
        if self.password_env is not None and self.username_env is None:
            raise ValueError("username_env: a password needs a user: give username_env too")
        return self


class PythonAdapter(_Adapter):
    """``type = "python"``: the lender's own adapter, built by a class or function.

    Attributes:
        object: ``module:attribute`` (``lender.printshop:PrintShop``): called
            with `settings` and `settings_env` as keyword arguments, it
            returns a `arrears.channels.ChannelAdapter`.  Its module must be
            importable (installed, or on ``PYTHONPATH``).
        settings: Keyword arguments (not secrets).
        settings_env: Keyword arguments read from environment variables,
            argument → variable name.
        channels: The channels it must serve (checked against the adapter's
            own ``channels``); the adapter's own when omitted.
    """

    type: Literal["python"]
    object: Annotated[str, AfterValidator(_object_path)]
    settings: dict[str, Any] = Field(default_factory=dict)
    settings_env: dict[str, EnvName] = Field(default_factory=dict)


AdapterSettings = Annotated[
    WebhookAdapter | SmtpAdapter | PythonAdapter, Field(discriminator="type")
]
"""One ``[adapters.NAME]`` table: ``type`` says which."""


class _File(_Section):
    """The file as written."""

    policy: str = Field(min_length=1)
    store: StoreSettings
    run: RunSettings = RunSettings()
    logging: LoggingSettings = LoggingSettings()
    adapters: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")], AdapterSettings] = (
        Field(default_factory=dict)
    )


@dataclass(frozen=True, slots=True)
class Config:
    """A loaded ``arrears.toml``: paths resolved, secrets read from the environment.

    Attributes:
        path: The file.
        store_url: The store: an absolute SQLite path or a PostgreSQL URL
            (it may hold a password: never log it).
        policy_path: The policy file.
        run: ``[run]``.
        logging: ``[logging]``.
        adapters: ``[adapters.NAME]`` by name, in the file's order.
        status_file: ``run.status_file`` resolved, or ``None``.
        owner: The lease owner: ``run.owner``, or the host's name.
    """

    path: Path
    store_url: str = field(repr=False)
    policy_path: Path
    run: RunSettings
    logging: LoggingSettings
    adapters: Mapping[str, WebhookAdapter | SmtpAdapter | PythonAdapter]
    status_file: Path | None
    owner: str
    _secrets: Mapping[tuple[str, str], str] = field(repr=False)

    def secret(self, adapter: str, name: str) -> str | None:
        """The value read for adapter *adapter*'s ``NAME_env`` key *name* (``None`` when unset)."""
        return self._secrets.get((adapter, name))

    def channels(self) -> dict[str, str]:
        """Each channel the adapters serve → the adapter's name (a `python` one once built)."""
        served: dict[str, str] = {}
        for name, spec in self.adapters.items():
            for channel in _declared(spec):
                served.setdefault(channel, name)
        return served

    def open_store(self) -> Store:
        """The store `store.url` names (an SQLite file is created when missing)."""
        from .stores import open_store

        return open_store(self.store_url)

    def load_policy(self) -> Policy:
        """The policy file, loaded (`arrears.policy.load_policy`).

        Raises:
            PolicyInvalid: the policy file does not load.
        """
        from .policy import load_policy

        return load_policy(self.policy_path)

    def build_adapters(self, *, clock: Clock | None = None) -> list[ChannelAdapter]:
        """One channel adapter per ``[adapters.NAME]`` table, in the file's order.

        Args:
            clock: Stamps what the adapters stamp (an e-mail's ``Date``).

        Raises:
            ConfigInvalid: a ``python`` adapter's object cannot be imported,
                fails to build, is not a `ChannelAdapter`, or does not serve
                the channels its table names.
        """
        built: list[ChannelAdapter] = []
        for name, spec in self.adapters.items():
            where = f"adapters.{name}"
            if isinstance(spec, WebhookAdapter):
                built.append(self._webhook(name, spec))
            elif isinstance(spec, SmtpAdapter):
                from .channels import SmtpChannel

                built.append(
                    SmtpChannel(
                        spec.host,
                        spec.port,
                        sender=spec.sender,
                        security=spec.security,
                        username=self.secret(name, "username_env"),
                        password=self.secret(name, "password_env"),
                        timeout=spec.timeout,
                        clock=clock,
                    )
                )
            else:
                built.append(self._python(where, name, spec))
        return built

    def _webhook(self, name: str, spec: WebhookAdapter) -> ChannelAdapter:
        from .channels import WebhookChannel

        headers = dict(spec.headers)
        for header in spec.headers_env:
            headers[header] = self.secret(name, f"headers_env.{header}") or ""
        return WebhookChannel(
            spec.url,
            timeout=spec.timeout,
            retries=spec.retries,
            backoff=spec.backoff,
            channels=spec.channels or (),
            headers=headers,
            secret=self.secret(name, "secret_env"),
            status_url=spec.status_url,
        )

    def _python(self, where: str, name: str, spec: PythonAdapter) -> ChannelAdapter:
        fail = _failer(str(self.path))
        factory = _imported(spec.object, f"{where}.object", fail)
        kwargs = dict(spec.settings)
        for argument in spec.settings_env:
            kwargs[argument] = self.secret(name, f"settings_env.{argument}")
        try:
            adapter = factory(**kwargs)
        except Exception as err:
            # The message may quote a setting: only the type of the error is shown.
            raise fail(
                f"{where}.object",
                spec.object,
                f"a factory that takes settings {sorted(kwargs)} (it raised {type(err).__name__})",
            ) from err
        if not isinstance(adapter, ChannelAdapter):
            raise fail(
                f"{where}.object",
                spec.object,
                "an object that returns a ChannelAdapter (channels, send, delivery)",
            )
        served = frozenset(str(channel) for channel in adapter.channels)
        if spec.channels is not None and not set(spec.channels) <= served:
            raise fail(
                f"{where}.channels",
                list(spec.channels),
                f"channels the adapter serves ({sorted(served)})",
            )
        return adapter

    def configure_logging(self, stream: Any = None) -> None:
        """Send `arrears`'s log lines to *stream* (standard error) at the level and format set.

        Personal data is masked before these processors run, as always
        (`arrears.logs`).
        """
        import structlog

        structlog.configure(**self.logging_settings(stream))

    def logging_settings(self, stream: Any = None) -> dict[str, Any]:
        """The `structlog.configure` settings `configure_logging` applies."""
        import structlog

        renderer: Any = (
            structlog.processors.JSONRenderer()
            if self.logging.format == "json"
            else structlog.dev.ConsoleRenderer(colors=False)
        )
        return {
            "processors": [
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                renderer,
            ],
            "wrapper_class": structlog.make_filtering_bound_logger(
                logging.getLevelNamesMapping()[self.logging.level.upper()]
            ),
            "logger_factory": structlog.PrintLoggerFactory(stream or sys.stderr),
            "cache_logger_on_first_use": False,
        }


def _declared(spec: WebhookAdapter | SmtpAdapter | PythonAdapter) -> tuple[str, ...]:
    if isinstance(spec, SmtpAdapter):
        return ("email",)
    return spec.channels or ()


def _failer(path: str) -> Callable[[str, Any, str], ConfigInvalid]:
    def fail(field: str, value: Any, expected: str) -> ConfigInvalid:
        return ConfigInvalid(path, field, _shown(field, value), expected)

    return fail


def _shown(field: str, value: Any) -> Any:
    """*value* as an error may show it: not at all under a key that looks like a secret."""
    parts = field.split(".")
    if any(part.endswith("_env") for part in parts):
        return value  # the name of an environment variable, never its value
    if parts[-1] in ("headers", "settings") or _SECRET.search(parts[-1]):
        return HIDDEN
    return value


def _imported(path: str, field: str, fail: Callable[[str, Any, str], ConfigInvalid]) -> Any:
    """The object ``module:attribute`` names."""
    module_name, _, attribute = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise fail(field, path, f"an importable module ({type(err).__name__})") from err
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise fail(field, path, f"an attribute of {module_name} (it has no {part!r})")
        found = getattr(found, part)
    if not callable(found):
        raise fail(field, path, "a class or function that builds the adapter")
    return found


def load_config(
    path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None
) -> Config:
    """Read and check ``arrears.toml``.

    Args:
        path: The file.
        environ: Where the ``*_env`` keys are looked up (``os.environ`` by default).

    Returns:
        The configuration: relative paths resolved against the file's folder,
        secrets read from the environment.

    Raises:
        ConfigInvalid: the file cannot be read, is not TOML, has an unknown
            key or a bad value, names an environment variable that is not
            set, or gives one channel two adapters.  The error names the
            key and the value (never a secret's).
    """
    file = Path(path)
    shown = str(path)
    fail = _failer(shown)
    env = os.environ if environ is None else environ
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise fail("file", HIDDEN, f"a TOML file ({err})") from None
    except (OSError, UnicodeDecodeError) as err:
        raise fail("file", shown, f"a readable UTF-8 file ({type(err).__name__})") from None
    try:
        spec = _File.model_validate(data)
    except ValidationError as err:
        raise _invalid(shown, err) from err
    folder = file.resolve().parent
    secrets = _read_secrets(spec, env, fail)
    store = spec.store
    if store.url_env is not None:
        url = env.get(store.url_env)
        if not url:
            raise fail("store.url_env", store.url_env, "the name of an environment variable set")
    else:
        url = store.url or ""
    if not url.startswith(("postgresql://", "postgres://")):
        url = str(_resolved(folder, url))
    served: dict[str, str] = {}
    for name, adapter in spec.adapters.items():
        for channel in _declared(adapter):
            if channel in served:
                raise fail(
                    f"adapters.{name}.channels",
                    channel,
                    f"channels no other adapter serves ({channel} is adapters.{served[channel]}'s)",
                )
            served[channel] = name
    status = spec.run.status_file
    return Config(
        path=file,
        store_url=url,
        policy_path=_resolved(folder, spec.policy),
        run=spec.run,
        logging=spec.logging,
        adapters=dict(spec.adapters),
        status_file=_resolved(folder, status) if status is not None else None,
        owner=spec.run.owner or socket.gethostname() or "arrears",
        _secrets=secrets,
    )


def _resolved(folder: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else folder / path


def _read_secrets(
    spec: _File, env: Mapping[str, str], fail: Callable[[str, Any, str], ConfigInvalid]
) -> dict[tuple[str, str], str]:
    """Every ``*_env`` key of the adapters, read; an unset variable is an error naming the key."""
    found: dict[tuple[str, str], str] = {}
    for name, adapter in spec.adapters.items():
        wanted: list[tuple[str, str]] = []
        if isinstance(adapter, WebhookAdapter):
            wanted += [(f"headers_env.{key}", var) for key, var in adapter.headers_env.items()]
            if adapter.secret_env is not None:
                wanted.append(("secret_env", adapter.secret_env))
        elif isinstance(adapter, SmtpAdapter):
            for key in ("username_env", "password_env"):
                var = getattr(adapter, key)
                if var is not None:
                    wanted.append((key, var))
        else:
            wanted += [(f"settings_env.{key}", var) for key, var in adapter.settings_env.items()]
        for key, var in wanted:
            value = env.get(var)
            if value is None or value == "":
                raise fail(
                    f"adapters.{name}.{key}", var, "the name of an environment variable that is set"
                )
            found[(name, key)] = value
    return found


def _invalid(path: str, error: ValidationError) -> ConfigInvalid:
    """pydantic's *error* as `ConfigInvalid`: the key, the value (a secret's hidden), expected."""
    plain = invalid_input(error, hide=False)
    problems = [(plain.field, plain.value, plain.expected), *plain.more]
    shown = [
        (_key(field), _shown(field, value), _said(expected)) for field, value, expected in problems
    ]
    (field, value, expected), *more = shown
    return ConfigInvalid(path, field, value, expected, more=more)


def _key(field: str) -> str:
    """A pydantic path as the file writes the key: the adapter's type tag left out."""
    return re.sub(r"\.(webhook|smtp|python)(?=\.|$)", "", field)


def _said(expected: str) -> str:
    if expected.startswith(("Extra inputs are not permitted", "no such field")):
        return "no such key here (see docs/configuration.md)"
    return expected
