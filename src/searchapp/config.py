"""Settings: one table, read from defaults < searchapp.toml < SEARCHAPP_* < CLI.

``SETTINGS`` is the one place a setting is written: the ``Settings`` dataclass,
its defaults, the command line's help texts and the README's table all come
from it. Values are checked by each setting's declared kind when they are
read, and the limits between settings (and against the search core's own)
once, whenever a ``Settings`` is made.

This is the only module that reads the environment or the working directory;
only ``cli`` and ``web`` call it.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, make_dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from .errors import ConfigError
from .query import MAX_QUERY_CHARS
from .search import MAX_PER_PAGE

CONFIG_FILE = "searchapp.toml"
ENV_PREFIX = "SEARCHAPP_"


# -- kinds: what values a setting takes ---------------------------------------------

def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _path(value: Any) -> Path:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise TypeError
    return Path(value)


def _optional_path(value: Any) -> Path | None:
    return None if value is None or value == "" else _path(value)


def _whole(value: Any) -> int:
    if isinstance(value, bool):  # TOML's true is no port number
        raise TypeError
    if isinstance(value, int):
        return value
    raise TypeError


def _whole_text(text: str) -> int | str:
    return int(text) if re.fullmatch(r"\s*[+-]?\d{1,18}\s*", text) else text


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise TypeError
    names = tuple(v.strip().lower().rstrip(".") for v in value if v.strip())
    if any(re.search(r"[\s/]", n) for n in names):
        raise TypeError
    return names


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError
    return value


def _flag_text(text: str) -> bool | str:
    word = text.strip().lower()
    return True if word in ("1", "true", "yes", "on") else False if word in ("0", "false", "no", "off") else text


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise TypeError
    return tuple(v.strip() for v in value if v.strip())


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True)
class Kind:
    """A setting's declared type: the Python type, its name in messages, how a
    value (from TOML or an option) becomes one (raising ``TypeError`` when it
    cannot), and how the text of an environment variable reads as a value."""

    annotation: Any
    words: str
    convert: Callable[[Any], Any]
    read_text: Callable[[str], Any] = _as_is


TEXT = Kind(str, "text", _text)
PATH = Kind(Path, "a path (text)", _path)
OPTIONAL_PATH = Kind(Path | None, "a path (text)", _optional_path)
WHOLE = Kind(int, "a whole number", _whole, _whole_text)
NAMES = Kind(tuple[str, ...], "a list of host names (text)", _names, lambda text: text.split(","))
FLAG = Kind(bool, "true or false", _flag, _flag_text)
TEXTS = Kind(tuple[str, ...], "a list of text", _texts, lambda text: text.split(","))


@dataclass(frozen=True)
class Setting:
    """One setting: name, default, help text, kind, and bounds for numbers.

    ``shown`` is how ``--help`` and the README show the default (when it is
    not simply the value).
    """

    name: str
    default: Any
    help: str
    kind: Kind = TEXT
    minimum: int | None = None
    maximum: int | None = None
    shown: str | None = None

    @property
    def default_text(self) -> str:
        return self.shown if self.shown is not None else str(self.default)


SETTINGS: tuple[Setting, ...] = (
    Setting("corpus", Path("corpus"), "folder of report files to index", PATH),
    Setting("index", Path("index"), "folder where the search index is kept", PATH),
    Setting("host", "127.0.0.1", "address the web server listens on"),
    Setting("port", 8000, "port the web server listens on (0: any free port)", WHOLE, 0, 65535),
    Setting("threads", 8, "worker threads of the web server", WHOLE, 1, 1024),
    Setting("allowed_hosts", (), "host names the web server answers to besides the loopback names and `host` "
            '(a list; ".example.org" also allows its subdomains, "*" any name)', NAMES, shown="none"),
    Setting("per_page", 10, "results per page", WHOLE, 1),
    Setting("max_per_page", 100, "largest page size a request may ask for", WHOLE, 1, MAX_PER_PAGE),
    Setting("max_query_length", 1000, "longest query accepted, in characters", WHOLE, 1, MAX_QUERY_CHARS),
    Setting("procs", 0, "indexing processes (0: one per core)", WHOLE, 0, 1024),
    Setting("parse_timeout_s", 60, "seconds a reindex gives the parser of one file before it stops it and "
            "rejects the file", WHOLE, 1, 86400),
    Setting("parse_memory_mb", 2048, "memory (MiB) the parser of one file may take before it is stopped and "
            "the file rejected", WHOLE, 64, 1048576),
    Setting("entities", False, "extract people, organisations and places at index time (needs the "
            "entities extra; 13-30 ms of CPU a report, three to five times a reindex without it)", FLAG),
    Setting("places", False, "find places by name look-up at index time (no model, no extra; about a "
            "tenth more reindex time; with entities on, these replace spaCy's places)", FLAG),
    Setting("topics", None, "topic taxonomy (TOML) for automatic topics", OPTIONAL_PATH,
            shown="the one shipped with searchapp"),
    # issue 14: saved searches and alerts (the SMTP password only from SEARCHAPP_SMTP_PASSWORD)
    Setting("alerts_db", Path("alerts.sqlite"), "SQLite file of saved searches and alerts", PATH),
    Setting("base_url", "", "the site's address for links in alerts sent by `alerts run` "
            "(e.g. https://search.example.org/)", shown="none"),
    Setting("smtp_host", "", "SMTP server for alert e-mails (none: no e-mail)", shown="none"),
    Setting("smtp_port", 587, "port of the SMTP server", WHOLE, 1, 65535),
    Setting("smtp_user", "", "SMTP login (the password comes from SEARCHAPP_SMTP_PASSWORD)", shown="none"),
    Setting("smtp_starttls", True, "upgrade the SMTP connection with STARTTLS", FLAG),
    Setting("smtp_sender", "", "From address of alert e-mails", shown="none"),
    Setting("smtp_recipients", (), "addresses alert e-mails go to (a list)", TEXTS, shown="none"),
    Setting("webhook_url", "", "URL alerts are POSTed to as JSON (none: no webhook)", shown="none"),
)
DEFAULT_SETTINGS = {s.name: s.default for s in SETTINGS}
_BY_NAME = {s.name: s for s in SETTINGS}


def _out_of_bounds(setting: Setting, value: Any) -> str | None:
    """What is wrong with a number outside the setting's bounds (None: nothing)."""
    low, high = setting.minimum, setting.maximum
    if (low is None or value >= low) and (high is None or value <= high):
        return None
    return f"between {low} and {high}" if low is not None and high is not None else (
        f"{low} or more" if low is not None else f"at most {high}")


