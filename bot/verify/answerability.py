"""Answerability: do the retrieved passages hold what the question asks for?

A refusal used to rest on one number, the cosine between the question and a
chunk's vector, which only sees the chunk's first 128 tokens: a fact at the end
of a chunk was invisible ("What does Lavrov demand?" refused although a passage
says what he demands), while a passage on the right topic that lacks the fact
passed. This module reads whole passages instead:

- every source the question cites, and most of the names it gives when they are much of its
  wording (spaCy's PERSON, ORG, GPE, … entities), must occur in some retrieved passage, its
  title or outlet ("Sygic" asked about, never printed);
- the question's content words must be covered by the passages; the words saying where it
  was reported ("as reported by one outlet", "according to Fortune") and the noun naming what
  is asked for ("which pop star") are not among them (spaCy's parse decides which they are);
- a who/when/where/how-many question needs a candidate of the right type (spaCy's
  entity labels, mapped by ``answer_types.json``) in a sentence that carries the
  question's words, or, for a multi-hop question, a name of that type printed by two or
  more articles that together cover the question (each holds one of its facts).

Rules decide the plain cases (``AnswerabilityRules``); a logistic model over these measures
(``answerability_model.json``, fitted by ``benchmarks.train_answerability`` on the tune halves
of MultiHop-RAG dev and the counterfactual set) decides the rest. Only the question and the
few best sentences are parsed, so the check costs a few milliseconds per question on top of
retrieval.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict, field_validator

from bot.core.cache import BatchCache
from bot.core.logistic import LogisticModel
from bot.core.models import Passage
from bot.core.text.dates import MONTH_NUMBERS
from bot.core.text.markers import strip_source_markers
from bot.core.text.sentences import plain_sentences
from bot.core.text.words import content_words, lexical_recall
from bot.verify.facts import NAME_LABELS, SLOT_LABELS, TextAnalyzer, untagged_names

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

log = logging.getLogger(__name__)

ANSWER_TYPES_FILE = Path(__file__).with_name("answer_types.json")
ANSWERABILITY_MODEL_FILE = Path(__file__).with_name("answerability_model.json")
# What the learned answer-or-refuse model reads (``evidence_features``; ``benchmarks.train_answerability``).
ANSWERABILITY_FEATURES = (
    "coverage",
    "best_passage",
    "best_sentence",
    "top_dense",
    "dense_ok",
    "candidate_coverage",
    "candidate_sentence",
    "absent_share",
    "absent_name_share",
)
# Entities that name something the passages must mention. Nationalities (NORP) are left to the
# word check: "Russian" is in the question, "Russia" in the passage.
KEY_NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"})
_WORD = re.compile(r"\w+")
_CAPITALISED_RUN = re.compile(r"[A-Z][\w'\u2019&-]*(?:\s+(?:(?:of|and|for|the|on)\s+)?[A-Z][\w'\u2019&-]*)+")
INITIALS = "initials:"  # marks a name's initials among a passage's tokens (no word contains ":")
_SOURCE_PREPOSITIONS = frozenset({"by", "from", "in", "at", "on"})
MIN_CORE_WORDS = 3  # fewer left once attribution words and the asked-for noun go: keep them
NEEDS_KEPT = 32  # questions whose needs are kept
UNITS_KEPT = 2048  # passages whose words and sentences are kept
MOST_NAMES_MISSING = 0.5  # a question missing this share of its (non-source) names is refused


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

    def attribution_tokens(self, doc: Doc) -> frozenset[int]:
        """Token indices that say where the question's facts were printed, not what they are.

        "as reported by The Verge", "according to one outlet", "discussed in Fortune articles":
        the source (a name that :meth:`is_source` accepts, or an attribution noun such as
        "article" attached as a source), its determiners and modifiers, and the attribution verb
        or noun that links it. Passages rarely repeat these words ("reported", "article"), so
        counting them as the question's content lowers its coverage for no reason.
        """
        heads = [t for t in doc if t.pos_ in ("NOUN", "PROPN") and t.lemma_.lower() in self.attribution.nouns]
        for entity in doc.ents:
            if self.is_source(entity):
                heads.append(entity.root)
        out: set[int] = set()
        for head in heads:
            link = self._source_link(head)
            if link is None:
                continue
            out.update(t.i for t in _modifiers(head))
            out.update(t.i for t in link)
        for entity in doc.ents:
            if entity.root.i in out:
                out.update(t.i for t in entity)
        return frozenset(out)

    def _source_link(self, head: Token) -> list[Token] | None:
        """The words attaching a source noun to the question ("reported by", "according to"), or None."""
        top = head
        while top.dep_ in ("conj", "appos") and top.head is not top:
            top = top.head  # "by one outlet and one outlet": the second attaches through the first
        words = self.attribution
        governor = top.head
        if top.dep_ == "pobj" and governor.lower_ in _SOURCE_PREPOSITIONS | {"to"}:
            verb = governor.head
            if governor.lower_ == "to":
                return [governor, verb] if verb.lower_ == "according" else None
            if verb.lemma_.lower() in words.verbs or verb.lemma_.lower() in words.nouns:
                return [governor, verb]
            return [governor] if head.lemma_.lower() in words.nouns else None
        if top.dep_ in ("nsubj", "nsubjpass") and governor.lemma_.lower() in words.verbs:
            return [governor]
        if top.dep_ in ("compound", "poss", "nmod") and governor.lemma_.lower() in words.nouns:
            return [governor, *_modifiers(governor)]
        return None

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


def _modifiers(head: Token) -> list[Token]:
    """A noun with its determiners, numbers and compounds ("one outlet", "both 'one outlet'")."""
    out = [head]
    for child in head.children:
        if child.dep_ in ("det", "nummod", "compound", "poss", "case", "punct", "quantmod"):
            out.extend(_modifiers(child) if child.dep_ == "compound" else [child])
    return out


def answer_slot(doc: Doc) -> frozenset[int]:
    """Token indices naming what is asked for rather than a fact to find ("which pop star",
    "who is the individual", "what is the name of the company").

    The noun a wh-word determines, or the one a wh-subject is equated with, with its modifiers.
    A passage answers with a name ("Taylor Swift"), not with these words.
    """
    out: set[int] = set()
    for token in doc:
        if token.tag_ not in ("WDT", "WP"):
            continue
        noun = None
        if token.dep_ == "det" and token.head.pos_ in ("NOUN", "PROPN"):
            noun = token.head
        elif token.dep_ in ("nsubj", "attr") and token.head.lemma_ == "be":
            noun = next((c for c in token.head.children if c.dep_ in ("attr", "nsubj") and c.pos_ == "NOUN"), None)
        while noun is not None:
            out.update(t.i for t in noun.children if t.dep_ in ("det", "amod", "compound"))
            out.add(noun.i)
            # "the name of the company": the slot is the company
            of = next((c for c in noun.children if c.dep_ == "prep" and c.lower_ == "of"), None)
            noun = next((c for c in of.children if c.dep_ == "pobj"), None) if noun.lemma_ == "name" and of else None
        break  # the first wh-word opens the question
    return frozenset(out)


def name_keys(entity: Span) -> tuple[str, ...]:
    """The words of a name a passage must contain, in order: its capitalised words, lower case, without dots.

    The small model's spans run long ("Fortune on October 4, 2023", "The Verge implies"): dates,
    numbers and lower-case words inside a span are not the name.
    """
    keys: list[str] = []
    for token in entity:
        if not token.is_alpha or token.is_stop or token.lower_ in MONTH_NUMBERS:
            continue
        if token.pos_ == "PROPN" or token.text[:1].isupper():
            keys.append(_token_key(token.text))
    return tuple(dict.fromkeys(keys))


def name_found(keys: tuple[str, ...], tokens: frozenset[str]) -> bool:
    """Every word of the name is among ``tokens``, or its initials are ("United States" as "US"),
    or the name is the initials of a name in the text ("EU" for "European Union": see :func:`_initials`)."""
    if set(keys) <= tokens:
        return True
    if len(keys) == 1:
        return INITIALS + keys[0] in tokens
    return "".join(k[0] for k in keys) in tokens


def _initials(text: str) -> set[str]:
    """The initials of each run of two or more capitalised words ("European Union" → "eu"), marked.

    "International Trade Commission" gives "itc"; a run that starts the sentence ("Following
    European Union regulators") gives the initials of every part of it ("feu", "eu", …).
    """
    out: set[str] = set()
    for run in _CAPITALISED_RUN.finditer(text):
        letters = [w[0].lower() for w in run.group().split() if w[:1].isupper()]
        for i in range(len(letters)):
            for j in range(i + 2, min(len(letters), i + 6) + 1):
                out.add(INITIALS + "".join(letters[i:j]))
    return out


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
    slot_labels: frozenset[str] = frozenset()  # labels a candidate may have: the asked-for ones, or any name


@dataclass(frozen=True, slots=True)
class Evidence:
    """The verdict and why: what was missing, how much of the question the passages cover."""

    answerable: bool
    reason: str
    coverage: float  # share of the question's content words in the retrieved passages together
    best_passage: float  # … in the best single passage
    best_sentence: float  # … in the best sentence (with the article's title)
    missing: tuple[str, ...]  # names the question gives that no passage mentions, when they refuse
    candidate: str | None  # an entity of the asked-for type near the question's words
    phrase: str | None
    typed: bool = False  # the question asks for a type of answer (who, when, how many, …)
    asks_value: bool = False  # … a number, amount or date rather than a name
    absent_sources: tuple[str, ...] = ()  # sources the question cites that no passage is from
    absent_names: tuple[str, ...] = ()  # the question's other names that no passage mentions
    names: int = 0  # how many other names the question gives
    candidate_coverage: float = 0.0  # share of the question in the passages that mention the candidate
    absent_share: float = 0.0  # share of the question's content words that are absent names
    candidate_sentence: float = 0.0  # share of the question in the best sentence holding the candidate
    top_dense: float = 0.0  # cosine of the question with the closest passage
    dense_ok: bool = False  # … above the cosine bar (``RefusalPolicy``)
    score: float | None = None  # the model's probability that the passages answer (None: a rule decided)

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
            "asks_value": self.asks_value,
            "absent_sources": list(self.absent_sources),
            "absent_names": list(self.absent_names),
            "names": self.names,
            "candidate_coverage": round(self.candidate_coverage, 3),
            "absent_share": round(self.absent_share, 3),
            "candidate_sentence": round(self.candidate_sentence, 3),
            "top_dense": round(self.top_dense, 4),
            "dense_ok": self.dense_ok,
            "score": None if self.score is None else round(self.score, 3),
        }


def evidence_features(row: Mapping[str, Any]) -> dict[str, float]:
    """The model's inputs from an :meth:`Evidence.to_dict` row (the benchmarks store the same rows)."""
    names = int(row["names"])
    return {
        "coverage": float(row["coverage"]),
        "best_passage": float(row["best_passage"]),
        "best_sentence": float(row["best_sentence"]),
        "top_dense": float(row["top_dense"]),
        "dense_ok": float(bool(row["dense_ok"])),
        "candidate_coverage": float(row["candidate_coverage"]),
        "candidate_sentence": float(row["candidate_sentence"]),
        "absent_share": float(row["absent_share"]),
        "absent_name_share": len(row["absent_names"]) / names if names else 0.0,
    }


class AnswerabilityModel(LogisticModel):
    """P(the passages answer the question) from :func:`evidence_features` (``answerability_model.json``)."""

    known_features: ClassVar[frozenset[str]] = frozenset(ANSWERABILITY_FEATURES)
    default_file: ClassVar[Path | None] = ANSWERABILITY_MODEL_FILE


@dataclass(frozen=True, slots=True)
class _Unit:
    """One retrieved passage as the check reads it: its words and its sentences with the title."""

    tokens: frozenset[str]
    words: frozenset[str]
    sentences: tuple[tuple[str, frozenset[str]], ...]
    article: str = ""


def _unit(passage: Passage) -> _Unit:
    head = f"{passage.title}\n{passage.outlet}\n"
    text = strip_source_markers(passage.text)
    title_words = frozenset(content_words(f"{passage.title} {passage.outlet}"))
    sentences = [passage.title, *plain_sentences(passage.text)]
    scored = tuple((s, frozenset(content_words(s)) | title_words) for s in sentences if s.strip())
    tokens = _tokens(head + text) | _initials(head + text)
    return _Unit(frozenset(tokens), frozenset(content_words(head + text)), scored, passage.article_id)


class Decision(NamedTuple):
    answerable: bool
    reason: str
    score: float | None  # the model's probability; None when a rule decided before it
    missing: tuple[str, ...] = ()  # the absent names the reason gives


@dataclass(frozen=True, slots=True)
class AnswerabilityRules:
    """The refusals that need no model: what the question names or asks for is plainly not there."""

    typed_sentences: int = 4  # best sentences searched for a candidate of the asked-for type
    most_names_missing: float = MOST_NAMES_MISSING
    excused_share: float = 0.25  # absent names refuse only when over this share of the question's words
    # A typed candidate's sentence covering this much of the question answers; a value candidate
    # (number, date) needs it unless the passages cover ``value_coverage`` of the question. The
    # former typed-answer bar, set on MultiHop-RAG dev; as an answer rule it changed neither
    # MultiHop-RAG half's figures there.
    value_sentence: float = 0.5
    value_coverage: float = 0.75

    def missing(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        """The absent names that refuse: any source cited, and most of the other names when they are
        much of what is asked ("Who won the Alpine Cup?"). A multi-hop question names details of
        facts short passages need not print ("the Scary Fast event focused on Macs"): the model
        weighs those."""
        sources, absent, names = tuple(row["absent_sources"]), tuple(row["absent_names"]), row["names"]
        if row["absent_share"] > self.excused_share and names and len(absent) / names >= self.most_names_missing:
            return (*sources, *absent)
        return sources

    def by_rule(self, row: Mapping[str, Any]) -> Decision | None:
        """The verdicts given before the model is asked, from an :meth:`Evidence.to_dict` row.

        Refused: a cited source no passage is from; most of the question's other names absent when
        they are much of what it asks ("Who won the Alpine Cup?"); a who/when/how-much question with
        no candidate of that type in the best sentences, or a value far from the question's words.
        Answered: a candidate of the asked-for type in a sentence carrying ``value_sentence`` of the
        question (whatever the cosine of a chunk's first 128 tokens says).
        """
        missing = self.missing(row)
        if missing:
            return Decision(False, "no passage mentions " + ", ".join(missing[:3]), None, missing)
        if row["typed"] and row["candidate"] is None:
            return Decision(False, f"no passage gives a {row['phrase']} answer", None)
        if row["asks_value"] and not self._value_near_words(row):
            return Decision(False, f"no {row['phrase']} answer sits near the question's words", None)
        if row["typed"] and row["candidate_sentence"] >= self.value_sentence:
            return Decision(True, "answered", None)  # the asked-for type, in a sentence carrying the question
        return None

    def _value_near_words(self, row: Mapping[str, Any]) -> bool:
        """A number or date is in almost any passage ("two penalties" for "how much did they pay"):
        it counts when its sentence carries the question's words, or the passages plainly answer."""
        return (
            row["candidate_sentence"] >= self.value_sentence
            or row["coverage"] >= self.value_coverage
            or row["dense_ok"]
        )


@dataclass(frozen=True, slots=True)
class AnswerabilityPolicy:
    """Answer or refuse: the rules refuse what is plainly missing; a learned model decides the rest.

    The model (``answerability_model.json``, a logistic regression over :func:`evidence_features`)
    replaced hand-set thresholds (answer at 75% coverage or above the cosine bar, refuse below 30%,
    a typed candidate in a sentence covering half the question …): those held on MultiHop-RAG's long
    articles and refused a quarter of the counterfactual set's answerable questions, whose
    passages are short snippets of a multi-hop story. ``python -m benchmarks.train_answerability``
    fits it on the tune halves of both (MultiHop-RAG dev by question hash; ``conflicts-dev``, true
    snippets to answer, noise snippets alone to refuse) and sets the threshold to refuse 92% of the
    MultiHop-RAG tune half's null questions; the figures in the README are the report halves'.
    """

    model: AnswerabilityModel = field(default_factory=AnswerabilityModel.load)
    rules: AnswerabilityRules = field(default_factory=AnswerabilityRules)

    def decide(self, row: Mapping[str, Any]) -> Decision:
        """Answer or refuse, and why (``benchmarks.answerability`` replays this over stored rows)."""
        if (ruled := self.rules.by_rule(row)) is not None:
            return ruled
        score = self.model.probability(evidence_features(row))
        if score >= self.model.threshold:
            return Decision(True, "answered", score)
        return Decision(
            False, f"the passages cover {row['coverage']:.0%} of the question and are not close in meaning", score
        )


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
        self._needs: BatchCache[str, QuestionNeeds] = BatchCache(NEEDS_KEPT)  # the engine asks again
        # Passages recur across questions (half of those retrieved for 400 MultiHop-RAG questions).
        self._units: BatchCache[tuple[str, ...], _Unit] = BatchCache(UNITS_KEPT)

    @cached_property
    def types(self) -> AnswerTypes:
        return self._types or AnswerTypes.load()

    def needs(self, question: str) -> QuestionNeeds:
        """What ``question`` needs (kept for the last few questions: the check and the engine both ask)."""
        return self._needs.get_many([question], lambda questions: [self._read_needs(q) for q in questions])[question]

    def _read_needs(self, question: str) -> QuestionNeeds:
        doc = self.analyzer.parse(question)
        entities = [e for e in doc.ents if e.label_ in KEY_NAME_LABELS and name_keys(e)]
        # A source the model did not tag ("Forbes said", "by The Verge") still names a source.
        untagged = [n for n in untagged_names(doc) if name_keys(n) and self.types.is_source(n)]
        names = tuple(dict.fromkeys((e.text, name_keys(e)) for e in [*entities, *untagged]))
        sources = frozenset(e.text for e in [*entities, *untagged] if self.types.is_source(e))
        phrase, labels = self.types.labels_for(doc)
        slot = answer_slot(doc)
        attribution = self.types.attribution_tokens(doc)
        words = frozenset(content_words(question))
        # A short question is about what it names ("What is the best banana bread recipe?"): keep it all.
        for skip in (attribution | slot, attribution):
            core = frozenset(content_words(" ".join(t.text for t in doc if t.i not in skip)))
            if len(core) >= MIN_CORE_WORDS:
                words = core
                break
        # "Which pop star …", "Who is the individual …": a particular one is asked for, named in news.
        slot_labels = labels or (NAME_LABELS if slot else frozenset())
        return QuestionNeeds(
            names,
            words,
            phrase,
            labels,
            _tokens(question),
            sources=sources,
            slot_labels=slot_labels,
        )

    def assess(self, question: str, passages: Sequence[Passage], dense_bar_met: bool, top_dense: float) -> Evidence:
        """The verdict for ``passages``; the best passage's cosine (``top_dense``) and its bar are two signals."""
        needs = self.needs(question)
        keys: list[tuple[str, ...]] = [(p.chunk_id, p.article_id, p.title, p.outlet, p.text) for p in passages]
        by_key = dict(zip(keys, passages, strict=True))
        known = self._units.get_many(keys, lambda missing: [_unit(by_key[k]) for k in missing])
        units = [known[k] for k in keys]
        if not units:
            return Evidence(False, "nothing retrieved", 0.0, 0.0, 0.0, (), None, needs.phrase)
        tokens = frozenset().union(*(u.tokens for u in units))
        absent = [text for text, keys in needs.names if not name_found(keys, tokens)]
        absent_names = tuple(text for text in absent if text not in needs.sources)
        union = frozenset().union(*(u.words for u in units))
        ranked = self._ranked_sentences(needs, units)
        best = ranked[: self.policy.rules.typed_sentences]
        top = [text for _, text in best]
        candidates = self._candidates(needs, top, needs.answer_labels)
        candidate = candidates[0] if candidates else None
        # Only a name is shared by the facts of a multi-hop question ("two" recurs anywhere).
        named = self._candidates(needs, top, needs.answer_labels & NAME_LABELS)
        absent_words = frozenset(content_words(" ".join(absent_names))) & needs.words

        def share(words: frozenset[str]) -> float:
            return lexical_recall(needs.words, words) if needs.words else 1.0

        evidence = Evidence(
            answerable=False,
            reason="",
            coverage=share(union),
            best_passage=max(share(u.words) for u in units),
            best_sentence=ranked[0][0] if ranked else 0.0,
            missing=(),
            candidate=candidate,
            phrase=needs.phrase,
            typed=bool(needs.answer_labels),
            asks_value=bool(needs.answer_labels) and not needs.answer_labels & NAME_LABELS,
            absent_sources=tuple(text for text in absent if text in needs.sources),
            absent_names=absent_names,
            names=sum(1 for text, _ in needs.names if text not in needs.sources),
            candidate_coverage=max((self._coverage_with(needs, units, c) for c in named), default=0.0),
            absent_share=len(absent_words) / len(needs.words) if needs.words else 0.0,
            candidate_sentence=max((score for score, text in best if candidate and candidate in text), default=0.0),
            top_dense=top_dense,
            dense_ok=dense_bar_met,
        )
        decision = self.policy.decide(evidence.to_dict())
        evidence = replace(
            evidence,
            answerable=decision.answerable,
            reason=decision.reason,
            score=decision.score,
            missing=decision.missing,
        )
        log.debug("answerability %s", evidence.to_dict())
        return evidence

    @staticmethod
    def _coverage_with(needs: QuestionNeeds, units: Sequence[_Unit], candidate: str) -> float:
        """How much of the question the passages naming ``candidate`` cover together.

        A multi-hop question ("which company focuses on Macs …, is known for polishing its
        products …, and enforces uniform terms …") is answered by the entity its facts share:
        each passage holds one fact and names it, though no sentence covers the whole question.
        Fewer than two articles naming it is no such evidence (one passage is judged by its sentences).
        """
        keys = tuple(k for k in (_token_key(w) for w in _WORD.findall(candidate.replace(".", ""))) if k)
        naming = [u for u in units if keys and name_found(keys, u.tokens)]
        if len({u.article for u in naming}) < 2 or not needs.words:
            return 0.0
        return lexical_recall(needs.words, frozenset().union(*(u.words for u in naming)))

    @staticmethod
    def _ranked_sentences(needs: QuestionNeeds, units: Sequence[_Unit]) -> list[tuple[float, str]]:
        if not needs.words:
            return []
        scored = [(lexical_recall(needs.words, words), text) for u in units for text, words in u.sentences]
        scored.sort(key=lambda x: -x[0])
        return scored

    def answers_in(self, needs: QuestionNeeds, sentences: Sequence[str]) -> list[str | None]:
        """For each sentence, the entity in it that could answer the question ("$2.7 billion" for "how much").

        For "which pop star …" any name counts (``slot_labels``): the engine prefers a sentence that
        names one over one that only describes it ("the Anti-Hero singer").
        """
        if not needs.slot_labels:
            return [None] * len(sentences)
        docs = self.analyzer.parse_many(sentences)  # one batch
        return [next(iter(_entities_in(needs, [doc], needs.slot_labels, first=True)), None) for doc in docs]

    def _candidates(self, needs: QuestionNeeds, sentences: Sequence[str], labels: frozenset[str]) -> list[str]:
        """The entities with one of ``labels`` in ``sentences`` that the question does not already name."""
        return _entities_in(needs, self.analyzer.parse_many(sentences), labels) if labels else []


def _entities_in(
    needs: QuestionNeeds, docs: Sequence[Doc], labels: frozenset[str], *, first: bool = False
) -> list[str]:
    """The entities with one of ``labels`` in ``docs`` that the question does not already name."""
    if not labels:
        return []
    names = bool(labels & NAME_LABELS)
    out: list[str] = []
    for doc in docs:
        # The small model misses names ("Rovers beat City"); for who/where, untagged proper nouns count.
        spans = [*doc.ents, *(untagged_names(doc) if names else ())]
        for span in spans:
            typed = span.label_ in labels or (names and not span.label_)
            if typed and not _tokens(span.text) <= needs.question_tokens:
                out.append(span.text)
                if first:
                    return out
    return list(dict.fromkeys(out))
