"""Each user-caused failure of issue 12 is at most two lines on stderr, no traceback, and says what to do."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.app import _register, app
from tests.local_servers import assert_short_error, fake_openai, free_port, run_cli


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


def invoke(runner: CliRunner, data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--env-file", "/nonexistent.env", "--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def test_empty_index_says_to_ingest_and_names_the_folder(tmp_path: Path) -> None:
    code, out, err = run_cli("ask", "Is the Putin–Zelenskyy meeting scheduled?", cwd=tmp_path)
    assert code == 1 and out == ""
    assert_short_error(err, "nothing is indexed yet", str(tmp_path / ".factdesk"), "run factdesk ingest")
    assert "don't say" not in err


def test_postgres_url_without_psycopg(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the postgres extra were not installed
    monkeypatch.setenv("FACTDESK_DATABASE_URL", "postgresql://factdesk:pw@127.0.0.1/factdesk")
    code, _, err = invoke(runner, tmp_path, "claims", "list")
    assert code == 1
    assert_short_error(err, "psycopg is not installed", 'pip install "factdesk[postgres]"')


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_unreachable(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scheme: str) -> None:
    monkeypatch.setenv("FACTDESK_DATABASE_URL", f"{scheme}://factdesk:secret@127.0.0.1:{free_port()}/factdesk")
    code, _, err = invoke(runner, tmp_path, "claims", "list")
    assert code == 1
    assert_short_error(err, "cannot open the database", "FACTDESK_DATABASE_URL", "Connection refused")
    assert "secret" not in err and "psycopg2" not in err  # postgres:// means psycopg 3, the password is hidden


@pytest.mark.parametrize("value", ["1,2", "1, 2", "[1, 2]"])
def test_list_settings_as_text_or_json(runner: CliRunner, tmp_path: Path, value: str) -> None:
    env = tmp_path / ".env"
    env.write_text(f"FACTDESK_MODERATOR_USER_IDS={value}\nFACTDESK_FEEDS=https://a.example/rss,https://b.example/rss\n")
    result = runner.invoke(app, ["--env-file", str(env), "--data-dir", str(tmp_path / "d"), "claims", "list"])
    assert result.exit_code == 0, result.stderr


def test_unreadable_list_setting_is_one_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTDESK_MODERATOR_USER_IDS", "[1, 2")
    code, _, err = invoke(runner, tmp_path, "claims", "list")
    assert code == 1
    assert_short_error(err, "FACTDESK_MODERATOR_USER_IDS", "write 1,2 or [1, 2]")


def test_wrong_llm_key_is_one_line_on_stderr_and_in_the_answer(sample_index_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(sample_index_dir, data)
    with fake_openai(status=401) as server:
        env = {"OPENAI_API_KEY": "sk-wrong", "OPENAI_BASE_URL": server.base_url, "FACTDESK_LLM_MAX_RETRIES": "0"}
        code, out, err = run_cli(
            "--data-dir", str(data), "ask", "Is the Putin–Zelenskyy meeting scheduled?", cwd=tmp_path, env=env
        )
        assert code == 0 and "[1]" in out  # still answered, from the sources
        assert "HTTP 401" in out and "OPENAI_API_KEY" in out  # the answer's note says why
        assert_short_error(err, "HTTP 401", "check OPENAI_API_KEY")

        code, out, err = run_cli(
            "-v", "--data-dir", str(data), "ask", "Is the meeting scheduled?", cwd=tmp_path, env=env
        )
        assert code == 0 and "Traceback" not in err
        assert [line for line in err.splitlines() if "401" in line] != []
        assert len([line for line in err.splitlines() if "language model request failed" in line]) == 1


def test_chroma_server_unreachable(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTDESK_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("FACTDESK_CHROMA_PORT", str(free_port()))
    code, _, err = invoke(runner, tmp_path, "stats")
    assert code == 1
    assert_short_error(err, "cannot open the Chroma store", "127.0.0.1")
