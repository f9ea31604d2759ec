"""The command line as a user drives it: one clear line and a non-zero exit on user errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.app import _register, app
from bot.core.settings import Settings
from tests.conftest import SAMPLE_CORPUS


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


def run(runner: CliRunner, data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--env-file", "/nonexistent.env", "--data-dir", str(data_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def test_ingest_then_stats_and_sources(runner: CliRunner, tmp_path: Path) -> None:
    code, out, _ = run(runner, tmp_path, "ingest", str(SAMPLE_CORPUS / "2025-04-05-no-date-or-venue-northline.md"))
    assert code == 0 and "1 added" in out
    code, out, _ = run(runner, tmp_path, "stats")
    assert code == 0 and "articles" in out and "all-MiniLM-L6-v2-onnx-int8" in out
    code, out, _ = run(runner, tmp_path, "sources")
    assert code == 0 and "Northline Wire" in out


def test_user_errors_are_one_line_without_traceback(runner: CliRunner, tmp_path: Path) -> None:
    code, out, err = run(runner, tmp_path, "ingest", str(tmp_path / "missing.md"))
    assert code == 1 and "1 error" in out and "not found" in out + err and "Traceback" not in out + err
    code, _, err = run(runner, tmp_path, "ask", "   ")
    assert code == 1 and err.strip().startswith("error:") and "question is empty" in err
    assert "Traceback" not in err


def test_bad_setting_is_reported_by_name(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTDESK_CHUNK_TOKENS", "lots")
    code, _, err = run(runner, tmp_path, "stats")
    assert code == 1 and "FACTDESK_CHUNK_TOKENS" in err and "Traceback" not in err


def test_ask_json_and_claims_round_trip(runner: CliRunner, sample_settings: Settings) -> None:
    data = sample_settings.data_dir
    code, out, _ = run(runner, data, "ask", "Is the Putin–Zelenskyy meeting scheduled?", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["answer"].startswith("No") and answer["citations"] and answer["prompt"]["name"] == "answer"
    assert {"retrieval", "timings_ms", "tokens", "sources", "support_score"} <= set(answer)

    claim = "Putin and Zelenskyy will meet in Geneva in mid-April"
    code, out, _ = run(runner, data, "claims", "flag", claim, "--verdict", "false", "--note", "Denied on 3 April")
    assert code == 0 and "Claim #1" in out
    code, out, _ = run(runner, data, "ask", "Will Putin and Zelenskyy meet in Geneva in mid-April?", "--json")
    warnings = json.loads(out)["warnings"]
    assert warnings and warnings[0]["verdict"] == "false" and warnings[0]["claim"] == claim

    code, _, err = run(runner, data, "claims", "flag", "Another claim entirely", "--as", "12345")
    assert code == 1 and "only moderators" in err

    code, out, _ = run(runner, data, "claims", "resolve", "1", "--note", "settled")
    assert code == 0
    code, out, _ = run(runner, data, "ask", "Will Putin and Zelenskyy meet in Geneva in mid-April?", "--json")
    assert json.loads(out)["warnings"] == []
    code, out, _ = run(runner, data, "claims", "show", "1")
    assert code == 0 and "flagged" in out and "resolved" in out
    code, out, _ = run(runner, data, "claims", "export")
    review = json.loads(out)[0]
    assert review["@type"] == "ClaimReview" and review["claimReviewed"] == claim


def test_serve_without_token_says_what_to_set(runner: CliRunner, tmp_path: Path) -> None:
    code, _, err = run(runner, tmp_path, "serve")
    assert code == 1 and "DISCORD_TOKEN" in err
