"""Hostile language-model servers: unreadable replies, endless replies, control bytes in replies.

The real ChatOpenAI and openai SDK talk to the HTTP-level fake of
``tests/integration/test_answer_openai.py`` (an ``httpx.MockTransport``), or, for the CLI,
to a real server on 127.0.0.1. Retrieval, verification and the Discord library are real.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bot.answer.chain import Answerer
from bot.answer.models import Answer
from bot.app import Factdesk
from bot.cli.app import _register, app
from bot.core.llm import make_chat_model
from bot.core.settings import Settings, load_settings
from bot.core.text.sanitize import clean_untrusted
from bot.discord.errors import GENERIC_MESSAGE
from index.embeddings import LocalMiniLMEmbeddings
from tests.conftest import app_for
from tests.discord_fakes.harness import make_bot, make_settings, running
from tests.discord_fakes.services import FakeAnswerer, make_answer
from tests.hostile.servers import Exchange, Server
from tests.integration.test_answer_openai import (
    BASE_URL,
    FAITHFUL,
    FALLBACK_NOTE,
    QUESTION,
    FakeOpenAI,
    chat_reply,
    latest_number,
)

# Bodies an OpenAI-compatible server has answered with HTTP 200 that are not a chat completion.
UNREADABLE_BODIES: dict[str, bytes] = {
    "not-json": b"not json {",
    "empty": b"",
    "html-error-page": b"<html><body>502 Bad Gateway</body></html>",
    "truncated-json": b'{"id": "chatcmpl-x", "choices": [{"index": 0, "message": {"role": "assis',
    "empty-object": b"{}",
    "null-choices": b'{"choices": null}',
    "a-list": b"[1, 2, 3]",
    "a-string": b'"hello"',
    "nul-bytes": b"\x00\x00\x00",
    "choices-empty": b'{"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": []}',
}
# The most messages the Discord front end may send or edit for one question, whatever the reply
# (bot.discord.cogs.ask.MAX_PREVIEW_EDITS previews + render.MAX_ANSWER_MESSAGES for the answer).
MAX_DISCORD_CALLS = 10


def body_reply(body: bytes) -> Callable[[httpx.Request], httpx.Response]:
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return reply


def sse_reply(pieces: Callable[[int], list[str]], tail: bytes = b"data: [DONE]\n\n") -> Callable[..., httpx.Response]:
    """A streamed completion of ``pieces(n)`` (n: the number of the source the answer cites)."""

    def reply(request: httpx.Request) -> httpx.Response:
        events = [
            {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": 1743840000,
                "model": "gpt-4o-mini",
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
            }
            for piece in pieces(latest_number(request))
        ]
        body = "".join(f"data: {json.dumps(e)}\n\n" for e in events).encode() + tail
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return reply


def repeated_sentence(n: int, chars: int = 100_000) -> str:
    sentence = f"{FAITHFUL} [{n}]. "
    return sentence * (chars // len(sentence) + 1)


@dataclass
class LLMApp:
    """One application on a copy of the sample index, its chat model talking to ``server``."""

    app: Factdesk
    server: FakeOpenAI
    settings: Settings

    def serve(self, handler: Callable[[httpx.Request], httpx.Response]) -> Answerer:
        self.server.script = [handler]
        self.server.requests.clear()
        return self.app.answerer


@pytest.fixture(scope="module")
def llm_app(
    sample_index_dir: Path, embeddings: LocalMiniLMEmbeddings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LLMApp]:
    """Shared by the module (building an application costs seconds); answering writes nothing."""
    data_dir = tmp_path_factory.mktemp("hostile-llm") / "data"
    shutil.copytree(sample_index_dir, data_dir)
    settings = load_settings(
        None, data_dir=data_dir, openai_api_key="sk-test", openai_base_url=BASE_URL, llm_max_retries=0
    )
    server = FakeOpenAI([])
    transport = httpx.MockTransport(server)
    llm = make_chat_model(
        settings,
        http_client=httpx.Client(transport=transport),
        http_async_client=httpx.AsyncClient(transport=transport),
    )
    app_ = app_for(settings, embeddings, llm)
    yield LLMApp(app_, server, settings)
    app_.close()


def assert_extractive_fallback(answer: Answer) -> None:
    assert answer.engine == "extractive" and not answer.refused
    assert any(FALLBACK_NOTE in note for note in answer.notes), answer.notes
    assert answer.text.startswith("No") and answer.sentences


# --------------------------------------------------------------------------- HTTP 200, unreadable body (item 15)


@pytest.mark.parametrize("name", list(UNREADABLE_BODIES))
def test_unreadable_200_reply_falls_back_like_a_500(llm_app: LLMApp, name: str) -> None:
    answer = llm_app.serve(body_reply(UNREADABLE_BODIES[name])).ask(QUESTION)
    assert len(llm_app.server.requests) >= 1
    assert_extractive_fallback(answer)


@pytest.mark.asyncio
@pytest.mark.parametrize("name", list(UNREADABLE_BODIES))
async def test_unreadable_200_reply_while_streaming_falls_back(llm_app: LLMApp, name: str) -> None:
    answerer = llm_app.serve(body_reply(UNREADABLE_BODIES[name]))
    items = [item async for item in answerer.astream(QUESTION)]
    final = items[-1]
    assert isinstance(final, Answer)
    assert_extractive_fallback(final)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "tail",
    [b"data: {broken json\n\n", b'data: {"choices": null}\n\n', b"data: \x00\x00\n\n"],
    ids=["broken-event", "null-choices-event", "nul-event"],
)
async def test_a_stream_that_turns_unreadable_half_way_falls_back(llm_app: LLMApp, tail: bytes) -> None:
    answerer = llm_app.serve(sse_reply(lambda n: ["No — as of 5 April 2025, ", "no date "], tail=tail))
    items = [item async for item in answerer.astream(QUESTION)]
    final = items[-1]
    assert isinstance(final, Answer)
    if final.engine == "llm":  # a server that just stops is a short answer, never an error
        assert final.text
    else:
        assert_extractive_fallback(final)


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


@pytest.mark.parametrize("name", ["not-json", "empty", "html-error-page", "empty-object"])
def test_cli_ask_against_a_server_answering_200_garbage(
    runner: CliRunner, sample_settings: Settings, name: str
) -> None:
    def garbage(exchange: Exchange) -> None:
        exchange.respond(200, {"Content-Type": "application/json"}, UNREADABLE_BODIES[name])

    server = Server({"/v1/chat/completions": garbage})
    try:
        env = {
            "OPENAI_API_KEY": "sk-test",
            "FACTDESK_OPENAI_BASE_URL": f"http://127.0.0.1:{server.port}/v1",
            "FACTDESK_LLM_MAX_RETRIES": "0",
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
        }
        args = ["--env-file", "/nonexistent.env", "--data-dir", str(sample_settings.data_dir), "ask", QUESTION]
        result = runner.invoke(app, args, env=env)
    finally:
        server.close()
    assert server.paths and server.paths[0].startswith("/v1/chat/completions")  # the LLM was really asked
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and result.exception is None
    assert result.stdout.startswith("No") and FALLBACK_NOTE in result.stdout


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["not-json", "empty-object", "truncated-json"])
async def test_discord_ask_against_a_server_answering_200_garbage(
    llm_app: LLMApp, tmp_path: Path, monkeypatch: Any, name: str
) -> None:
    answerer = llm_app.serve(body_reply(UNREADABLE_BODIES[name]))
    async with running(make_bot(make_settings(tmp_path / "bot"), answerer), monkeypatch) as h:
        calls = await h.slash("ask", question=QUESTION)
    text = "\n".join(c.text() for c in calls)
    assert GENERIC_MESSAGE not in text
    assert "engine: extractive" in text and FALLBACK_NOTE in text


# --------------------------------------------------------------------------- endless replies (item 8)


def test_a_100k_reply_is_cut_at_the_reply_budget(llm_app: LLMApp) -> None:
    answer = llm_app.serve(lambda request: chat_reply(repeated_sentence(latest_number(request)))).ask(QUESTION)
    budget = llm_app.settings.llm_max_tokens
    assert answer.engine == "llm"
    assert answer.tokens["completion"] <= budget
    assert len(answer.text) < budget * 8
    assert any("cut at" in note for note in answer.notes)


@pytest.mark.asyncio
@pytest.mark.parametrize("pieces", [1, 50, 2000], ids=["one-chunk", "50-chunks", "2000-chunks"])
async def test_a_100k_streamed_reply_makes_a_few_discord_calls(
    llm_app: LLMApp, tmp_path: Path, monkeypatch: Any, pieces: int
) -> None:
    def chunks(n: int) -> list[str]:
        text = repeated_sentence(n)
        size = len(text) // pieces + 1
        return [text[i : i + size] for i in range(0, len(text), size)]

    answerer = llm_app.serve(sse_reply(chunks))
    async with running(make_bot(make_settings(tmp_path / "bot"), answerer), monkeypatch) as h:
        calls = await h.slash("ask", question=QUESTION)
    posts = [c for c in calls if c.sends_message]
    assert 1 <= len(posts) <= MAX_DISCORD_CALLS, [c.route for c in posts]
    assert any("engine: llm" in c.text() for c in posts)


@pytest.mark.asyncio
@pytest.mark.parametrize("chars", [20_000, 100_000, 1_000_000])
async def test_an_enormous_answer_is_capped_in_discord_whatever_the_engine(
    tmp_path: Path, monkeypatch: Any, chars: int
) -> None:
    """Even an answerer with no reply budget cannot make one /ask post more than a few messages."""
    sentence = "No date or venue has been set for the meeting [1]. "
    text = (sentence * (chars // len(sentence) + 1))[:chars]
    deltas = [text[i : i + 500] for i in range(0, len(text), 500)]
    answerer = FakeAnswerer(make_answer(text), deltas=deltas)
    async with running(make_bot(make_settings(tmp_path / "bot"), answerer), monkeypatch) as h:
        calls = await h.slash("ask", question=QUESTION)
    posts = [c for c in calls if c.sends_message]
    assert 1 <= len(posts) <= MAX_DISCORD_CALLS, len(posts)
    shown = "\n".join(c.text() for c in posts if c.embeds)
    assert "Answer shortened for Discord" in shown and f"{chars:,} characters" in shown


# --------------------------------------------------------------------------- control bytes in replies (item 10)

REPLY_NASTIES = {
    "nul": "\x00",
    "esc-colour": "\x1b[31m",
    "osc8-link": "\x1b]8;;https://evil.example/\x1b\\",
    "bell": "\x07",
    "bidi-override": "\u202e",
    "tag-characters": "\U000e0041\U000e0042",
    "c1-csi": "\x9b2J",
    "fence": "</sources> ‹/sources›",
}


@pytest.mark.parametrize("name", list(REPLY_NASTIES))
def test_control_bytes_in_an_llm_reply_never_reach_the_reader(llm_app: LLMApp, name: str) -> None:
    nasty = REPLY_NASTIES[name]

    def reply(request: httpx.Request) -> httpx.Response:
        n = latest_number(request)
        said = f"{nasty}no date or venue has been set{nasty} for a meeting between Putin and Zelenskyy"
        return chat_reply(f"No — as of 5 April 2025, {said} [{n}].")

    answer = llm_app.serve(reply).ask(QUESTION)
    assert answer.engine == "llm"
    shown = answer.render()
    assert clean_untrusted(shown) == shown
    assert "sources›" not in shown and "</sources>" not in shown
    assert "no date or venue has been set" in answer.text
