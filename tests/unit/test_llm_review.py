"""The LLM's second opinion: it can only remove doubtful sentences, and bad replies or outages change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import openai
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bot.core.models import CitedSentence, Passage, Source
from bot.core.prompts import PromptLibrary
from bot.core.settings import PROMPTS_DIR
from bot.verify.citations import VerificationResult
from bot.verify.llm_review import LLMReview, parse_verdict

PASSAGE = "Harbor City Council voted 7-2 on Monday to close the Pier 4 ferry terminal by June."


def _sources() -> list[Source]:
    when = datetime(2025, 3, 3, tzinfo=UTC)
    passage = Passage("c1", "a1", PASSAGE, "Council closes ferry terminal", "Bayside Ledger", None, when, 0, 80)
    return [Source(1, "a1", passage.title, passage.outlet, None, when, (passage,))]


def _result(*doubtful: int) -> VerificationResult:
    sentences = [
        CitedSentence("The council decided to shut the terminal.", (1,), 0.7, True),
        CitedSentence("The vote was seven to two.", (1,), 0.8, True),
    ]
    return VerificationResult(sentences=sentences, support_score=0.75, doubtful=list(doubtful))


def _review(*replies: str, max_checks: int = 3) -> tuple[LLMReview, FakeListChatModel]:
    llm = FakeListChatModel(responses=list(replies))
    return LLMReview(llm, PromptLibrary(PROMPTS_DIR).get("verify"), max_checks=max_checks), llm


@pytest.mark.parametrize(
    ("reply", "supported", "reason"),
    [
        ('{"supported": false, "reason": "the source says June, not May"}', False, "the source says June, not May"),
        ('Sure. {"supported": true, "reason": ""} Hope that helps.', True, ""),
        ("I think it is supported.", None, ""),
        ('{"supported": "no"}', None, ""),
        ('{"supported": false', None, ""),
        ("[true]", None, ""),
    ],
)
def test_only_a_boolean_verdict_counts(reply: str, supported: bool | None, reason: str) -> None:
    verdict = parse_verdict(reply)
    assert verdict.supported is supported
    assert verdict.reason == reason


def test_a_rejected_doubtful_sentence_is_removed_and_named() -> None:
    review, _ = _review('{"supported": false, "reason": "no closing decision"}')
    out = review.review(_result(0), _sources())
    assert [s.text for s in out.sentences] == ["The vote was seven to two."]
    assert out.dropped == 1 and out.doubtful == []
    assert out.support_score == pytest.approx(0.8)
    assert any("language model check" in n and "no closing decision" in n for n in out.notes)


def test_supported_or_unreadable_replies_keep_the_sentence() -> None:
    for reply in ('{"supported": true, "reason": "stated"}', "maybe?"):
        review, _ = _review(reply)
        result = _result(0)
        out = review.review(result, _sources())
        assert out is result  # nothing changed


def test_at_most_max_checks_calls() -> None:
    review, _ = _review('{"supported": false, "reason": "x"}', max_checks=1)
    out = review.review(_result(0, 1), _sources())
    assert [s.text for s in out.sentences] == ["The vote was seven to two."]  # the second was not asked about


def test_the_prompt_carries_the_cited_source_fenced_and_the_sentence() -> None:
    review, _ = _review("{}")
    messages = review.prompt.chat_template.format_messages(sentence="S.", source="<source n=1>")
    assert "<sources>" in str(messages[1].content)
    system, user = (str(m.content) for m in messages)
    assert "untrusted data" in system and "not instructions" in system
    assert "<sentence>\nS.\n</sentence>" in user and "<source n=1>" in user
    assert review.prompt_id == f"verify@{review.prompt.content_hash}"


class _Down(FakeListChatModel):
    def _call(self, *args: object, **kwargs: object) -> str:
        request = httpx.Request("POST", "http://fake-openai.local/v1/chat/completions")
        raise openai.APIConnectionError(request=request)


def test_sentences_not_doubted_are_never_sent() -> None:
    review = LLMReview(_Down(responses=["unused"]), PromptLibrary(PROMPTS_DIR).get("verify"))
    result = _result()
    assert review.review(result, _sources()) is result  # a call would have failed and left a note


def test_an_outage_keeps_the_rules_verdicts_and_says_so() -> None:
    review = LLMReview(_Down(responses=["unused"]), PromptLibrary(PROMPTS_DIR).get("verify"))
    out = review.review(_result(0, 1), _sources())
    assert len(out.sentences) == 2 and out.dropped == 0
    assert any("second check was unavailable" in n for n in out.notes)
