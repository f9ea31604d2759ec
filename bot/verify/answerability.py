"""Answerability: do the retrieved passages hold what the question asks for?

A refusal used to rest on one number, the cosine between the question and a
chunk's vector, which only sees the chunk's first 128 tokens: a fact at the end
of a chunk was invisible ("What does Lavrov demand?" refused although a passage
says what he demands), while a passage on the right topic that lacks the fact
passed. This module reads whole passages instead:

- every name the question gives (spaCy's PERSON, ORG, GPE, … entities) must occur
  in some retrieved passage, its title or outlet ("Sygic" asked about, never printed);
- the question's content words must be covered by the passages;
- a who/when/where/how-many question needs a candidate of the right type (spaCy's
  entity labels, mapped by ``answer_types.json``) in a sentence that carries the
  question's words.

Only the question and the few best sentences are parsed, so the check costs a few
milliseconds per question on top of retrieval.
"""

from __future__ import annotations

import calendar
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, field_validator

from bot.core.models import Passage
from bot.core.text.markers import strip_source_markers
from bot.core.text.sentences import sentence_spans
from bot.core.text.words import content_words, lexical_recall
from bot.verify.facts import NAME_LABELS, SLOT_LABELS, TextAnalyzer, untagged_names

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

log = logging.getLogger(__name__)

ANSWER_TYPES_FILE = Path(__file__).with_name("answer_types.json")
# Entities that name something the passages must mention. Nationalities (NORP) are left to the
# word check: "Russian" is in the question, "Russia" in the passage.
KEY_NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"})
_WORD = re.compile(r"\w+")
_SOURCE_PREPOSITIONS = frozenset({"by", "from", "in", "at", "on"})
MOST_NAMES_MISSING = 0.5  # a question missing this share of its (non-source) names is refused
_MONTH_NAMES = frozenset(m.lower() for m in (*calendar.month_name, *calendar.month_abbr) if m)


class Attribution(BaseModel):
    """The verbs and nouns that make a name the source of a claim ("according to X", "X reported")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    about: str
    verbs: frozenset[str]
    nouns: frozenset[str]


class AnswerTypes(BaseModel):
    """wh-phrase → the entity labels an answer to it can carry, and attribution words (a data file with a schema)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    about: str
    phrases: dict[str, tuple[str, ...]]
    attribution: Attribution

    def is_source(self, entity: Span) -> bool:
        """Is the name the source of the claim the question asks about ("according to Fortune")?"""
        root, head = entity.root, entity.root.head
        words = self.attribution
        if root.dep_ == "pobj":
            governor = head.head
            if head.lower_ == "to" and governor.lower_ == "according":
                return True
            if head.lower_ not in _SOURCE_PREPOSITIONS:
                return False  # "say about Sam Altman" names the topic, not the source
            return governor.lemma_.lower() in words.verbs or governor.lemma_.lower() in words.nouns
        if root.dep_ in ("nsubj", "nsubjpass"):
            return head.lemma_.lower() in words.verbs
        return root.dep_ in ("compound", "poss", "nmod", "amod", "appos") and head.lemma_.lower() in words.nouns

    @field_validator("phrases")
    @classmethod
    def _known_labels(cls, phrases: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        known = SLOT_LABELS | {"EVENT", "LAW", "LANGUAGE", "ORDINAL"}
        for phrase, labels in phrases.items():
            if phrase != phrase.lower().strip() or not labels:
                raise ValueError(f"phrase {phrase!r}: lower case, with at least one label")
            unknown = set(labels) - known
            if unknown:
                raise ValueError(f"phrase {phrase!r}: unknown labels {sorted(unknown)}")
        return phrases

    @classmethod
    def load(cls, path: Path = ANSWER_TYPES_FILE) -> AnswerTypes:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))

    def labels_for(self, doc: Doc) -> tuple[str | None, frozenset[str]]:
        """The question's wh-phrase ("how many", "who") and the labels that answer it."""
        for token in doc:
            if token.tag_ not in ("WP", "WRB", "WDT", "WP$"):
                continue
            following = doc[token.i + 1].lower_ if token.i + 1 < len(doc) else ""
            for phrase in (f"{token.lower_} {following}", token.lower_):
                if phrase in self.phrases:
                    return phrase, frozenset(self.phrases[phrase])
            return token.lower_, frozenset()
        return None, frozenset()


def name_keys(entity: Span) -> tuple[str, ...]:
    """The words of a name a passage must contain, in order: its capitalised words, lower case, without dots.

    The small model's spans run long ("Fortune on October 4, 2023", "The Verge implies"): dates,
    numbers and lower-case words inside a span are not the name.
    """
    keys: list[str] = []
    for token in entity:
        if not token.is_alpha or token.is_stop or token.lower_ in _MONTH_NAMES:
            continue
        if token.pos_ == "PROPN" or token.text[:1].isupper():
            keys.append(_token_key(token.text))
    return tuple(dict.fromkeys(keys))


