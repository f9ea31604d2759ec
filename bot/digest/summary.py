"""Story summaries: 2–4 sentences, each citing the digest sources that state it.

Extractive by default (the answer package's engine, asked the story headline as
its question); an LLM when one is passed. Both go through the same citation
verifier, so an LLM sentence no source supports is dropped, and an LLM error
falls back to the extractive summary with a note saying so.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from bot.core.models import CitedSentence, Source
from bot.core.prompts import PromptFile
from bot.core.protocols import PassageAnnotations
from bot.core.render import prompt_sources
from bot.core.text.sanitize import clean_reply, quoted
from bot.core.text.sentences import sentence_spans
from bot.core.text.words import content_words
from bot.digest.protocols import Extractor, Verifier
from index.page_furniture import page_furniture

log = logging.getLogger(__name__)

MIN_SENTENCES = 2
MAX_SENTENCES = 4
PADDING_CANDIDATES = 8
_ENDS_SENTENCE = re.compile(r"[.!?…][\"”’')\]]*$")


def is_sentence(text: str) -> bool:
    """A full sentence worth showing: ends like one, six words or more, no page furniture."""
    text = text.strip()
    return len(text.split()) >= 6 and bool(_ENDS_SENTENCE.search(text)) and not page_furniture().in_sentence(text)


@dataclass(slots=True)
class SummaryResult:
    sentences: list[CitedSentence]
    engine: str  # "extractive" | "llm"
    note: str = ""


def lede_sentences(source: Source) -> list[CitedSentence]:
    """Full sentences of a source in reading order, cited to it: true by construction."""
    out: list[CitedSentence] = []
    for passage in source.passages:
        for span in sentence_spans(passage.text):
            text = quoted(passage.text[span.start : span.end])
            if is_sentence(text):
                out.append(CitedSentence(text, (source.number,), 1.0, True))
    return out


class StorySummarizer:
    """Summarises one story from its numbered sources (see module docstring)."""

    def __init__(
        self,
        extractor: Extractor,
        verifier: Verifier,
        chat_model: BaseChatModel | None = None,
        prompt: PromptFile | None = None,
        *,
        max_sentences: int = MAX_SENTENCES,
        furniture: Callable[[str], bool] | None = None,
        annotations: PassageAnnotations | None = None,
    ) -> None:
        if chat_model is not None and prompt is None:
            raise ValueError("an LLM summarizer needs the digest prompt")
        self.extractor = extractor
        self.verifier = verifier
        self.chat_model = chat_model
        self.prompt = prompt
        self.max_sentences = max_sentences
        # The passages' parses were stored at ingest: the checks below read them instead of parsing again.
        self.annotations = annotations
        # Lines that address the reader ("Read on for the full rundown", "Check back often"): never a summary.
        self.furniture = furniture or (lambda _text: False)

    @property
    def engine(self) -> str:
        return "llm" if self.chat_model is not None else "extractive"

    def summarize(self, headline: str, sources: Sequence[Source], window_label: str) -> SummaryResult:
        if not sources:
            return SummaryResult([], "extractive")
        if self.annotations is not None:
            self.annotations.prime([p for s in sources for p in s.passages])
        if self.chat_model is not None:
            try:
                sentences = self._llm(headline, sources, window_label)
            except Exception as exc:  # any provider error: the digest must still be produced
                log.warning("LLM digest summary failed, using extractive: %s", exc, exc_info=True)
                result = self._extractive(headline, sources)
                result.note = f"The language model failed ({type(exc).__name__}); summaries were extracted."
                return result
            if sentences:
                return SummaryResult(sentences, "llm")
            result = self._extractive(headline, sources)
            result.note = "The language model's summary had no supported sentence; it was extracted instead."
            return result
        return self._extractive(headline, sources)

    def _llm(self, headline: str, sources: Sequence[Source], window_label: str) -> list[CitedSentence]:
        assert self.chat_model is not None and self.prompt is not None
        chain = self.prompt.chat_template | self.chat_model | StrOutputParser()
        text = chain.invoke({"headline": headline, "sources": prompt_sources(sources), "window": window_label})
        return self._keep(self.verifier.verify(clean_reply(text), sources).sentences)

    def _extractive(self, headline: str, sources: Sequence[Source]) -> SummaryResult:
        pairs = self.extractor.answer(headline, sources, status_question=False)
        sentences = self._keep(self.verifier.verify(pairs, sources).sentences)
        if len(sentences) < MIN_SENTENCES:
            sentences.extend(self._padding(headline, sources, sentences, MIN_SENTENCES - len(sentences)))
        return SummaryResult(sentences[: self.max_sentences], "extractive")

    def _padding(
        self, headline: str, sources: Sequence[Source], have: Sequence[CitedSentence], wanted: int
    ) -> list[CitedSentence]:
        """Source sentences sharing most words with the headline, when the engine gave too few.

        Uncited sources first, then early sentences; at least one shared content word, so
        page furniture ("Save articles for later") never pads a summary.
        """
        topic = set(content_words(headline))
        cited = {n for s in have for n in s.citations}
        seen = {" ".join(s.text.lower().split()) for s in have}
        ranked: list[tuple[int, int, int, CitedSentence]] = []
        for source in sources:
            for position, sentence in enumerate(lede_sentences(source)[:PADDING_CANDIDATES]):
                overlap = len(topic & set(content_words(sentence.text)))
                key = " ".join(sentence.text.lower().split())
                if overlap and key not in seen and not self.furniture(sentence.text):
                    ranked.append((source.number in cited, -overlap, position, sentence))
        ranked.sort(key=lambda r: r[:3])
        out: list[CitedSentence] = []
        for *_, sentence in ranked:
            if len(out) >= wanted:
                break
            if all(sentence.citations != s.citations for s in out):  # one per source
                out.append(sentence)
        return out

    def _keep(self, sentences: Sequence[CitedSentence]) -> list[CitedSentence]:
        """Supported, cited, distinct full sentences, at most ``max_sentences``.

        Fragments (a standfirst without a stop, a caption) are kept only when nothing else is.
        """
        usable = [
            s
            for s in sentences
            if s.citations and s.supported and not page_furniture().in_sentence(s.text) and not self.furniture(s.text)
        ]
        if any(is_sentence(s.text) for s in usable):
            usable = [s for s in usable if is_sentence(s.text)]
        out: list[CitedSentence] = []
        seen: set[str] = set()
        for sentence in usable:
            key = " ".join(sentence.text.lower().split())
            if key in seen:
                continue
            seen.add(key)
            out.append(sentence)
            if len(out) >= self.max_sentences:
                break
        return out
