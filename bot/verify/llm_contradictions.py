"""Contradiction finding with an LLM (prompt ``prompts/contradictions.yaml``), rules as the fallback.

The model sees numbered statements and returns pairs as JSON; anything it returns
that does not name two real statements is dropped, so it can only point at text
that is actually in the sources.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from bot.core.llm import LLM_FAILED
from bot.core.prompts import PromptFile
from bot.verify.contradictions import Contradiction, ContradictionKind, Statement, detect_contradictions

log = logging.getLogger(__name__)

_JSON_LIST = re.compile(r"\[.*\]", re.DOTALL)


class LLMContradictionFinder:
    """``find(statements)`` like :func:`detect_contradictions`, asking the chat model first."""

    def __init__(self, llm: BaseChatModel, prompt: PromptFile, max_statements: int = 40) -> None:
        self.llm = llm
        self.prompt = prompt
        self.max_statements = max_statements

    def find(self, statements: Sequence[Statement]) -> list[Contradiction]:
        subset = list(statements[: self.max_statements])
        if len(subset) < 2:
            return []
        numbered = "\n".join(f"{i}. [source {s.source_number}] {s.text}" for i, s in enumerate(subset, 1))
        try:
            reply = (self.prompt.chat_template | self.llm | StrOutputParser()).invoke({"statements": numbered})
        except LLM_FAILED as exc:
            log.warning("LLM unavailable for contradiction finding (%s); using the rules", exc)
            return detect_contradictions(subset)
        return self.parse(reply, subset)

    @staticmethod
    def parse(reply: str, statements: Sequence[Statement]) -> list[Contradiction]:
        """Keep only well-formed pairs of two different, existing statements."""
        match = _JSON_LIST.search(reply)
        if not match:
            return []
        try:
            items = json.loads(match.group(0))
        except json.JSONDecodeError:
            log.info("contradiction reply was not JSON: %.200s", reply)
            return []
        found: list[Contradiction] = []
        kinds = {k.value for k in ContradictionKind}
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            a, b, kind = item.get("a"), item.get("b"), str(item.get("kind", "negation"))
            if not (isinstance(a, int) and isinstance(b, int)) or a == b:
                continue
            if not (1 <= a <= len(statements) and 1 <= b <= len(statements)):
                continue
            found.append(
                Contradiction(
                    kind=ContradictionKind(kind) if kind in kinds else ContradictionKind.NEGATION,
                    a=statements[a - 1],
                    b=statements[b - 1],
                    explanation=str(item.get("explanation", ""))[:300],
                )
            )
        return found
