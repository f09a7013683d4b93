"""Settings: one table, read from defaults < searchapp.toml < SEARCHAPP_* < CLI.

This is the only module that reads the environment or the working directory;
only ``cli`` and ``web`` call it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from .errors import ConfigError

CONFIG_FILE = "searchapp.toml"
ENV_PREFIX = "SEARCHAPP_"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS_TABLE: tuple[Setting, ...] = (
    Setting("corpus", "corpus", "folder of report files to index"),
    Setting("index", "index", "folder where the search index is kept"),
    Setting("host", "127.0.0.1", "address the web server listens on"),
    Setting("port", 8000, "port the web server listens on"),
    Setting("threads", 8, "worker threads of the web server"),
    Setting("per_page", 10, "results per page"),
    Setting("max_per_page", 100, "largest page size a request may ask for"),
    Setting("max_query_length", 1000, "longest query accepted, in characters"),
    Setting("procs", 0, "indexing processes (0: one per core)"),
    Setting("topics", "", "topic taxonomy (TOML) for automatic topics (default: the one shipped with searchapp)"),
)


@dataclass(frozen=True)
class Settings:
    corpus: Path = Path("corpus")
    index: Path = Path("index")
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 8
    per_page: int = 10
    max_per_page: int = 100
    max_query_length: int = 1000
    procs: int = 0
    topics: Path | None = None  # issue 4: None means the taxonomy shipped with searchapp

    def updated(self, **changes: Any) -> "Settings":
        """A copy with the given non-None values applied (and coerced)."""
        return _coerce(self, {k: v for k, v in changes.items() if v is not None}, "option")


def _coerce(base: Settings, values: Mapping[str, Any], origin: str) -> Settings:
    types = {f.name: f.type for f in fields(Settings)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in types:
            known = ", ".join(sorted(types))
            raise ConfigError(f"unknown setting {name!r} in {origin} (known: {known})")
        kind = types[name]
        try:
            if kind == "Path":
                out[name] = Path(value)
            elif kind == "Path | None":
                out[name] = Path(value) if str(value) else None
            elif kind == "int":
                out[name] = int(value)
            else:
                out[name] = str(value)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"setting {name!r} in {origin} must be a whole number, got {value!r}") from e
    return replace(base, **out)


def load_settings(
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **options: Any,
) -> Settings:
    """Build the settings: defaults, then ``searchapp.toml``, then ``SEARCHAPP_*``, then ``options``.

    :raises ConfigError: on an unreadable config file or a bad value.
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
    names = {s.name for s in SETTINGS_TABLE}
    env_values = {
        key[len(ENV_PREFIX):].lower(): value
        for key, value in environ.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX):].lower() in names
    }
    settings = _coerce(settings, env_values, "the environment")
    settings = settings.updated(**options)
    # Relative folders are taken from the project folder (where the command runs).
    return replace(
        settings,
        corpus=(cwd / settings.corpus) if not settings.corpus.is_absolute() else settings.corpus,
        index=(cwd / settings.index) if not settings.index.is_absolute() else settings.index,
        topics=(cwd / settings.topics) if settings.topics and not settings.topics.is_absolute() else settings.topics,
    )
