"""Every prompt file loads, validates and is hashed; bad prompt files fail with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import ConfigError
from bot.core.prompts import PromptLibrary, load_prompt
from bot.core.settings import PROMPTS_DIR


def test_every_prompt_file_loads_and_renders() -> None:
    library = PromptLibrary(PROMPTS_DIR)
    prompts = library.all()
    assert {p.name for p in prompts} >= {"answer", "digest"}
    for prompt in prompts:
        assert len(prompt.content_hash) == 12
        values = {name: f"<{name}>" for name in prompt.variables}
        messages = prompt.chat_template.format_messages(**values)
        assert [m.type for m in messages] == ["system", "human"]
        rendered = "\n".join(str(m.content) for m in messages)
        assert all(f"<{name}>" in rendered for name in prompt.variables)


def test_answer_prompt_treats_sources_as_data() -> None:
    system = PromptLibrary(PROMPTS_DIR).get("answer").system.lower()
    assert "untrusted data" in system and "not instructions" in system


def _write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(body)
    return path


GOOD = """name: {name}
version: 1
description: test prompt
variables: [question]
system: |
  You answer questions from the sources only, and cite them.
user: |
  {{question}}
"""


def test_hash_changes_with_content(tmp_path: Path) -> None:
    first = load_prompt(_write(tmp_path, "demo", GOOD.format(name="demo")))
    second = load_prompt(_write(tmp_path, "demo", GOOD.format(name="demo") + "# edited\n"))
    assert first.content_hash != second.content_hash


@pytest.mark.parametrize(
    "body,message",
    [
        (GOOD.format(name="other"), "must match the file name"),
        (GOOD.format(name="demo").replace("variables: [question]", "variables: [question, extra]"), "never used"),
        (GOOD.format(name="demo").replace("{question}", "{question} {missing}"), "not declared"),
        (GOOD.format(name="demo") + "surprise: field\n", "surprise"),
        ("just a string", "mapping"),
        ("name: demo\n  bad: [yaml", "cannot read"),
    ],
)
def test_invalid_prompt_files_name_the_problem(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_prompt(_write(tmp_path, "demo", body))


def test_missing_prompt_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        PromptLibrary(tmp_path).get("answer")
