"""Prompt templates live as YAML files in ``prompts/`` (package data of the wheel); this loads and validates them.

Each answer records the prompt's name and content hash, so a changed prompt is
visible in logs and in ``--json`` output.
"""

from __future__ import annotations

import hashlib
import string
from functools import cached_property
from pathlib import Path

import yaml
from langchain_core.prompts import ChatPromptTemplate
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.core.errors import ConfigError


class PromptFile(BaseModel):
    """One prompt: system and user messages with ``{placeholders}`` for declared variables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    description: str
    variables: list[str]
    system: str = Field(min_length=20)
    user: str = Field(min_length=5)
    content_hash: str = ""

    @model_validator(mode="after")
    def _placeholders_match_variables(self) -> PromptFile:
        used = {
            field
            for text in (self.system, self.user)
            for _, field, _, _ in string.Formatter().parse(text)
            if field is not None
        }
        declared = set(self.variables)
        if used - declared:
            raise ValueError(f"placeholders not declared in variables: {sorted(used - declared)}")
        if declared - used:
            raise ValueError(f"declared variables never used: {sorted(declared - used)}")
        return self

    @cached_property
    def chat_template(self) -> ChatPromptTemplate:
        return ChatPromptTemplate.from_messages([("system", self.system), ("human", self.user)])


def load_prompt(path: Path) -> PromptFile:
    """Parse and validate one prompt file; errors name the file."""
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"prompt {path}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"prompt {path}: expected a mapping at the top level")
    if data.get("name") != path.stem:
        raise ConfigError(f"prompt {path}: name {data.get('name')!r} must match the file name")
    try:
        return PromptFile(**data, content_hash=hashlib.sha256(raw).hexdigest()[:12])
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"prompt {path}: {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


class PromptLibrary:
    """All prompts of a folder, loaded on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[str, PromptFile] = {}

    def get(self, name: str) -> PromptFile:
        if name not in self._cache:
            path = self.folder / f"{name}.yaml"
            if not path.exists():
                raise ConfigError(f"prompt {name!r} not found in {self.folder}")
            self._cache[name] = load_prompt(path)
        return self._cache[name]

    def all(self) -> list[PromptFile]:
        return [self.get(p.stem) for p in sorted(self.folder.glob("*.yaml"))]
