"""Logging without personal data: a structlog processor that masks it, and the library's logger.

`mask_personal_data` is an ordinary structlog processor.  It masks, in every
string of an event dict (nested dicts, lists and tuples included):

- phone numbers: international numbers (``+86 138 1234 5678``), Chinese
  mobile numbers (``13812345678``) and North American numbers
  (``(212) 555-0100``, ``212-555-0100``);
- identity numbers: Chinese resident ID numbers (18 digits, the last may be
  ``X``, and the old 15-digit ones), US social security numbers
  (``123-45-6789``), and any other standalone run of 11 or more digits;
- e-mail addresses;

and it replaces the whole value of keys that hold personal data by name
(``name``, ``debtor_name``, ``address``, ``phone``, ``email``, ``text``, …,
see `PERSONAL_KEYS`), since no pattern recognises a person's name.  Numbers
keep their last four characters, as `arrears.mask` does.

`get_logger` is what `arrears` itself logs through: a lazy structlog logger
whose chain is this processor followed by whatever processors the host
configured, looked up on every call.  structlog itself is imported at the
first log call, not when `arrears` is imported.  So masking is on by default, and the
host's configuration (`structlog.configure`, `structlog.testing.capture_logs`)
is honoured unchanged.  A host that wants the same masking for its own log
lines adds `mask_personal_data` to its processors.

    >>> mask_personal_data(None, "info", {"event": "sms", "to": "+8613812345678"})
    {'event': 'sms', 'to': '***'}
    >>> mask_text("call 13812345678 or mail li.lei@example.com")
    'call *******5678 or mail **************.com'
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Final

from .case import mask

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["PERSONAL_KEYS", "configured_for", "get_logger", "mask_personal_data", "mask_text"]

PERSONAL_KEYS: Final = frozenset(
    {
        "address",
        "addresses",
        "body",
        "contact_name",
        "debtor_name",
        "e_mail",
        "email",
        "family_name",
        "first_name",
        "full_name",
        "given_name",
        "id_card",
        "id_number",
        "last_name",
        "mobile",
        "name",
        "national_id",
        "phone",
        "phone_number",
        "recipient",
        "ssn",
        "text",
        "to",
    }
)
"""Event-dict keys whose whole value is personal data (or may contain it): replaced by ``***``."""

_REPLACED: Final = "***"

# One pattern, tried once per string.  Digit runs are anchored on both sides so
# that amounts, dates, ISO timestamps and hex digests are left alone.
_PERSONAL: Final = re.compile(
    r"""
    (?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})
    | (?P<intl>(?<![\w+])\+\d(?:[\s().-]?\d){6,14}(?!\d))
    | (?P<nanp>(?<![\w-])(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-]))
    | (?P<ssn>(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-]))
    | (?P<digits>(?<![0-9A-Za-z])\d{11,}[Xx]?(?![0-9A-Za-z]))
    """,
    re.VERBOSE,
)
_QUICK: Final = re.compile(r"\d{3}|@")


def _replace(found: re.Match[str]) -> str:
    return mask(found.group(0))


def mask_text(text: str) -> str:
    """*text* with every phone number, identity number and e-mail address masked.

    Names cannot be recognised in free text: keep them out of log messages, or
    pass them under one of the `PERSONAL_KEYS`.

    >>> mask_text("ID 11010519491231002X")
    'ID **************002X'
    """
    if _QUICK.search(text) is None:  # most log values: ids, stages, channels
        return text
    return _PERSONAL.sub(_replace, text)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {key: _REPLACED if key in PERSONAL_KEYS else _masked(v) for key, v in value.items()}
    if type(value) is list:
        return [_masked(item) for item in value]
    if type(value) is tuple:
        return tuple(_masked(item) for item in value)
    return value


def mask_personal_data(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: mask the personal data in every value of the event dict.

    Values under `PERSONAL_KEYS` are replaced whole by ``***``; phone
    numbers, identity numbers and e-mail addresses in every other string are
    masked to their last four characters.  Put it first in the chain, before
    any renderer.
    """
    for key, value in event_dict.items():
        if key in PERSONAL_KEYS:
            if value is not None:
                event_dict[key] = _REPLACED
        elif isinstance(value, str | Mapping | list | tuple):
            event_dict[key] = _masked(value)
    return event_dict


class _MaskingChain:
    """The processor chain of `get_logger`'s loggers: masking, then the host's processors.

    The host's processors are looked up on each event, so a later
    `structlog.configure` (or `capture_logs`) takes effect at once.
    """

    __slots__ = ()

    def __iter__(self) -> Iterator[Any]:
        yield mask_personal_data
        yield from _structlog().get_config()["processors"]

    def __repr__(self) -> str:
        return "<mask_personal_data, then the configured processors>"


_CHAIN: Final = _MaskingChain()


def _structlog() -> ModuleType:
    """structlog, imported on first use (it imports rich and pygments when they are installed)."""
    import structlog

    return structlog


@contextlib.contextmanager
def configured_for(**settings: Any) -> Iterator[None]:
    """structlog configured with *settings* inside the block, then as the host had it.

    A command that prints its results keeps the engine's lines off standard
    output this way, and a host that calls it keeps its own configuration
    afterwards (or structlog's defaults, when it had none).
    """
    structlog = _structlog()
    configured = structlog.is_configured()
    saved = structlog.get_config()
    structlog.configure(**settings)
    try:
        yield
    finally:
        if configured:
            structlog.configure(**saved)
        else:
            structlog.reset_defaults()


class _DeferredLogger:
    """`get_logger`'s logger until its first use: then structlog's, which it passes every call to.

    Modules make their logger when they are imported; deferring the structlog
    logger keeps structlog out of ``import arrears``.
    """

    __slots__ = ("_logger", "_name", "_values")

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        self._name = name
        self._values = values
        self._logger: Any = None

    def __getattr__(self, attribute: str) -> Any:
        logger = self._logger
        if logger is None:
            logger = self._logger = _structlog().wrap_logger(
                None, processors=_CHAIN, logger_factory_args=(self._name,), **self._values
            )
        return getattr(logger, attribute)

    def __repr__(self) -> str:
        return f"<arrears logger {self._name!r}>"


def get_logger(name: str = "arrears", **initial_values: Any) -> Any:
    """A structlog logger that masks personal data before the configured processors run.

    The wrapper class, logger factory and processors are the host's, as
    configured with `structlog.configure`; `mask_personal_data` runs first.
    structlog is imported when the logger is first used.

    Args:
        name: Passed to the configured logger factory (the stdlib logger's name).
        initial_values: Values bound to every event.
    """
    return _DeferredLogger(name, initial_values)
