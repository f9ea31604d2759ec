"""``factdesk serve`` before the network is up: retries with backoff, one line each; no voice noise."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import discord
import pytest

from bot.cli.serve import wait_for_network
from bot.core.errors import ConfigError
from tests.discord_fakes.harness import make_bot, make_settings
from tests.discord_fakes.services import FakeAnswerer, make_answer
from tests.local_servers import free_port


@pytest.mark.asyncio
async def test_retries_with_backoff_until_the_host_answers(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    delays: list[float] = []
    listener: list[socket.socket] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 2:  # the network comes up during the second wait
            sock = socket.socket()
            sock.bind(("127.0.0.1", port))
            sock.listen()
            listener.append(sock)
        await asyncio.sleep(0)

    caplog.set_level(logging.WARNING, logger="bot.cli.serve")
    try:
        await wait_for_network(("127.0.0.1", port), sleep=sleep, probe_timeout=2)
    finally:
        for sock in listener:
            sock.close()
    assert delays == [2.0, 4.0]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2 and all("\n" not in w and "retrying in" in w for w in warnings)


@pytest.mark.asyncio
async def test_unknown_host_gives_up_with_one_line_when_told_to() -> None:
    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    with pytest.raises(ConfigError) as caught:
        await wait_for_network(("no-such-host.invalid", 443), attempts=2, sleep=sleep, probe_timeout=2)
    message = str(caught.value)
    assert "\n" not in message and "cannot reach Discord" in message and "network up" in message


def test_no_voice_warning_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    discord.VoiceClient.warn_nacl = True  # as on a fresh interpreter without PyNaCl
    discord.VoiceClient.warn_dave = True
    caplog.set_level(logging.WARNING)
    make_bot(make_settings(tmp_path / "data"), FakeAnswerer(make_answer()))
    assert not [r for r in caplog.records if "voice will NOT be supported" in r.getMessage()]
