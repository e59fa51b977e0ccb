"""Service settings: ``settings.json`` beside this file, overridden by the environment."""

from config.settings import DEFAULT_FILE, ENV_PREFIX, ROOT, Settings, SettingsError, load_settings

__all__ = ["DEFAULT_FILE", "ENV_PREFIX", "ROOT", "Settings", "SettingsError", "load_settings"]