def _check_limits(self) -> None:
    """Bounds and the limits between settings, checked whenever a ``Settings`` is made.

    :raises ConfigError: naming the setting that is out of bounds.
    """
    for s in SETTINGS:
        value = getattr(self, s.name)
        if (bounds := _out_of_bounds(s, value)) is not None:
            raise ConfigError(f"setting {s.name!r} must be {bounds}, got {value}")
    if self.per_page > self.max_per_page:
        raise ConfigError(f"setting 'per_page' ({self.per_page}) must not be larger than "
                          f"'max_per_page' ({self.max_per_page})")


def _updated(self, **changes: Any):
    """A copy with the given non-None values applied (and checked)."""
    return _coerce(self, {k: v for k, v in changes.items() if v is not None}, "an option")


Settings = make_dataclass(
    "Settings",
    [(s.name, s.kind.annotation, field(default=s.default)) for s in SETTINGS],
    frozen=True,
    namespace={"__post_init__": _check_limits, "updated": _updated,
               "__doc__": "The settings, one field per entry of ``SETTINGS`` (frozen)."},
)
Settings.__module__ = __name__  # for pickling and repr (make_dataclass has no module= before 3.12)


def _coerce(base, values: Mapping[str, Any], origin: str, text: bool = False):
    """``base`` with ``values`` applied, each checked by its setting's kind
    (``text``: the values are the text of environment variables)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        setting = _BY_NAME.get(name)
        if setting is None:
            raise ConfigError(f"unknown setting {name!r} in {origin} (known: {', '.join(sorted(_BY_NAME))})")
        try:
            out[name] = setting.kind.convert(setting.kind.read_text(value) if text else value)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"setting {name!r} in {origin} must be {setting.kind.words}, got {value!r}") from e
        if (bounds := _out_of_bounds(setting, out[name])) is not None:
            raise ConfigError(f"setting {name!r} in {origin} must be {bounds}, got {out[name]}")
    return replace(base, **out)


def load_settings(
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **options: Any,
):
    """Build the settings: defaults, then ``searchapp.toml``, then ``SEARCHAPP_*``, then ``options``.

    :raises ConfigError: on an unreadable config file, a value of the wrong
        kind or out of bounds, naming the setting and where it came from.
    """
    cwd = Path.cwd() if cwd is None else cwd
    environ = os.environ if environ is None else environ
    settings = Settings()
    config_path = cwd / CONFIG_FILE
    if config_path.is_file():
        try:
            data = tomllib.loads(config_path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"cannot read {config_path}: {e}") from e
        settings = _coerce(settings, data.get("searchapp", data), str(config_path))
    env_values = {
        key[len(ENV_PREFIX):].lower(): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX):].lower() in _BY_NAME
    }
    settings = _coerce(settings, env_values, "the environment", text=True)
    settings = settings.updated(**options)
    # Relative folders are taken from the project folder (where the command runs).
    return replace(settings, corpus=_under(cwd, settings.corpus), index=_under(cwd, settings.index),
                   topics=_under(cwd, settings.topics) if settings.topics else None,
                   alerts_db=_under(cwd, settings.alerts_db))


SMTP_PASSWORD_VARIABLE = ENV_PREFIX + "SMTP_PASSWORD"


def smtp_password(environ: Mapping[str, str] | None = None) -> str | None:
    """The SMTP password, only ever from the environment (never a file or an option)."""
    environ = os.environ if environ is None else environ
    return environ.get(SMTP_PASSWORD_VARIABLE) or None


def _under(cwd: Path, path: Path) -> Path:
    return path if path.is_absolute() else cwd / path


def option_help(name: str) -> str:
    """The ``--help`` text of the option for a setting, with its default."""
    setting = _BY_NAME[name]
    return f"{setting.help} [default: {setting.default_text}]"


def settings_table() -> str:
    """The README's table of settings (Markdown), made from ``SETTINGS``."""
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for s in SETTINGS:
        default = f"`{s.default_text}`" if s.shown is None else f"({s.default_text})"
        rows.append(f"| `{s.name}` | {default} | {s.help.replace('|', '&#124;')} |")
    return "\n".join(rows) + "\n"
