"""Settings: one table of them, read from flags, a TOML config file, and built-in defaults.

The config file lives in the standard user location (``$XDG_CONFIG_HOME/pgbrowse/config.toml``,
else ``~/.config/pgbrowse/config.toml``; ``PGBROWSE_CONFIG`` or ``--config`` name another).
It sets a default for every setting below; a flag overrides it. ``pgbrowse --print-config``
shows the effective settings, as a config file, with where each one came from.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgbrowse import defaults

DEFAULT_THEME = defaults.THEME
DEFAULT_IDLE_RELEASE_S = defaults.IDLE_RELEASE_S


class ConfigError(Exception):
    """The config file cannot be used; the message names the file and the problem."""


def positive_int(text: str) -> int:
    try:
        value = int(str(text).replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


MAX_SECONDS = 2_147_483  # PostgreSQL's timeouts are int milliseconds: about 24.8 days


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    if value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"at most {MAX_SECONDS:,} seconds (24 days): {text}")
    return value


def theme_name(text: str) -> str:
    from textual.theme import BUILTIN_THEMES  # only the theme table, not the app

    if text not in BUILTIN_THEMES:
        raise argparse.ArgumentTypeError(
            f"no theme {text!r}; the themes are: {', '.join(sorted(BUILTIN_THEMES))}"
        )
    return text


def on_off(text: str) -> bool:
    """A yes-or-no setting: on/off, true/false, yes/no, 1/0 (a TOML boolean in the file)."""
    word = str(text).strip().lower()
    if word in ("on", "true", "yes", "1"):
        return True
    if word in ("off", "false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r}: on or off")


def role_name(text: str) -> str:
    """A role to run as; empty for none (the role logged in as)."""
    text = str(text).strip()
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a role name cannot hold a NUL byte")
    return text


def function_patterns(text: str | list[Any] | tuple[Any, ...]) -> tuple[str, ...]:
    """Functions typed SQL may call beyond the built-ins: names or patterns (``*``, ``?``),
    with a schema (``public.st_*``) or without (any schema). A flag takes them separated by
    commas; the config file takes a list of strings."""
    items = text if isinstance(text, list | tuple) else str(text).split(",")
    patterns: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise argparse.ArgumentTypeError(f"not a function name or pattern: {item!r}")
        item = item.strip()
        if not item:
            continue
        if item.count(".") > 1 or item.startswith(".") or item.endswith("."):
            raise argparse.ArgumentTypeError(
                f"not a function name or pattern: {item!r} (as name or schema.name)"
            )
        patterns.append(item)
    return tuple(patterns)


@dataclass(frozen=True)
class Setting:
    """One setting: its config key (the flag is the same with dashes), parser and default."""

    key: str
    parse: Callable[[str], Any]
    default: Any
    metavar: str
    help: str

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "statement_timeout",
        seconds,
        defaults.STATEMENT_TIMEOUT_S,
        "SECONDS",
        "server statement_timeout; 0 = none",
    ),
    Setting(
        "lock_timeout", seconds, defaults.LOCK_TIMEOUT_S, "SECONDS", "server lock_timeout; 0 = none"
    ),
    Setting(
        "idle_release",
        seconds,
        DEFAULT_IDLE_RELEASE_S,
        "SECONDS",
        "an idle view closes its cursor and ends its transaction after this long; 0 = never"
        " (behind a pooler or on a standby: sooner, whatever this says)",
    ),
    Setting(
        "role",
        role_name,
        "",
        "NAME",
        "run every transaction as this role (SET LOCAL ROLE), so the server refuses what it"
        " may not do: pg_read_all_data on PostgreSQL 14+; empty = the role logged in as",
    ),
    Setting(
        "allowed_functions",
        function_patterns,
        (),
        "PATTERNS",
        "functions typed SQL may call besides the IMMUTABLE/STABLE built-ins, by name or"
        " pattern, comma-separated (public.st_*); in the config file a list of strings",
    ),
    Setting("page_size", positive_int, defaults.PAGE_SIZE, "ROWS", "rows per FETCH"),
    Setting("cache_mb", positive_int, defaults.CACHE_BYTES // 2**20, "MB", "client page cache"),
    Setting(
        "truncate",
        positive_int,
        defaults.TRUNCATE,
        "CHARS",
        "characters of each value fetched for the table",
    ),
    Setting(
        "keep_views",
        on_off,
        False,
        "on|off",
        "keep each relation's filter, order, columns and place across runs too (in the user's"
        " state folder); within a run they are always kept",
    ),
    Setting("theme", theme_name, DEFAULT_THEME, "NAME", "colour theme (any of Textual's)"),
    Setting("demo_rows", positive_int, defaults.DEMO_ROWS, "N", "rows in the demo's big table"),
    Setting(
        "compare_rows",
        positive_int,
        defaults.COMPARE_ROWS,
        "ROWS",
        "compare mode (c): the most rows the naive way may load",
    ),
    Setting(
        "compare_mb",
        positive_int,
        defaults.COMPARE_MB,
        "MB",
        "compare mode (c): the most MB of client memory the naive way may load (measured)",
    ),
)
BY_KEY = {s.key: s for s in SETTINGS}


def config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the config file is looked for: ``PGBROWSE_CONFIG``, else the platform's user
    config folder (platformdirs: ``$XDG_CONFIG_HOME/pgbrowse`` or ``~/.config/pgbrowse`` on
    Linux, ``~/Library/Application Support/pgbrowse`` on macOS)."""
    if environ.get("PGBROWSE_CONFIG"):
        return Path(environ["PGBROWSE_CONFIG"])
    import platformdirs

    return platformdirs.user_config_path("pgbrowse") / "config.toml"


