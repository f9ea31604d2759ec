"""The answering chain: retrieve → numbered sources within a token budget → prompt → LLM
(or the offline extractive engine) → verified citations → :class:`Answer`.

Built as a LangChain LCEL runnable (``Answerer.runnable``) for sync and async use,
with a separate token-streaming path for front ends that edit a message as text
arrives.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableLambda

from bot.answer.context import number_sources
from bot.answer.extractive import ExtractiveEngine
from bot.answer.models import Answer, ClaimWarning
from bot.answer.retrieval import HybridRetriever, Retrieval
from bot.core.errors import EmptyIndexError, InvalidInputError
from bot.core.llm import LLM_FAILED, describe_llm_error
from bot.core.models import REFUSAL, CitedSentence, Source
from bot.core.prompts import PromptFile, PromptLibrary
from bot.core.protocols import ClaimMatcherLike, PassageAnnotations, claims_in_sources
from bot.core.render import prompt_sources
from bot.core.text.dates import human_date, states_date
from bot.core.text.sanitize import clean_inline, clean_reply
from bot.verify.answerability import Answerability, Evidence
from bot.verify.citations import CitationVerifier, VerificationResult, render, split_cited_sentences
from bot.verify.llm_review import LLMReview
from index.tokens import count_tokens, get_encoding

log = logging.getLogger(__name__)


class StoryLike(Protocol):
    @property
    def id(self) -> str: ...


class TimelineLike(Protocol):
    def render(self) -> str: ...


class TimelineSource(Protocol):
    """:class:`bot.digest.service.DigestService`: stories tracked across daily digests."""

    def find_stories(self, query: str, limit: int = 5) -> Sequence[StoryLike]: ...

    def story_timeline(self, story_id: str) -> TimelineLike: ...


# "What's the latest on X", "what changed since yesterday": a story's timeline helps.
_TIMELINE_QUESTION = re.compile(
    r"\b(latest|what(?:'s| has| have)? changed|since (?:yesterday|last)|timeline|so far|developments?|update on)\b",
    re.IGNORECASE,
)


_ABOUT_REPORTING = re.compile(
    r"\b(?:what|how)\s+(?:did|does|has|have|is|was)\b.*\b(?:report|say|said|write|wrote|claim|cover|describ)\w*"
    r"|\baccording to\b",
    re.IGNORECASE,
)


class DisagreementFinder(Protocol):
    def __call__(self, sources: Sequence[Source], others: Sequence[Source] = ()) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class RefusalPolicy:
    """Is the best passage close in meaning to the question? One signal of answerability (bot.verify.answerability).

    Calibrated on MultiHop-RAG dev (all 255 null vs 600 sampled answerable queries, all
    long): best-passage cosine < 0.49 refuses 81.6% of null
    queries and 8.2% of answerable ones (0.50: 84.7% / 9.7%; 0.52: 89% / 14.7%).
    BM25 scores did not separate the two better and their scale depends on the corpus,
    so they are not used. Short chat questions ("Who won the Alpine Cup?") score lower
    against any passage, so they get a lower bar, set on the sample corpus.
    """

    min_dense: float = 0.49
    min_dense_short: float = 0.40
    short_words: int = 15

    def bar(self, question: str) -> float:
        """The cosine the best passage needs for ``question``."""
        return self.min_dense_short if len(question.split()) < self.short_words else self.min_dense

    def dense_bar_met(self, retrieval: Retrieval) -> bool:
        """Is the best passage close enough in meaning to the question?"""
        return bool(retrieval.passages) and retrieval.top_dense >= self.bar(retrieval.plan.question)


@dataclass(slots=True)
class Draft:
    text: str
    engine: str
    note: str = ""
    sentences: list[tuple[str, tuple[int, ...]]] | None = None
    completion_tokens: int = 0


@dataclass(slots=True)
class _State:
    """What flows between the chain's steps."""

    question: str
    outlet: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    started: float = 0.0
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    retrieval: Retrieval | None = None
    sources: list[Source] = field(default_factory=list)
    warnings: list[ClaimWarning] = field(default_factory=list)
    prompt_inputs: dict[str, str] = field(default_factory=dict)
    draft: Draft | None = None
    evidence: Evidence | None = None
    timings: dict[str, float] = field(default_factory=dict)


