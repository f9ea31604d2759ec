"""The settings object: `.env.example` documents and parses, secrets stay secret, bad values are one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.settings import Settings, load_settings
from tests.conftest import REPO

EXAMPLE = REPO / ".env.example"


def test_env_example_parses_and_documents_every_setting() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.chunk_tokens == 256 and settings.chroma_host is None and not settings.llm_enabled
    text = EXAMPLE.read_text()
    for name, field in Settings.model_fields.items():
        names = [f"FACTDESK_{name.upper()}"]
        if field.validation_alias is not None:
            names += [str(a) for a in getattr(field.validation_alias, "choices", [])]
        assert any(n in text for n in names), f"{name} is not documented in .env.example"


def test_secrets_are_not_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("DISCORD_TOKEN", "discord-very-secret")
    settings = load_settings(None, data_dir=tmp_path)
    assert settings.llm_enabled
    shown = repr(settings) + str(settings.model_dump())
    assert "very-secret" not in shown


def test_env_file_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("FACTDESK_CHUNK_TOKENS=128\nFACTDESK_MODERATOR_USER_IDS=[1, 2]\n")
    settings = load_settings(env, data_dir=tmp_path)
    assert settings.chunk_tokens == 128 and settings.moderator_user_ids == [1, 2]
    monkeypatch.setenv("FACTDESK_CHUNK_TOKENS", "64")
    assert load_settings(env).chunk_tokens == 64, "the environment wins over the file"


def test_invalid_value_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTDESK_CHUNK_TOKENS", "4")
    with pytest.raises(ConfigError, match="FACTDESK_CHUNK_TOKENS") as caught:
        load_settings(None)
    assert "\n" not in str(caught.value)
