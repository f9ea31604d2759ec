"""Issue 12's smaller CLI items: suggested flags from the shell, a readable history, plain flags in --help."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.app import _register, app
from bot.core.settings import Settings


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


def run(runner: CliRunner, data_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["--env-file", "/nonexistent.env", "--data-dir", str(data_dir), *args], env={"COLUMNS": "200"}
    )
    return result.exit_code, result.stdout, result.stderr


def test_suggestions_list_accept_dismiss(runner: CliRunner, sample_settings: Settings) -> None:
    data = sample_settings.data_dir
    code, out, _ = run(runner, data, "claims", "suggest", "--since", "2025-03-01")
    assert code == 0
    code, out, _ = run(runner, data, "claims", "suggestions", "list")
    assert code == 0
    ids = [int(i) for i in re.findall(r"^│ (\d+) ", out, re.MULTILINE)]
    assert len(ids) >= 2, out
    first, second = ids[:2]

    code, out, _ = run(runner, data, "claims", "suggestions", "accept", str(first), "--verdict", "false")
    assert code == 0 and "Claim #1" in out and "FALSE" in out
    code, out, _ = run(runner, data, "claims", "suggestions", "dismiss", str(second))
    assert code == 0 and f"suggestion #{second} dismissed" in out

    code, out, _ = run(runner, data, "claims", "suggestions", "list")
    remaining = [int(i) for i in re.findall(r"^│ (\d+) ", out, re.MULTILINE)]
    assert first not in remaining and second not in remaining
    code, _, err = run(runner, data, "claims", "suggestions", "dismiss", str(second))
    assert code == 1 and "already dismissed" in err and len(err.strip().splitlines()) == 1


def test_claims_show_history_is_readable(runner: CliRunner, tmp_path: Path) -> None:
    code, _, _ = run(
        runner, tmp_path, "claims", "flag", "The bridge reopens in May", "--verdict", "disputed", "--note", "Unclear"
    )
    assert code == 0
    code, _, _ = run(runner, tmp_path, "claims", "update", "1", "--verdict", "false", "--note", "Council says June")
    assert code == 0
    code, out, _ = run(runner, tmp_path, "claims", "show", "1")
    assert code == 0
    assert "verdict: disputed → false" in out and "note: Unclear → Council says June" in out
    assert '{"' not in out  # no raw JSON in the change column


@pytest.mark.parametrize("command", [[], ["ingest"], ["ask"], ["claims", "suggestions", "accept"], ["doctor"]])
def test_help_shows_flags_without_a_value(runner: CliRunner, tmp_path: Path, command: list[str]) -> None:
    code, out, _ = run(runner, tmp_path, *command, "--help")
    assert code == 0 and "--help" in out
    assert "<bool>" not in out and "BOOLEAN" not in out


def test_eval_multihop_says_where_the_data_comes_from(runner: CliRunner, tmp_path: Path) -> None:
    code, _, err = run(runner, tmp_path, "eval", "multihop", "--corpus", str(tmp_path / "corpus.json"))
    assert code == 1 and "Traceback" not in err
    assert "MultiHop-RAG" in err and "yixuantt/MultiHop-RAG" in err and "--corpus" in err