_UNSUPPORTED_DRAFT_NOTE = (
    "No sentence of the language model's answer was supported by the sources; "
    "this answer was extracted directly from them."
)


class Answerer:
    """Answers questions about the indexed news; every sentence cites its sources."""

    def __init__(
        self,
        retriever: HybridRetriever,
        prompts: PromptLibrary,
        extractive: ExtractiveEngine,
        verifier: CitationVerifier,
        *,
        llm: BaseChatModel | None = None,
        claim_matcher: ClaimMatcherLike | None = None,
        disagreements: DisagreementFinder | None = None,
        also_in: Callable[[str], tuple[str, ...]] | None = None,
        timelines: TimelineSource | None = None,
        k: int = 10,
        context_tokens: int = 3000,
        max_question_chars: int = 1000,
        max_reply_tokens: int | None = None,
        refusal: RefusalPolicy | None = None,
        answerability: Answerability | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        empty_index: Callable[[], str | None] | None = None,
        annotations: PassageAnnotations | None = None,
        review: LLMReview | None = None,
    ) -> None:
        self.retriever = retriever
        # With an LLM, an optional second opinion on the drafted sentences the fact rules doubt.
        self.review = review
        # The passages' parses are read from the store, not made again per question.
        self.annotations = annotations
        # Says why when nothing is indexed, so an empty store is not answered "the articles don't say".
        self.empty_index = empty_index
        self.prompts = prompts
        self.extractive = extractive
        self.verifier = verifier
        self.llm = llm
        self.claim_matcher = claim_matcher
        self.disagreements = disagreements
        self.also_in = also_in
        self.timelines = timelines
        self.k = k
        self.context_tokens = context_tokens
        self.max_question_chars = max_question_chars
        self.max_reply_tokens = max_reply_tokens
        self.refusal = refusal or RefusalPolicy()
        self.answerability = answerability
        self.clock = clock
        self.prompt: PromptFile = prompts.get("answer")
        self.runnable: Runnable[dict[str, Any], Answer] = (
            RunnableLambda(self._retrieve_step) | RunnableLambda(self._draft_step) | RunnableLambda(self._finish)
        ).with_config(run_name="factdesk-answer")

    # ------------------------------------------------------------------ public API
    def ask(
        self,
        question: str,
        *,
        outlet: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Answer:
        return self.runnable.invoke({"question": question, "outlet": outlet, "since": since, "until": until})

    async def aask(
        self,
        question: str,
        *,
        outlet: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Answer:
        return await self.runnable.ainvoke({"question": question, "outlet": outlet, "since": since, "until": until})

    async def astream(
        self,
        question: str,
        *,
        outlet: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AsyncIterator[str | Answer]:
        """Yield raw text deltas as the LLM writes, then the verified :class:`Answer` last.

        The deltas are a preview: the final answer (citations checked) replaces them.
        """
        import asyncio

        inputs = {"question": question, "outlet": outlet, "since": since, "until": until}
        state = await asyncio.to_thread(self._retrieve_step, inputs)
        if self._should_refuse(state) or self.llm is None:
            state = await asyncio.to_thread(self._draft_step, state)
            answer = await asyncio.to_thread(self._finish, state)
            yield answer.text
            yield answer
            return
        started = time.perf_counter()
        parts: list[str] = []
        used = 0
        stream = self._llm_chain().astream(state.prompt_inputs)
        try:
            async for delta in stream:
                parts.append(delta)
                yield delta
                used += count_tokens(delta)
                if self.max_reply_tokens is not None and used > self.max_reply_tokens:
                    break  # the server ignored max_tokens: stop reading, the rest would be cut anyway
            state.draft = self._llm_draft("".join(parts))
        except LLM_FAILED as exc:
            state.draft = self._extractive_draft(state, note=self._fallback_note(exc))
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
        state.timings["draft"] = (time.perf_counter() - started) * 1000
        answer = await asyncio.to_thread(self._finish, state)
        yield answer

    # ------------------------------------------------------------------ steps
    def _validate(self, question: str) -> str:
        text = clean_inline(question or "")  # no controls, escapes or lone surrogates reach the tokenizer
        if not text:
            raise InvalidInputError("the question is empty")
        if len(text) > self.max_question_chars:
            raise InvalidInputError(
                f"the question is too long ({len(text)} characters; the limit is {self.max_question_chars})"
            )
        return text

    def _retrieve_step(self, inputs: dict[str, Any]) -> _State:
        state = _State(
            question=self._validate(str(inputs.get("question", ""))),
            outlet=inputs.get("outlet"),
            since=inputs.get("since"),
            until=inputs.get("until"),
            started=time.perf_counter(),
            now=self.clock(),
        )
        problem = self.empty_index() if self.empty_index is not None else None
        if problem:
            raise EmptyIndexError(problem)
        state.retrieval = self.retriever.retrieve(
            state.question, self.k, outlet=state.outlet, since=state.since, until=state.until, now=state.now
        )
        state.timings["retrieval"] = state.retrieval.timings_ms.get("total", 0.0)
        if self.annotations is not None:
            self.annotations.prime(state.retrieval.passages)
        if self._should_refuse(state):
            return state
        state.sources = number_sources(state.retrieval.passages, self.context_tokens, self.also_in)
        state.warnings = self._claim_warnings(state.sources)
        state.prompt_inputs = {
            "question": state.question,
            "sources": prompt_sources(state.sources),
            "today": state.now.date().isoformat(),
            "disputed": self._disputed_text(state.warnings),
        }
        return state

    def _should_refuse(self, state: _State) -> bool:
        """Refuse when the passages do not hold what the question asks (decided once per question)."""
        if state.retrieval is None or not state.retrieval.passages:
            return True
        if state.evidence is None:
            dense_ok = self.refusal.dense_bar_met(state.retrieval)
            if self.answerability is None:
                return not dense_ok
            state.evidence = self.answerability.assess(
                state.question, state.retrieval.passages, dense_ok, state.retrieval.top_dense
            )
        return not state.evidence.answerable

    def _llm_chain(self) -> Runnable[dict[str, str], str]:
        assert self.llm is not None
        return self.prompt.chat_template | self.llm | StrOutputParser()

    def _draft_step(self, state: _State) -> _State:
        started = time.perf_counter()
        if self._should_refuse(state):
            state.draft = Draft(REFUSAL, "refusal")
        elif self.llm is None:
            state.draft = self._extractive_draft(state)
        else:
            try:
                state.draft = self._llm_draft(self._llm_chain().invoke(state.prompt_inputs))
            except LLM_FAILED as exc:  # unavailable, or a reply that cannot be read (HTTP 200, not JSON)
                state.draft = self._extractive_draft(state, note=self._fallback_note(exc))
        state.timings["draft"] = (time.perf_counter() - started) * 1000
        return state

    def _llm_draft(self, reply: str) -> Draft:
        """The model's reply as a draft: cleaned, and cut at ``max_reply_tokens`` if the server ignored it."""
        tokens = get_encoding().encode(reply, disallowed_special=())
        note = ""
        if self.max_reply_tokens is not None and len(tokens) > self.max_reply_tokens:
            reply = get_encoding().decode(tokens[: self.max_reply_tokens])
            note = f"The language model's reply was cut at {self.max_reply_tokens} tokens."
            tokens = tokens[: self.max_reply_tokens]
        return Draft(clean_reply(reply), "llm", note=note, completion_tokens=len(tokens))

    @staticmethod
    def _fallback_note(exc: BaseException) -> str:
        """The answer's note, and one warning line in the log (stderr for the CLI, the bot's log)."""
        reason = describe_llm_error(exc)
        log.warning("language model request failed: %s; answering with the extractive engine", reason)
        return f"The language model was unavailable ({reason}); this answer was extracted directly from the sources."

    def _extractive_draft(self, state: _State, note: str = "") -> Draft:
        assert state.retrieval is not None
        plan = state.retrieval.plan
        # "What did Northline Wire report …": quote that outlet when it has sources. Only for questions
        # about one outlet's reporting: multi-outlet questions often need facts from others too
        # (restricting all named-outlet questions cost 2.5 points of gold answers on MultiHop-RAG).
        named: list[Source] = []
        if len(plan.outlets) == 1 and _ABOUT_REPORTING.search(state.question):
            named = [s for s in state.sources if plan.outlets[0] in (s.outlet, *s.also_in)]
        sentences = self.extractive.answer(
            state.question, named or state.sources, status_question=plan.status, now=state.now
        )
        return Draft(render_plain(sentences), "extractive", note=note, sentences=sentences)

    def _finish(self, state: _State) -> Answer:
        assert state.retrieval is not None and state.draft is not None
        draft = state.draft
        started = time.perf_counter()
        searched = state.retrieval.plan.describe()
        if draft.engine == "refusal" or draft.text.strip().startswith(REFUSAL):
            return self._refusal(state, searched)
        cited = draft.sentences if draft.sentences is not None else split_cited_sentences(draft.text)
        result: VerificationResult = self.verifier.verify(cited, state.sources)
        llm_drafted, completion_tokens = draft.engine == "llm", draft.completion_tokens
        reviewed = llm_drafted and self.review is not None and bool(result.doubtful)
        if reviewed:
            assert self.review is not None
            result = self.review.review(result, state.sources)
        if not result.sentences and llm_drafted:
            # Retrieval found relevant passages but nothing the model wrote is backed by them (a weak
            # or confused model): the sources' own sentences beat a refusal.
            log.info("no sentence of the LLM draft was supported; using the extractive engine")
            draft = state.draft = self._extractive_draft(state, note=_UNSUPPORTED_DRAFT_NOTE)
            result = self.verifier.verify(draft.sentences or [], state.sources)
        state.timings["verify"] = (time.perf_counter() - started) * 1000
        if not result.sentences:
            return self._refusal(state, searched, note="No sentence of the draft answer was supported by the sources.")
        verified, sources, warnings = renumber_sources(result.sentences, state.sources, state.warnings)
        cited_numbers = {n for s in verified for n in s.citations}
        used = [s for s in sources if s.number in cited_numbers]
        dated = [s.published_at.date() for s in used if s.published_at]
        as_of = max(dated) if dated else None
        notes = [n for n in (draft.note, *result.notes) if n]
        if result.dropped:
            notes.append(f"{result.dropped} unsupported sentence(s) removed.")
        text = render(verified)
        if state.retrieval.plan.status and as_of and draft.engine == "llm" and not states_date(text, as_of):
            # The prompt asks for "as of <date>"; a model that leaves it out still gets it said.
            notes.append(f"As of {human_date(as_of)}: the newest source this answer cites.")
        disagreements = self.disagreements(used, sources) if self.disagreements else []
        timeline = self._timeline(state.question) if state.retrieval.plan.status else ""
        state.timings["total"] = (time.perf_counter() - state.started) * 1000
        prompt_tokens = count_tokens(self.prompt.system) + sum(count_tokens(v) for v in state.prompt_inputs.values())
        return Answer(
            question=state.question,
            text=text,
            sentences=verified,
            sources=sources,
            engine="llm" if draft.engine == "llm" else "extractive",
            as_of=as_of,
            notes=notes,
            disagreements=disagreements,
            timeline=timeline,
            warnings=[w for w in warnings if w.source_number in cited_numbers or w.source_number is None],
            support_score=result.support_score,
            prompt_name=self.prompt.name,
            prompt_hash=self.prompt.content_hash,
            review_prompt=self.review.prompt_id if reviewed and self.review is not None else "",
            retrieval=state.retrieval.passages,
            timings_ms=state.timings,
            tokens={
                "prompt": prompt_tokens if llm_drafted else 0,
                "context": prompt_tokens,
                "completion": completion_tokens,
            },
            searched=searched,
        )

    def _refusal(self, state: _State, searched: str, note: str = "") -> Answer:
        assert state.retrieval is not None
        if not note and state.evidence is not None and not state.evidence.answerable:
            note = f"Why: {state.evidence.reason}."
        state.timings["total"] = (time.perf_counter() - state.started) * 1000
        return Answer(
            question=state.question,
            text=f"{REFUSAL} Nothing in the index answers this (searched {searched}).",
            sentences=[],
            sources=[],
            engine="refusal",
            refused=True,
            notes=[note] if note else [],
            prompt_name=self.prompt.name,
            prompt_hash=self.prompt.content_hash,
            retrieval=state.retrieval.passages,
            timings_ms=state.timings,
            tokens={"prompt": 0, "context": 0, "completion": 0},
            searched=searched,
        )

    def _timeline(self, question: str) -> str:
        """The best-matching tracked story's timeline, for "latest"/"what changed" questions."""
        if self.timelines is None or not _TIMELINE_QUESTION.search(question):
            return ""
        stories = self.timelines.find_stories(question, 1)
        return self.timelines.story_timeline(stories[0].id).render() if stories else ""

    # ------------------------------------------------------------------ claims
    def _claim_warnings(self, sources: Sequence[Source]) -> list[ClaimWarning]:
        if self.claim_matcher is None:
            return []
        return [
            ClaimWarning(
                claim_id=match.claim.id,
                claim=match.claim.text,
                verdict=str(match.claim.verdict),
                note=match.claim.note,
                flagged_at=match.claim.flagged_at,
                source_number=number,
            )
            for number, match in claims_in_sources(self.claim_matcher, sources)
        ]

    @staticmethod
    def _disputed_text(warnings: Sequence[ClaimWarning]) -> str:
        if not warnings:
            return ""
        lines = [
            f'- "{w.claim}" (source [{w.source_number}]) is marked {w.verdict.upper()} by moderators'
            + (f": {w.note}" if w.note else "")
            for w in warnings
        ]
        return (
            "7. Moderators have flagged these claims. If your answer mentions one, say it is disputed "
            "and do not present it as fact:\n" + "\n".join(lines)
        )


def renumber_sources(
    sentences: Sequence[CitedSentence], sources: Sequence[Source], warnings: Sequence[ClaimWarning]
) -> tuple[list[CitedSentence], list[Source], list[ClaimWarning]]:
    """Cited sources become [1]..[n] in order of first citation, uncited ones follow.

    The engine sees sources numbered by retrieval rank; a reader shown "[2] [6]" under
    an answer with two sources wonders where the other four went.
    """
    cited = list(dict.fromkeys(n for sentence in sentences for n in sentence.citations))
    order = [*cited, *(s.number for s in sources if s.number not in cited)]
    new = {old: i for i, old in enumerate(order, 1)}
    by_number = {s.number: s for s in sources}
    return (
        [replace(s, citations=tuple(new[n] for n in s.citations)) for s in sentences],
        [replace(by_number[n], number=new[n]) for n in order if n in by_number],
        [replace(w, source_number=new.get(w.source_number)) if w.source_number is not None else w for w in warnings],
    )


def render_plain(sentences: Sequence[tuple[str, tuple[int, ...]]]) -> str:
    return " ".join(text + "".join(f"[{n}]" for n in numbers) for text, numbers in sentences)
