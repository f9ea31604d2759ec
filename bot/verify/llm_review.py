"""A second opinion from the LLM on answer sentences the fact rules doubt (prompt ``prompts/verify.yaml``).

The offline checks decide alone; this only runs with an LLM configured and
``FACTDESK_LLM_REVIEW=true``. It is asked about sentences that passed the rules but
that the fact model scored unsupported without naming a missing fact (a paraphrase
it cannot read), at most ``max_checks`` per answer. A "not supported" verdict
removes the sentence; anything else (supported, an unreadable reply, an outage)
keeps it as the rules left it, so the review can only make an answer stricter.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from bot.core.llm import LLM_FAILED, describe_llm_error
from bot.core.models import CitedSentence, Source
from bot.core.prompts import PromptFile
from bot.core.render import prompt_sources
from bot.verify.citations import VerificationResult

log = logging.getLogger(__name__)

_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ReviewVerdict:
    """The model's reading of one sentence; ``None`` fields mean it gave no usable answer."""

    supported: bool | None
    reason: str = ""


def parse_verdict(reply: str) -> ReviewVerdict:
    """``{"supported": false, "reason": "…"}`` anywhere in the reply; anything else is no verdict."""
    match = _JSON_OBJECT.search(reply)
    if match is None:
        return ReviewVerdict(None)
    try:
        data = json.loads(match.group(0))
    except json.JSONDecodeError:
        return ReviewVerdict(None)
    if not isinstance(data, dict) or not isinstance(data.get("supported"), bool):
        return ReviewVerdict(None)
    reason = " ".join(str(data.get("reason", "")).split())[:200]
    return ReviewVerdict(data["supported"], reason)


class LLMReview:
    """``review(result, sources)``: the verification result with the sentences the model rejects removed."""

    def __init__(self, llm: BaseChatModel, prompt: PromptFile, max_checks: int = 3) -> None:
        self.llm = llm
        self.prompt = prompt
        self.max_checks = max_checks

    @property
    def prompt_id(self) -> str:
        """``verify@<hash>``: recorded in the answer, so a changed prompt shows."""
        return f"{self.prompt.name}@{self.prompt.content_hash}"

    def ask(self, sentence: CitedSentence, sources: Sequence[Source]) -> ReviewVerdict:
        cited = [s for s in sources if s.number in sentence.citations]
        inputs = {"sentence": sentence.text, "source": prompt_sources(cited)}
        reply = (self.prompt.chat_template | self.llm | StrOutputParser()).invoke(inputs)
        return parse_verdict(reply)

    def review(self, result: VerificationResult, sources: Sequence[Source]) -> VerificationResult:
        """Ask about the first ``max_checks`` doubtful sentences; drop the ones the model says are unsupported."""
        rejected: dict[int, str] = {}
        notes: list[str] = []
        for position in result.doubtful[: self.max_checks]:
            sentence = result.sentences[position]
            try:
                verdict = self.ask(sentence, sources)
            except LLM_FAILED as exc:
                log.warning("LLM review unavailable (%s); keeping the rules' verdicts", describe_llm_error(exc))
                notes.append("The language model's second check was unavailable; the rules' verdicts stand.")
                break
            if verdict.supported is False:
                rejected[position] = verdict.reason or "the source does not state it"
                notes.append(f"Unsupported (language model check): “{sentence.text[:80]}” ({rejected[position]}).")
        if not rejected and not notes:
            return result
        kept = [s for i, s in enumerate(result.sentences) if i not in rejected]
        claims = [s.support for s in kept if s.citations]
        return replace(
            result,
            sentences=kept,
            support_score=sum(claims) / len(claims) if claims else 0.0,
            dropped=result.dropped + len(rejected),
            notes=[*result.notes, *notes],
            doubtful=[],
        )
