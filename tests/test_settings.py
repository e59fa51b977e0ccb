"""Settings: JSON defaults, TRANSLATOR_* environment overrides, validation."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from config.settings import DEFAULT_FILE, ROOT, Settings, SettingsError, load_settings

DEFAULTS = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))


def load(overrides=None, **env: str) -> Settings:
    return load_settings(overrides, environ={f"TRANSLATOR_{k.upper()}": v for k, v in env.items()})


def test_file_and_dataclass_have_the_same_keys():
    assert set(DEFAULTS) == {f.name for f in dataclasses.fields(Settings)}


def test_defaults_come_from_the_json_file():
    settings = load()
    for key, value in DEFAULTS.items():
        got = getattr(settings, key)
        if isinstance(value, list):
            assert got == tuple(value), key
        elif key == "log_level":
            assert got == value.upper()
        else:
            assert got == value, key
    assert isinstance(settings.max_wait_ms, float)  # 5 in the file, a float field


def test_real_environment_is_used_when_environ_is_not_given(monkeypatch):
    monkeypatch.setenv("TRANSLATOR_PORT", "9123")
    assert load_settings().port == 9123


def test_empty_environ_ignores_the_real_environment(monkeypatch):
    monkeypatch.setenv("TRANSLATOR_PORT", "9123")
    assert load_settings(environ={}).port == DEFAULTS["port"]


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("port", "8080", 8080),
        ("port", " 8081 ", 8081),
        ("cache_size", "0", 0),
        ("max_wait_ms", "2.5", 2.5),
        ("max_wait_ms", "7", 7.0),
        ("request_timeout_s", "12", 12.0),
        ("host", "127.0.0.1", "127.0.0.1"),
        ("model_dir", " /srv/model ", "/srv/model"),
        ("log_level", "debug", "DEBUG"),
        ("precision", "fp32", "fp32"),
        ("blocked_words", "foo, bar ,baz", ("foo", "bar", "baz")),
        ("blocked_words", '["foo", "a, b"]', ("foo", "a, b")),
        ("blocked_words", "", ()),
        ("blocked_words", "[]", ()),
        ("intra_op_spinning", "true", True),
        ("intra_op_spinning", " No ", False),
        ("intra_op_spinning", "1", True),
        ("batch_workers", "3", 3),
    ],
)
def test_environment_overrides(key, raw, expected):
    settings = load(**{key: raw})
    value = getattr(settings, key)
    assert value == expected
    assert type(value) is type(expected)


def test_overrides_beat_the_environment():
    settings = load({"port": 5000}, port="6000")
    assert settings.port == 5000


def test_overrides_accept_python_values():
    settings = load({"blocked_words": ["x", " y "], "max_wait_ms": 3, "cache_size": 5})
    assert settings.blocked_words == ("x", "y")
    assert settings.max_wait_ms == 3.0
    assert isinstance(settings.max_wait_ms, float)
    assert settings.cache_size == 5


def test_string_overrides_are_parsed_like_environment_values():
    settings = load({"port": "8080", "blocked_words": "a,b"})
    assert settings.port == 8080
    assert settings.blocked_words == ("a", "b")


@pytest.mark.parametrize(
    ("overrides", "env", "key"),
    [
        ({}, {"port": "eighty"}, "port"),
        ({}, {"port": "80.5"}, "port"),
        ({}, {"port": ""}, "port"),
        ({}, {"port": "0"}, "port"),
        ({}, {"port": "65536"}, "port"),
        ({"port": 0}, {}, "port"),
        ({"port": True}, {}, "port"),
        ({"port": 80.0}, {}, "port"),
        ({}, {"cache_size": "-1"}, "cache_size"),
        ({"cache_size": -5}, {}, "cache_size"),
        ({}, {"max_wait_ms": "soon"}, "max_wait_ms"),
        ({}, {"max_wait_ms": "nan"}, "max_wait_ms"),
        ({}, {"max_wait_ms": "-1"}, "max_wait_ms"),
        ({"max_wait_ms": False}, {}, "max_wait_ms"),
        ({}, {"log_level": "LOUD"}, "log_level"),
        ({"log_level": ""}, {}, "log_level"),
        ({}, {"precision": "fp16"}, "precision"),
        ({}, {"max_sentence_tokens": "4"}, "max_sentence_tokens"),
        ({}, {"batch_workers": "0"}, "batch_workers"),
        ({"blocked_words": ["ok", 3]}, {}, "blocked_words"),
        ({}, {"blocked_words": "[1, 2]"}, "blocked_words"),
        ({"host": "  "}, {}, "host"),
        ({}, {"intra_op_spinning": "maybe"}, "intra_op_spinning"),
        ({"intra_op_spinning": 1}, {}, "intra_op_spinning"),
        ({"no_such_setting": 1}, {}, "no_such_setting"),
        ({"default_beam_size": 5, "max_beam_size": 4}, {}, "default_beam_size"),
        ({}, {"default_beam_size": "9", "max_beam_size": "8"}, "default_beam_size"),
    ],
)
def test_invalid_values_raise_settings_error_naming_the_key(overrides, env, key):
    with pytest.raises(SettingsError, match=f"'{key}'"):
        load(overrides, **env)


def test_settings_error_is_a_value_error():
    assert issubclass(SettingsError, ValueError)


def test_malformed_json_list_in_environment_names_the_key():
    with pytest.raises(SettingsError, match="'blocked_words'"):
        load(blocked_words='["unterminated"')


def test_equal_default_and_max_beam_size_is_fine():
    settings = load({"default_beam_size": 4, "max_beam_size": 4})
    assert settings.default_beam_size == settings.max_beam_size == 4


def test_unknown_key_in_the_file_is_rejected(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({**DEFAULTS, "colour": "blue"}), encoding="utf-8")
    with pytest.raises(SettingsError, match="colour"):
        load_settings(environ={}, path=path)


def test_missing_key_in_the_file_is_rejected(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({k: v for k, v in DEFAULTS.items() if k != "port"}), "utf-8")
    with pytest.raises(SettingsError, match=r"missing setting.*port"):
        load_settings(environ={}, path=path)
    # ...unless the environment supplies it.
    assert load_settings(environ={"TRANSLATOR_PORT": "1234"}, path=path).port == 1234


@pytest.mark.parametrize("content", [None, "{not json", ""])
def test_unreadable_file_is_a_settings_error(tmp_path, content):
    path = tmp_path / "settings.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SettingsError, match="cannot read settings file"):
        load_settings(environ={}, path=path)


def test_relative_paths_resolve_against_the_project_root(tmp_path):
    relative = load({"model_dir": "models/x", "log_dir": "logs"})
    assert relative.model_path == ROOT / "models" / "x"
    assert relative.log_path == ROOT / "logs"
    absolute = load({"model_dir": str(tmp_path / "m"), "log_dir": str(tmp_path / "l")})
    assert absolute.model_path == tmp_path / "m"
    assert absolute.log_path == tmp_path / "l"


def test_engine_threads_share_the_cores_among_the_batch_workers():
    cores = len(os.sched_getaffinity(0))
    assert load({"intra_op_threads": 3}).engine_threads == 3
    assert load({"intra_op_threads": 0, "batch_workers": 1}).engine_threads == cores
    assert load({"intra_op_threads": 0, "batch_workers": 2}).engine_threads == max(1, cores // 2)
    assert load({"intra_op_threads": 0, "batch_workers": 64}).engine_threads == 1


def test_settings_are_immutable():
    settings = load()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]