def name_found(keys: tuple[str, ...], tokens: frozenset[str]) -> bool:
    """Every word of the name is among ``tokens``, or its initials are ("United States" as "US")."""
    if set(keys) <= tokens:
        return True
    return len(keys) > 1 and "".join(k[0] for k in keys) in tokens


def _token_key(word: str) -> str:
    return word.lower().replace(".", "").replace("\u2019", "'").removesuffix("'s")


def _tokens(text: str) -> frozenset[str]:
    return frozenset(_token_key(m.group()) for m in _WORD.finditer(text.replace(".", "")))


@dataclass(frozen=True, slots=True)
class QuestionNeeds:
    """What a passage must hold to answer the question."""

    names: tuple[tuple[str, tuple[str, ...]], ...]  # each key name and the words it needs
    words: frozenset[str]  # content words (stems)
    phrase: str | None  # the wh-phrase, if any
    answer_labels: frozenset[str]  # entity labels a candidate answer must have
    question_tokens: frozenset[str]
    sources: frozenset[str] = frozenset()  # the names given as the source of a claim ("according to X")


@dataclass(frozen=True, slots=True)
class Evidence:
    """The verdict and why: what was missing, how much of the question the passages cover."""

    answerable: bool
    reason: str
    coverage: float  # share of the question's content words in the retrieved passages together
    best_passage: float  # … in the best single passage
    best_sentence: float  # … in the best sentence (with the article's title)
    missing: tuple[str, ...]  # names the question gives that no passage mentions
    candidate: str | None  # an entity of the asked-for type near the question's words
    phrase: str | None
    typed: bool = False  # the question asks for a type of answer (who, when, how many, …)

    def to_dict(self) -> dict[str, object]:
        return {
            "answerable": self.answerable,
            "reason": self.reason,
            "coverage": round(self.coverage, 3),
            "best_passage": round(self.best_passage, 3),
            "best_sentence": round(self.best_sentence, 3),
            "missing": list(self.missing),
            "candidate": self.candidate,
            "phrase": self.phrase,
            "typed": self.typed,
        }


@dataclass(frozen=True, slots=True)
class _Unit:
    """One retrieved passage as the check reads it: its words and its sentences with the title."""

    tokens: frozenset[str]
    words: frozenset[str]
    sentences: tuple[tuple[str, frozenset[str]], ...]


def _unit(passage: Passage) -> _Unit:
    head = f"{passage.title}\n{passage.outlet}\n"
    text = strip_source_markers(passage.text)
    title_words = frozenset(content_words(f"{passage.title} {passage.outlet}"))
    sentences = [passage.title] + [text[s.start : s.end] for s in sentence_spans(text)]
    scored = tuple((s, frozenset(content_words(s)) | title_words) for s in sentences if s.strip())
    return _Unit(_tokens(head + text), frozenset(content_words(head + text)), scored)


@dataclass(frozen=True, slots=True)
class AnswerabilityPolicy:
    """Thresholds over the evidence, chosen on the tune half of MultiHop-RAG dev (``benchmarks.answerability``).

    Tune half (127 null, 923 answerable questions): ``answer_coverage`` 0.75 refused 95.3% of null
    questions and 6.0% of answerable ones (0.6: 89.8% / 3.9%; 0.9: 97.6% / 9.6%; cosine alone:
    79.5% / 7.5%). ``min_coverage`` made no difference there between 0.2 and 0.35 (long questions);
    0.3 is the middle of that range. ``typed_coverage`` was not tuned (few typed questions there).
    """

    answer_coverage: float = 0.75  # this much of the question in the passages answers whatever the cosine
    min_coverage: float = 0.3  # less than this refuses whatever the cosine
    typed_coverage: float = 0.5  # a typed candidate in a sentence covering this much answers
    typed_sentences: int = 4  # best sentences searched for a candidate of the asked-for type

    def decide(
        self,
        *,
        missing: Sequence[str],
        phrase: str | None,
        candidate: str | None,
        coverage: float,
        best_sentence: float,
        dense_bar_met: bool,
    ) -> tuple[bool, str]:
        """Answer or refuse, and why; ``phrase`` is the wh-phrase of a typed question, else None.

        One rule for answers and for ``benchmarks.answerability``, which replays it over stored features.
        """
        if missing:
            return False, "no passage mentions " + ", ".join(missing[:3])
        if phrase is not None and candidate is None:
            return False, f"no passage gives a {phrase} answer"
        if coverage < self.min_coverage:
            return False, f"the passages cover {coverage:.0%} of the question"
        typed_hit = candidate is not None and best_sentence >= self.typed_coverage
        if coverage >= self.answer_coverage or dense_bar_met or typed_hit:
            return True, "answered"
        return False, f"the passages cover {coverage:.0%} of the question and are not close in meaning"


