"""The bot as a whole: intents, startup (extensions, command sync), the error boundary, ``factdesk serve``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from typer.testing import CliRunner

from bot.core.errors import ConfigError, NotFoundError
from bot.discord.bot import DEFAULT_EXTENSIONS, FactdeskBot, make_intents
from bot.discord.errors import GENERIC_MESSAGE
from tests.discord_fakes.factories import GENERAL_ID, GUILD_ID
from tests.discord_fakes.harness import make_bot, make_settings, running
from tests.discord_fakes.services import FakeAnswerer, make_answer
from tests.discord_fakes.transport import mentions_nothing


def build(tmp_path: Path, **overrides: Any) -> FactdeskBot:
    settings = make_settings(tmp_path / "data", **overrides)
    return make_bot(settings, FakeAnswerer(make_answer()))


def test_intents_are_minimal() -> None:
    plain = make_intents(mention_mode=False)
    assert plain.guilds and not plain.guild_messages and not plain.message_content and not plain.members
    assert plain.value == discord.Intents(guilds=True).value
    mention = make_intents(mention_mode=True)
    assert mention.guilds and mention.guild_messages and mention.message_content and not mention.members


def test_unknown_timezone_fails_at_construction(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown timezone"):
        build(tmp_path, timezone="Mars/Olympus")


@pytest.mark.asyncio
async def test_startup_loads_every_cog_and_syncs_to_the_dev_guild(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path), monkeypatch) as h:
        assert h.bot.allowed_mentions is not None and h.bot.allowed_mentions.to_dict() == {"parse": []}
        assert set(h.bot.extensions) == set(DEFAULT_EXTENSIONS)
        assert set(h.bot.cogs) == {"Ask", "Digest", "Moderation", "Admin"}
        sync = h.api.calls_to("/commands")
    assert [c.route for c in sync] == ["PUT /applications/{application_id}/guilds/{guild_id}/commands"]
    assert sync[0].params["guild_id"] == str(GUILD_ID)
    names = sorted(cmd["name"] for cmd in sync[0].payload or [])
    assert names == sorted(
        ["ask", "digest", "flag", "claims", "claim", "ingest", "sources", "stats", "Flag as disputed"]
    )
    claim = next(cmd for cmd in sync[0].payload or [] if cmd["name"] == "claim")
    assert sorted(o["name"] for o in claim["options"]) == ["resolve", "show", "update"]


@pytest.mark.asyncio
async def test_without_a_dev_guild_commands_sync_globally(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path, discord_guild_id=None), monkeypatch) as h:
        sync = h.api.calls_to("/commands")
    assert [c.route for c in sync] == ["PUT /applications/{application_id}/commands"]


@pytest.mark.asyncio
async def test_tree_error_handler(tmp_path: Path, monkeypatch: Any, caplog: pytest.LogCaptureFixture) -> None:
    @app_commands.command(name="boom", description="raises a bug")
    async def boom(interaction: discord.Interaction) -> None:
        raise KeyError("bug")

    @app_commands.command(name="missing", description="raises a user error")
    async def missing(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        raise NotFoundError("no claim #4")

    @app_commands.command(name="closed", description="fails its check")
    @app_commands.check(lambda interaction: False)
    async def closed(interaction: discord.Interaction) -> None:
        raise AssertionError("never runs")

    @app_commands.command(name="slow", description="has a cooldown")
    @app_commands.checks.cooldown(1, 60.0)
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", allowed_mentions=discord.AllowedMentions.none())

    async with running(build(tmp_path), monkeypatch) as h:
        for command in (boom, missing, closed, slow):  # type: ignore[var-annotated]
            h.bot.tree.add_command(command)
        with caplog.at_level(logging.INFO, logger="bot.discord.errors"):
            bug = await h.slash("boom")
            user = await h.slash("missing")
            check = await h.slash("closed")
            await h.slash("slow")
            cooldown = await h.slash("slow")

    assert bug[0].ephemeral and bug[0].content == GENERIC_MESSAGE
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].getMessage() == "In /boom:" and errors[0].exc_info
    assert errors[0].exc_info[0] is KeyError  # the original, not discord.py's CommandInvokeError
    assert user[-1].route == "POST /webhooks/{webhook_id}/{webhook_token}"  # already deferred: a follow-up
    assert user[-1].ephemeral and user[-1].content == "no claim #4"
    assert check[0].ephemeral and check[0].content == "You can't use this command here."
    assert cooldown[0].ephemeral and cooldown[0].content.startswith("Slow down a little; try again in 6")
    assert all(mentions_nothing(c.allowed_mentions) for c in bug + user + check + cooldown if c.sends_message)


@pytest.mark.asyncio
async def test_prefix_errors_share_the_boundary(
    tmp_path: Path, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    @commands.command(name="explode")
    async def explode(ctx: commands.Context[Any]) -> None:
        raise RuntimeError("bug")

    async with running(build(tmp_path), monkeypatch) as h:
        h.bot.add_command(explode)
        me = h.bot.user
        assert me is not None
        with caplog.at_level(logging.ERROR, logger="bot.discord.errors"):
            calls = await h.post(h.user_message(f"<@{me.id}> explode"))
            ignored = await h.post(h.user_message(f"<@{me.id}> what happened today"))  # not a command: silent
    assert len(calls) == 1 and calls[0].content == GENERIC_MESSAGE
    assert calls[0].params["channel_id"] == str(GENERAL_ID) and mentions_nothing(calls[0].allowed_mentions)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == ["In explode:"]
    assert ignored == []


# --------------------------------------------------------------------------- factdesk serve


def test_serve_without_a_token_says_what_to_set(tmp_path: Path) -> None:
    from bot.cli.serve import TOKEN_MISSING, discord_token

    assert TOKEN_MISSING == (
        "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications, "
        "then set DISCORD_TOKEN in .env or the environment"
    )
    with pytest.raises(ConfigError) as caught:
        discord_token(make_settings(tmp_path))
    assert str(caught.value) == TOKEN_MISSING
    assert discord_token(make_settings(tmp_path, discord_token=" abc ")) == "abc"


def test_factdesk_serve_exits_non_zero_without_a_token(tmp_path: Path) -> None:
    import bot.cli.serve  # noqa: F401  (registers the command, as bot.cli.app._register will)
    from bot.cli.app import app

    result = CliRunner().invoke(app, ["--env-file", str(tmp_path / "none.env"), "serve"], env={"COLUMNS": "400"})
    assert result.exit_code == 1
    out = " ".join((result.output + (result.stderr if result.stderr_bytes is not None else "")).split())
    assert "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications" in out
