"""Hostile claims and questions: NUL, lone surrogates, escapes and markup on SQLite and PostgreSQL.

Each input is either stored sanitised or refused with one clear line; nothing raises a driver
or encoding error, and what was stored never breaks ``claims list`` / ``claims show`` later.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from bot.app import Factdesk
from bot.claims.service import Actor, ClaimsService
from bot.cli.app import _register, app
from bot.core.errors import FactdeskError, InvalidInputError
from bot.core.settings import load_settings
from bot.discord.errors import GENERIC_MESSAGE
from index.embeddings import LocalMiniLMEmbeddings
from tests.claims_pg import pg_server, pg_url  # noqa: F401 (fixtures)
from tests.conftest import app_for
from tests.discord_fakes.harness import make_bot, make_settings, running
from tests.hostile.conftest import MAX_ERROR_CHARS, assert_inert

MOD = Actor(id="100", name="mod")
BASE = "Harbour City glass workers ended their strike on Tuesday"
# (name, text): claim texts a moderator could paste from anywhere.
CLAIM_TEXTS: dict[str, str] = {
    "nul-inside": f"{BASE}\x00 after a vote",
    "nul-only-between-words": "Harbour\x00City\x00strike ended on Tuesday",
    "lone-surrogate-low": f"{BASE} \udc80 after a vote",
    "lone-surrogate-high": f"{BASE} \ud83d after a vote",
    "surrogate-pair-as-two-escapes": f"{BASE} \ud83d\ude00",
    "esc-colour": f"{BASE} \x1b[31mafter a vote\x1b[0m",
    "osc8-link": f"{BASE} \x1b]8;;https://evil.example/\x07click\x1b]8;;\x07",
    "c1-controls": f"{BASE} \x9b2J\x85\x9c",
    "bidi-override": f"{BASE} \u202eetov a retfa\u202c",
    "tag-characters": f"{BASE}\U000e0041\U000e0042",
    "rich-close": f"{BASE} [/]",
    "rich-link": f"{BASE} [link=https://evil.example/]click here[/link]",
    "rich-style": f"[bold red]{BASE}[/bold red]",
    "markdown-link": f"{BASE} [official](https://evil.example/)",
    "mention": f"{BASE} @everyone",
}
# Inputs with nothing left once cleaned: refused with one line.
EMPTY_TEXTS: dict[str, str] = {
    "only-nul": "\x00\x00\x00",
    "only-escapes": "\x1b[31m\x1b[0m",
    "only-bidi-and-tags": "\u202e\u2066\U000e0041",
    "only-surrogates": "\udc80\udcff",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'claims.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def service(db_url: str, embeddings: LocalMiniLMEmbeddings) -> Iterator[ClaimsService]:
    svc = ClaimsService(db_url, embeddings, moderator_user_ids=[100])
    yield svc
    svc.close()


def assert_one_line(exc: BaseException) -> None:
    assert isinstance(exc, FactdeskError), repr(exc)
    message = str(exc)
    assert "\n" not in message and len(message) <= MAX_ERROR_CHARS
    message.encode("utf-8")  # printable as it is


@pytest.mark.parametrize("name", list(CLAIM_TEXTS))
def test_a_hostile_claim_is_stored_sanitised(service: ClaimsService, name: str) -> None:
    text = CLAIM_TEXTS[name]
    claim = service.flag(MOD, text, "false", note=f"note {text}", origin=f"pasted {text}")
    for value in (claim.text, claim.note, claim.origin or ""):
        assert_inert(value)
        value.encode("utf-8")
    assert "strike ended on Tuesday" in claim.text or "ended their strike on Tuesday" in claim.text
    again = service.get(claim.id)
    assert again.text == claim.text
    assert [c.id for c in service.list()] == [claim.id]
    assert service.history(claim.id)


@pytest.mark.parametrize("name", list(EMPTY_TEXTS))
def test_a_claim_with_nothing_left_is_one_clear_line(service: ClaimsService, name: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        service.flag(MOD, EMPTY_TEXTS[name], "false")
    assert_one_line(caught.value)
    assert service.list() == []


@pytest.mark.parametrize(
    "field",
    [
        {"evidence_urls": ["https://example.org/\x00fact"]},
        {"evidence_urls": ["https://example.org/\udc80"]},
        {"evidence_urls": ["https://\x1b[31mexample.org/"]},
        {"verdict": "false\x00"},
        {"verdict": "\udc80"},
    ],
    ids=["url-nul", "url-surrogate", "url-escape", "verdict-nul", "verdict-surrogate"],
)
def test_hostile_fields_are_one_clear_line(service: ClaimsService, field: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {"verdict": "false", **field}
    try:
        claim = service.flag(MOD, BASE, **kwargs)
    except FactdeskError as exc:
        assert_one_line(exc)
        assert service.list() == []
    else:
        assert all(u.isprintable() for u in claim.evidence_urls)


# --------------------------------------------------------------------------- the CLI afterwards (item 14)


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


def cli(runner: CliRunner, data_dir: Path, db_url: str, *args: str) -> tuple[int, str, str]:
    env = {"FACTDESK_DATABASE_URL": db_url, "COLUMNS": "400"}
    result = runner.invoke(app, ["--env-file", "/nonexistent.env", "--data-dir", str(data_dir), *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.stdout, result.stderr


def test_claims_list_and_show_after_hostile_claims(
    runner: CliRunner, service: ClaimsService, db_url: str, tmp_path: Path
) -> None:
    """Claims stored with markup, and rows an older version stored raw, print literally."""
    ids = [service.flag(MOD, text, "false").id for text in CLAIM_TEXTS.values()]
    legacy = service.flag(MOD, "The strike will go on all summer", "misleading").id
    raw = "Old row \x1b[31m[/] [link=https://evil.example/]x[/link] \u202eevil"
    with service.engine.begin() as conn:  # as an older version stored it, before texts were cleaned
        conn.execute(sa.text("UPDATE claims SET text = :t, note = :t WHERE id = :i"), {"t": raw, "i": legacy})

    code, out, err = cli(runner, tmp_path, db_url, "claims", "list")
    assert code == 0, err
    assert "Traceback" not in out + err and "MarkupError" not in out + err
    assert_inert(out)
    assert "[/]" in out and "[link=https://evil.example/]click here[/link]" in out
    assert "\x1b]8;" not in out
    for claim_id in [*ids[:3], legacy]:
        code, out, err = cli(runner, tmp_path, db_url, "claims", "show", str(claim_id))
        assert code == 0, err
        assert_inert(out)
    assert "[/]" in out


@pytest.mark.parametrize("name", ["nul-inside", "lone-surrogate-low", "rich-close", "rich-link", "esc-colour"])
def test_cli_flag_of_a_hostile_claim(runner: CliRunner, db_url: str, tmp_path: Path, name: str) -> None:
    code, out, err = cli(runner, tmp_path, db_url, "claims", "flag", CLAIM_TEXTS[name], "--verdict", "false")
    assert code == 0, err
    assert "Claim #1" in out and "Traceback" not in out + err
    assert_inert(out)


# --------------------------------------------------------------------------- questions (item 16)

QUESTIONS: dict[str, str] = {
    "lone-surrogate": "Did the \udc80 strike end?",
    "high-surrogate": "Is the Putin\ud83d meeting scheduled?",
    "nul": "Is the Putin\x00Zelenskyy meeting scheduled?",
    "esc": "Is the \x1b[31mPutin–Zelenskyy\x1b[0m meeting scheduled?",
    "osc8": "Is the \x1b]8;;https://evil.example/\x07meeting\x1b]8;;\x07 scheduled?",
    "bidi": "Is the \u202emeeting\u202c scheduled?",
    "tags": "Is the meeting\U000e0041 scheduled?",
    "markup": "Is the [/] meeting [link=https://evil.example/]scheduled[/link]?",
    "c1": "Is the meeting\x9b2J scheduled?",
    "only-surrogates": "\udc80\udc81",
}
EMPTY_QUESTIONS = {"only-nul": "\x00\x00", "only-bidi": "\u202e\u2066\u2069", "only-escapes": "\x1b[2J\x1b[H"}


@pytest.fixture(scope="module")
def offline_app(
    sample_index_dir: Path, embeddings: LocalMiniLMEmbeddings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Factdesk]:
    data_dir = tmp_path_factory.mktemp("hostile-questions") / "data"
    shutil.copytree(sample_index_dir, data_dir)
    app_ = app_for(load_settings(None, data_dir=data_dir), embeddings)
    yield app_
    app_.close()


@pytest.mark.parametrize("name", list(QUESTIONS))
def test_a_hostile_question_is_answered_or_one_line(offline_app: Factdesk, name: str) -> None:
    answer = offline_app.ask(QUESTIONS[name])
    assert_inert(answer.question)
    assert_inert(answer.render())
    answer.render().encode("utf-8")


@pytest.mark.parametrize("name", list(EMPTY_QUESTIONS))
def test_a_question_with_nothing_left_is_one_line(offline_app: Factdesk, name: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        offline_app.ask(EMPTY_QUESTIONS[name])
    assert_one_line(caught.value)


@pytest.mark.parametrize("name", ["lone-surrogate", "nul", "esc", "markup"])
def test_cli_ask_with_a_hostile_question(runner: CliRunner, offline_app: Factdesk, name: str) -> None:
    data_dir = offline_app.settings.data_dir
    result = runner.invoke(app, ["--env-file", "/nonexistent.env", "--data-dir", str(data_dir), "ask", QUESTIONS[name]])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1) and "Traceback" not in result.output
    assert_inert(result.output)


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["lone-surrogate", "nul", "bidi"])
async def test_discord_ask_with_a_hostile_question(
    offline_app: Factdesk, tmp_path: Path, monkeypatch: Any, name: str
) -> None:
    async with running(make_bot(make_settings(tmp_path / "bot"), offline_app.answerer), monkeypatch) as h:
        calls = await h.slash("ask", question=QUESTIONS[name])
    text = "\n".join(c.text() for c in calls)
    assert GENERIC_MESSAGE not in text and calls
    assert_inert(text.replace("@\u200b", "@"))
