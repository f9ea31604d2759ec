"""``factdesk doctor`` against local servers: one line per check, exit 1 exactly when something is wrong."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.app.doctor import FAIL, OK, WARN, run_checks, token_application_id
from bot.cli.app import _register, app
from bot.core.settings import Settings, load_settings
from index.embeddings import LocalMiniLMEmbeddings
from tests.local_servers import fake_openai, free_port

CHECKS = ["settings", "data dir", "index", "database", "llm", "discord"]
TOKEN = base64.b64encode(b"123456789012345678").decode().rstrip("=") + ".GhIjKl." + "x" * 27


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


def doctor(runner: CliRunner, data_dir: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, list[str]]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = runner.invoke(app, ["--env-file", "/nonexistent.env", "--data-dir", str(data_dir), "doctor", "--offline"])
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout.splitlines()


def by_name(lines: list[str]) -> dict[str, str]:
    """{check name: status} from the printed lines (``status  name  detail``)."""
    out: dict[str, str] = {}
    for line in lines:
        status, rest = line[:4].strip(), line[6:]
        name = next(
            n for n in ["settings", "data dir", "chroma", "index", "database", "llm", "discord"] if rest.startswith(n)
        )
        out[name] = status
    return out


def test_healthy_setup_passes(runner: CliRunner, sample_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_openai(200) as llm:
        code, lines = doctor(
            runner,
            sample_settings.data_dir,
            monkeypatch,
            OPENAI_API_KEY="sk-test",
            OPENAI_BASE_URL=llm.base_url,
            DISCORD_TOKEN=TOKEN,
        )
        assert llm.requests and llm.requests[0]["max_tokens"] == 1  # a 1-token request
    assert code == 0, lines
    assert list(by_name(lines)) == CHECKS and set(by_name(lines).values()) == {OK}
    assert any("17 articles" in line for line in lines)


def test_chroma_server_down(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = doctor(
        runner, tmp_path, monkeypatch, FACTDESK_CHROMA_HOST="127.0.0.1", FACTDESK_CHROMA_PORT=str(free_port())
    )
    status = by_name(lines)
    assert code == 1 and status["chroma"] == FAIL and status["index"] == FAIL
    assert len(lines) == len(CHECKS) + 1
    assert any("FACTDESK_CHROMA_HOST" in line for line in lines)


def test_database_down(runner: CliRunner, sample_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgres://factdesk:secret@127.0.0.1:{free_port()}/factdesk"
    code, lines = doctor(runner, sample_settings.data_dir, monkeypatch, FACTDESK_DATABASE_URL=url)
    status = by_name(lines)
    assert code == 1 and status["database"] == FAIL and status["index"] == OK
    assert len(lines) == len(CHECKS) and not any("secret" in line for line in lines)


def test_bad_llm_key(runner: CliRunner, sample_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_openai(401) as llm:
        code, lines = doctor(
            runner, sample_settings.data_dir, monkeypatch, OPENAI_API_KEY="sk-wrong", OPENAI_BASE_URL=llm.base_url
        )
    assert code == 1 and by_name(lines)["llm"] == FAIL
    (line,) = [line for line in lines if line.startswith(FAIL)]
    assert "HTTP 401" in line and "OPENAI_API_KEY" in line


def test_llm_not_answering(runner: CliRunner, sample_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    code, lines = doctor(runner, sample_settings.data_dir, monkeypatch, OPENAI_API_KEY="sk", OPENAI_BASE_URL=url)
    assert code == 1 and any("cannot connect" in line for line in lines if line.startswith(FAIL))


def test_bad_setting_is_one_failed_line(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = doctor(runner, tmp_path, monkeypatch, FACTDESK_CHUNK_TOKENS="lots")
    assert code == 1 and len(lines) == 1 and lines[0].startswith(FAIL) and "FACTDESK_CHUNK_TOKENS" in lines[0]


def test_empty_data_dir_says_to_ingest(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = doctor(runner, tmp_path / "new", monkeypatch)
    status = by_name(lines)
    assert code == 1 and status["index"] == FAIL and status["data dir"] == WARN
    assert any("run factdesk ingest" in line for line in lines)
    assert not (tmp_path / "new").exists()  # the doctor looks, it does not create


def test_token_format() -> None:
    assert token_application_id(TOKEN) == "123456789012345678"
    assert token_application_id("not a token") is None
    assert token_application_id("abc.def.ghi") is None


@pytest.mark.parametrize(("status", "mention", "expected"), [(200, False, OK), (200, True, FAIL), (401, False, FAIL)])
def test_discord_token_and_intents_online(
    sample_settings: Settings, embeddings: LocalMiniLMEmbeddings, status: int, mention: bool, expected: str
) -> None:
    settings = load_settings(None, data_dir=sample_settings.data_dir, discord_token=TOKEN, mention_mode=mention)
    with fake_openai(status) as discord_api:  # answers GET /applications/@me with flags 0 (no content intent)
        checks = run_checks(settings, lambda: embeddings, discord_api=f"http://127.0.0.1:{discord_api.port}")
    (check,) = [c for c in checks if c.name == "discord"]
    assert check.status == expected, check
    if mention and expected == FAIL:
        assert "Message Content Intent" in check.detail
