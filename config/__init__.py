"""The settings every layer reads (see :mod:`config.settings`); it imports nothing of ours."""

from config.settings import SETTINGS, VERSION, Config, ConfigError, settings_help

__all__ = ["SETTINGS", "VERSION", "Config", "ConfigError", "settings_help"]