def load_config(path: Path, required: bool = False) -> dict[str, Any]:
    """The settings a config file sets, checked; no file means no settings, unless the file
    was named (``--config``, ``PGBROWSE_CONFIG``): then it must be there."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path}: no such file") from None
        return {}
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path}: not UTF-8 text (TOML files are)") from None
    except OSError as error:
        raise ConfigError(f"config file {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path}: {error}") from None
    values: dict[str, Any] = {}
    for name, raw in data.items():
        key = name.replace("-", "_")
        setting = BY_KEY.get(key)
        if setting is None:
            known = ", ".join(BY_KEY)
            raise ConfigError(f"config file {path}: unknown setting {name!r} (known: {known})")
        is_list = isinstance(raw, list) and setting.parse is function_patterns
        boolean = isinstance(raw, bool) and setting.parse is on_off
        if (isinstance(raw, bool) and not boolean) or isinstance(raw, dict):
            raise ConfigError(f"config file {path}: {name}: not a {setting.metavar.lower()}")
        if isinstance(raw, list) and not is_list:
            raise ConfigError(f"config file {path}: {name}: not a {setting.metavar.lower()}")
        try:
            values[key] = setting.parse(raw if is_list else str(raw))
        except argparse.ArgumentTypeError as error:
            raise ConfigError(f"config file {path}: {name}: {error}") from None
    return values


@dataclass(frozen=True)
class Effective:
    """The settings in force, and where each came from (a flag, the file, or the default)."""

    values: dict[str, Any]
    sources: dict[str, str]
    path: Path

    def __getattr__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise AttributeError(key) from None

    def as_toml(self) -> str:
        lines = [f"# pgbrowse settings in force (config file: {self.path})"]
        width = max(len(k) for k in self.values)
        for key, value in self.values.items():
            text = _toml_value(value)
            lines.append(f"{key:<{width}} = {text:<14} # {self.sources[key]}")
        return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return json.dumps(list(value))  # a JSON list of strings is a TOML array
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def resolve(flags: Mapping[str, Any], path: Path, required: bool = False) -> Effective:
    """Flags (None where not given) over the config file over the defaults."""
    from_file = load_config(path, required)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in SETTINGS:
        if flags.get(setting.key) is not None:
            values[setting.key], sources[setting.key] = flags[setting.key], setting.flag
        elif setting.key in from_file:
            values[setting.key], sources[setting.key] = from_file[setting.key], "config file"
        else:
            values[setting.key], sources[setting.key] = setting.default, "default"
    return Effective(values, sources, path)
