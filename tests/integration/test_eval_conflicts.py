"""``factdesk eval conflicts`` end to end on two records of our own: real index, real answering path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bot.cli.app import _register, app

NOISE = (
    "The city library will open on Sundays from April, the council said. Volunteers will run a reading "
    "club for children on weekend mornings. The council hopes more families will visit the branch."
)


def games(city: str) -> str:
    return (
        f"The league said on Monday that the 2030 regional games will be held in {city}. Organisers expect "
        "about 40,000 visitors during the two weeks of competition. The main stadium will be rebuilt before "
        "the opening ceremony, and hotels are already taking bookings."
    )


def captain(name: str) -> str:
    surname = name.split()[-1]
    return (
        f"{name} was named captain of the Harbor Hawks on Tuesday, the club said. {surname} has played for "
        "the club for six seasons and scored in last year's cup final. The club said the new captain would "
        "lead the team out at the opening match in August."
    )


RECORDS: list[dict[str, Any]] = [
    {
        "id": "games",
        "question": "Where will the 2030 regional games be held?",
        "answers": ["Port Ellery"],
        "altered_answers": ["Castlemere"],
        "documents": [
            {"text": games("Port Ellery"), "kind": "true"},
            {"text": games("Castlemere"), "kind": "altered"},
            {"text": NOISE, "kind": "noise"},
        ],
        "meta": {"answer_label": "GPE"},
    },
    {
        "id": "captain",
        "question": "Who was named captain of the Harbor Hawks?",
        "answers": ["Marta Quill", "Quill"],
        "altered_answers": ["Jonah Petrov", "Petrov"],
        "documents": [
            {"text": captain("Marta Quill"), "kind": "true"},
            {"text": captain("Jonah Petrov"), "kind": "altered"},
            {"text": NOISE, "kind": "noise"},
        ],
        "meta": {"answer_label": "PERSON"},
    },
]


def test_eval_conflicts_runs_three_settings_per_record_and_prints_the_figures(tmp_path: Path) -> None:
    data = tmp_path / "conflicts.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    figures_path, details_path = tmp_path / "figures.json", tmp_path / "details.jsonl"
    _register()
    args = ["--env-file", "/nonexistent.env", "--data-dir", str(tmp_path / "data"), "eval", "conflicts"]
    args += ["--data", str(data), "--json", str(figures_path), "--details", str(details_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr

    figures = json.loads(figures_path.read_text())
    assert json.loads(result.stdout) == figures
    assert figures["records"] == 2
    for name in ("true_only_accuracy", "true_only_flagged", "mixed_flagged", "mixed_accuracy"):
        assert 0.0 <= figures[name] <= 1.0 and name in result.stderr  # in the JSON and the table
    assert figures["p50_seconds_per_question"] > 0
    assert figures["answers_by_engine"] and sum(figures["answers_by_engine"].values()) == 6
    assert set(figures["by_answer_label"]) == {"GPE", "PERSON"}
    assert figures["config"]["engine"] == "extractive"

    details = [json.loads(line) for line in details_path.read_text().splitlines()]
    assert [d["id"] for d in details] == ["games", "captain"]
    for record in details:
        # Neither version is indexed where it does not belong: no answer can state it there.
        assert not record["true_only"]["contains_altered"] and not record["altered_only"]["contains_true"]
        assert record["true_only"]["merged"] == {} and record["altered_only"]["merged"] == {}
    # The figures are the shares of the per-record outcomes.
    for setting, key, figure in [
        ("true_only", "contains_true", "true_only_accuracy"),
        ("true_only", "flagged", "true_only_flagged"),
        ("altered_only", "contains_altered", "altered_only_accuracy"),
        ("mixed", "flagged", "mixed_flagged"),
        ("mixed", "contains_true", "mixed_accuracy"),
        ("mixed", "refused", "mixed_refused"),
    ]:
        assert figures[figure] == sum(d[setting][key] for d in details) / 2
    unflagged = sum(d["mixed"]["contains_altered"] and not d["mixed"]["flagged"] for d in details) / 2
    assert figures["mixed_altered_unflagged"] == unflagged
    # Each setting ran in its own folder, removed afterwards; nothing was left in the data dir.
    assert not (tmp_path / "data" / "chroma").exists()


def test_eval_conflicts_runs_only_the_settings_asked_for(tmp_path: Path) -> None:
    """``--settings true_only`` asks each record once, over its true and noise documents, and reports
    only that setting's figures (a figure of a setting not run is absent, not 0)."""
    data = tmp_path / "conflicts.jsonl"
    data.write_text(json.dumps(RECORDS[1]) + "\n")
    figures_path, details_path = tmp_path / "figures.json", tmp_path / "details.jsonl"
    _register()
    args = ["--env-file", "/nonexistent.env", "--data-dir", str(tmp_path / "data"), "eval", "conflicts"]
    args += ["--data", str(data), "--json", str(figures_path), "--details", str(details_path)]
    result = CliRunner().invoke(app, [*args, "--settings", "true_only"])
    assert result.exit_code == 0, result.stderr
    figures = json.loads(figures_path.read_text())
    assert figures["true_only_accuracy"] == 1.0 and figures["true_only_refused"] == 0.0
    assert not [name for name in figures if name.startswith(("mixed", "altered_only"))]
    assert figures["config"]["settings"] == ["true_only"]
    assert sum(figures["answers_by_engine"].values()) == 1
    (detail,) = [json.loads(line) for line in details_path.read_text().splitlines()]
    assert set(detail) == {"id", "true_only"}

    bad = CliRunner().invoke(app, [*args, "--settings", "true_only,both"])
    assert bad.exit_code != 0
    assert "unknown setting both: choose from true_only, altered_only, mixed" in bad.stderr