class Answerability:
    """Decides from whole passages whether they answer the question; explains a refusal."""

    def __init__(
        self,
        analyzer: TextAnalyzer | None = None,
        types: AnswerTypes | None = None,
        policy: AnswerabilityPolicy | None = None,
    ) -> None:
        self.analyzer = analyzer or TextAnalyzer()
        self._types = types
        self.policy = policy or AnswerabilityPolicy()

    @cached_property
    def types(self) -> AnswerTypes:
        return self._types or AnswerTypes.load()

    def needs(self, question: str) -> QuestionNeeds:
        doc = self.analyzer.parse(question)
        entities = [e for e in doc.ents if e.label_ in KEY_NAME_LABELS and name_keys(e)]
        # A source the model did not tag ("Forbes said", "by The Verge") still names a source.
        untagged = [n for n in untagged_names(doc) if name_keys(n) and self.types.is_source(n)]
        names = tuple(dict.fromkeys((e.text, name_keys(e)) for e in [*entities, *untagged]))
        sources = frozenset(e.text for e in [*entities, *untagged] if self.types.is_source(e))
        phrase, labels = self.types.labels_for(doc)
        return QuestionNeeds(
            names, frozenset(content_words(question)), phrase, labels, _tokens(question), sources=sources
        )

    def assess(self, question: str, passages: Sequence[Passage], dense_bar_met: bool) -> Evidence:
        """The verdict for ``passages``; ``dense_bar_met`` is the old cosine test, one signal among these."""
        needs = self.needs(question)
        units = [_unit(p) for p in passages]
        if not units:
            return Evidence(False, "nothing retrieved", 0.0, 0.0, 0.0, (), None, needs.phrase)
        tokens = frozenset().union(*(u.tokens for u in units))
        missing = self._missing(needs, tokens)
        union = frozenset().union(*(u.words for u in units))
        coverage = lexical_recall(needs.words, union) if needs.words else 1.0
        best_passage = max((lexical_recall(needs.words, u.words) for u in units), default=0.0) if needs.words else 1.0
        ranked = self._ranked_sentences(needs, units)
        best_sentence = ranked[0][0] if ranked else 0.0
        candidate = self._candidate(needs, [s for _, s in ranked[: self.policy.typed_sentences]])
        verdict, reason = self.policy.decide(
            missing=missing,
            phrase=needs.phrase if needs.answer_labels else None,
            candidate=candidate,
            coverage=coverage,
            best_sentence=best_sentence,
            dense_bar_met=dense_bar_met,
        )
        evidence = Evidence(
            verdict,
            reason,
            coverage,
            best_passage,
            best_sentence,
            missing,
            candidate,
            needs.phrase,
            typed=bool(needs.answer_labels),
        )
        log.debug("answerability %s", evidence.to_dict())
        return evidence

    @staticmethod
    def _missing(needs: QuestionNeeds, tokens: frozenset[str]) -> tuple[str, ...]:
        """Names the passages lack that refuse: any source named, or most of the other names.

        A multi-hop question names facts from several articles ("the Scary Fast event focused on
        Macs"); passages that hold the rest may still answer it. A source the question cites
        ("according to Forbes") that no passage is from means the question is about other reporting.
        """
        absent = [text for text, keys in needs.names if not name_found(keys, tokens)]
        sources = [text for text in absent if text in needs.sources]
        others = [text for text in absent if text not in needs.sources]
        content = [text for text, _ in needs.names if text not in needs.sources]
        if content and len(others) / len(content) >= MOST_NAMES_MISSING:
            return tuple(sources + others)
        return tuple(sources)

    @staticmethod
    def _ranked_sentences(needs: QuestionNeeds, units: Sequence[_Unit]) -> list[tuple[float, str]]:
        if not needs.words:
            return []
        scored = [(lexical_recall(needs.words, words), text) for u in units for text, words in u.sentences]
        scored.sort(key=lambda x: -x[0])
        return scored

    def answer_in(self, needs: QuestionNeeds, sentence: str) -> str | None:
        """The entity in ``sentence`` that could answer the question ("$2.7 billion" for "how much"), if any."""
        return self._candidate(needs, [sentence])

    def _candidate(self, needs: QuestionNeeds, sentences: Sequence[str]) -> str | None:
        """An entity of an asked-for label in one of ``sentences`` that the question does not already name."""
        if not needs.answer_labels:
            return None
        names = bool(needs.answer_labels & NAME_LABELS)
        for doc in (self.analyzer.parse(s) for s in sentences):
            # The small model misses names ("Rovers beat City"); for who/where, untagged proper nouns count.
            spans = [*doc.ents, *(untagged_names(doc) if names else ())]
            for span in spans:
                typed = span.label_ in needs.answer_labels or (names and not span.label_)
                if typed and not _tokens(span.text) <= needs.question_tokens:
                    return span.text
        return None
