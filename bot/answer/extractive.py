"""The offline answer engine: answers built only from source sentences and fixed phrases.

With no LLM key, factdesk still answers: it picks the source sentences that best
answer the question, removes repeats, orders them and cites each with the source
it came from (and any other source that says nearly the same thing). The only
words it adds are fixed leads ("No — as of 5 April 2025, ...") and connectives
("An earlier report said otherwise (“<its headline>”). That report was later
denied."), so it cannot state anything a source does not.

Sentence score = cosine(question, sentence)
               + 0.5 x IDF-weighted share of the question's content words in it
               + up to 0.1 for newer sources (status questions only)
               - penalties (headline/fragment 0.3, unbalanced quote 0.1, leading
                 pronoun 0.1, quoted instructions such as "ignore previous
                 instructions" 1.0 unless the question is about them).

Only the ``max_candidates`` sentences with the best word overlap are embedded
(one call; MiniLM on them is most of an answer's time: 24 instead of 32 measured
answer p50 226 -> 191 ms on MultiHop-RAG dev, gold answers 0.711 -> 0.702).
Relevant = within 0.3 of the best score and above 0.35. Further sentences are
picked by MMR (score - 0.3 x cosine to the closest chosen one, still above the
relevance floor) and skipped when a chosen sentence already
covers them (cosine > ``redundancy_threshold``, or most of their rarer words).
A sentence is also cited with other sources holding a sentence of the same
stance with cosine >= ``cite_threshold`` and >= 60% of its content words.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from bot.core.cache import BatchCache
from bot.core.models import Source
from bot.core.text.dates import human_date
from bot.core.text.negation import Stance, stance
from bot.core.text.sanitize import quoted
from bot.core.text.sentences import sentence_spans
from bot.core.text.words import content_words
from bot.verify.answerability import Answerability
from bot.verify.citations import (
    EARLIER_REPORTS_DIFFERED,
    LATER_DENIED,
    NOT_IN_SOURCES,
    VectorCache,
    earlier_report_sentence,
)
from index.embeddings import NamedEmbeddings

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- question types
_YES_NO = re.compile(
    r"^\s*(?:(?:when|where)\s+(?:is|are|will|does|do)\s+|is|are|was|were|has|have|had|did|does|do|will|would|"
    r"can|could|should|isn't|hasn't|didn't)\b",
    re.IGNORECASE,
)
_STATUS_VERBS = re.compile(
    r"\b(?:schedul\w*|confirm\w*|happen\w*|set|agreed|plann?\w*|announc\w*|held|take place|taken place|"
    r"took place|taking place|go(?:ing)? ahead|went ahead|on track|cancel\w*|postpon\w*|delay\w*|"
    r"finali[sz]ed|signed|approved|over|ended|open\w*|closed|launched|released|meet|met|deni\w*|"
    r"fixed|arranged|decided|called off|still|yet)\b",
    re.IGNORECASE,
)
_STATUS_WORDS = re.compile(
    r"\b(?:latest|status|so far|update[sd]?|still|yet|any ?more|right now|currently|as of now|"
    r"at the moment|any news)\b",
    re.IGNORECASE,
)


def is_status_question(question: str) -> bool:
    """Does the question ask where a story stands ("Is X scheduled?", "Has X happened?", "latest on X")?"""
    if _STATUS_WORDS.search(question):
        return True
    if not _YES_NO.search(question):
        return False
    return bool(re.match(r"^\s*(?:did|has|have|hasn't|didn't)\b", question, re.I) or _STATUS_VERBS.search(question))


# What stance() can judge: whether something is set, confirmed or has happened.
_STANCE_PREDICATE = re.compile(
    r"\b(?:schedul\w*|confirm\w*|happen\w*|set|agreed|fixed|plann?ed|arranged|finali[sz]ed|announced|held|"
    r"take place|taken place|took place|taking place|go(?:ing)? ahead|went ahead|meet|met|cancell?ed|"
    r"called off|postponed)\b",
    re.IGNORECASE,
)


def _wants_yes_no(question: str) -> bool:
    """A yes/no question about something stance() can judge ("Is X scheduled?", not "Is X ready?").

    "When/where will X take place?" is a status question but not a yes/no one: no "No —" lead.
    """
    return bool(
        _YES_NO.search(question)
        and not re.match(r"^\s*(?:when|where)\b", question, re.IGNORECASE)
        and _STANCE_PREDICATE.search(question)
    )


_LEAD_WORD: dict[Stance, str] = {"deny": "No", "affirm": "Yes", "uncertain": "Unclear"}

# ---------------------------------------------------------------- sentence quality
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,30}\b(?:previous|prior|above|earlier|all|your|any)\b"
    r"[^.\n]{0,20}\b(?:instructions?|prompts?|rules|directions|guidelines)\b"
    r"|\b(?:reply|respond|answer) only with\b|\byou are now\b|\bsystem prompt\b|\bnew instructions\b"
    r"|\btell (?:the )?(?:readers|users)\b",
    re.IGNORECASE,
)
_ASKS_ABOUT_INJECTION = re.compile(
    r"\b(?:instructions?|injection|prompt|chatbots?|ai|bots?|commands?|machines?)\b"
    r"|\bwhat (?:did|does) (?:it|the|that|this)(?: \w+)? (?:post|message|tweet|account) (?:say|read|claim)\b",
    re.IGNORECASE,
)
_HEADLINE_PREFIX = re.compile(r"^(?:[A-Z]{3,}(?: [A-Z]{2,})*:|By [A-Z][a-z]+ [A-Z])")
_TERMINAL = re.compile(r"[.!?…][\"'”’)\]]*$")
_PRONOUN_START = re.compile(r"^(?:It|He|She|They|This|That|These|Those|Its|His|Her|Their)\b")
_AS_OF_START = re.compile(r"^As of [^,]{1,30},\s*")
_ATTRIBUTION_TAIL = re.compile(
    r"^(?P<keep>.{40,}?\b(?:said|says|say|told reporters|reported|announced|added)(?: on \w+)?)\s*,\s+"
    r"(?:after|as|while|when|amid|with|adding|before|since)\b.*$"
)
_LOWER_OK = frozenset(
    [
        "a",
        "an",
        "the",
        "no",
        "there",
        "it",
        "this",
        "that",
        "these",
        "those",
        "as",
        "in",
        "on",
        "at",
        "after",
        "before",
        "since",
        "while",
        "some",
        "many",
        "most",
        "later",
        "earlier",
        "officials",
        "both",
        "neither",
        "talks",
    ]
)
_MIN_WORDS = 5
_PASSAGES_KEPT = 2048  # passages whose sentences are kept read (half of those retrieved recur)
_HEADLINE_PENALTY = 0.1
_FRAGMENT_PENALTY = 0.3
_COVERED = 0.6  # a supporting sentence must bring at least 40% new content (IDF-weighted) ...
_SIMILAR = 0.6  # ... or, if this close to a chosen sentence in meaning,
_PARTLY_COVERED = 0.45  # ... at least 55%
_SAME_NEWS_SECONDS = 12 * 3600
_LEAD_MARGIN = 0.2  # a status answer leads with the newest source scoring within this of the best
# A question about how something turned out ("How did Quillon do in Q1?", "What happened at ...?") ...
_ASKS_OUTCOME = re.compile(r"\b(?:did|didn't|happened|went|turned out)\b", re.IGNORECASE)
# ... is not answered by a look-ahead ("will report results on Friday") when a later report has the outcome.
_FORWARD = re.compile(
    r"\b(?:will|(?:is|are) (?:expected|due|set|scheduled|poised) to|ahead of|upcoming|looms?)\b", re.IGNORECASE
)
_SAME_WORDS = 0.6  # share of a sentence's content words another must have to be cited with it
_TOPIC_SHARE = 0.1
_LONG_LEAD_WORDS = 28


@dataclass(slots=True)
class _Candidate:
    text: str
    source: int
    title: str
    published: datetime | None
    words: frozenset[str]
    penalty: float
    tainted: bool  # part of quoted instructions (prompt injection)
    stance: Stance
    prescore: float = 0.0
    score: float = 0.0
    cosine: float = 0.0


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of quotations ("..." or “...”) in ``text``."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for i, ch in enumerate(text):
        if ch == "“" or (ch == '"' and start is None):
            start = i
        elif (ch == "”" or ch == '"') and start is not None:
            spans.append((start, i + 1))
            start = None
        elif ch == "\n" and start is not None and text[i : i + 2] == "\n\n":
            start = None  # a quote never spans paragraphs in our articles
    return spans


def _tainted_spans(text: str) -> list[tuple[int, int]]:
    """Spans holding instructions aimed at a chatbot: the whole enclosing quotation, else the match."""
    out: list[tuple[int, int]] = []
    quotes = _quote_spans(text)
    for match in _INJECTION.finditer(text):
        enclosing = [q for q in quotes if q[0] <= match.start() and match.end() <= q[1]]
        out.append(enclosing[0] if enclosing else (match.start(), match.end()))
    return out


def _penalty(text: str, title: str) -> float:
    penalty = 0.0
    if text.strip().lower() == title.strip().lower():
        penalty += _HEADLINE_PENALTY  # the article's own headline may answer ("Trump rules out troops")
    elif _HEADLINE_PREFIX.match(text) or not _TERMINAL.search(text):
        penalty += _FRAGMENT_PENALTY  # a fragment: a section label, a caption, a byline
    if (text.count('"') % 2) or (text.count("“") != text.count("”")):
        penalty += 0.1
    if _PRONOUN_START.match(text):
        penalty += 0.1
    return penalty


@dataclass(slots=True)
class _Call:
    """Everything one ``answer`` call computes, passed between its steps."""

    pool: list[_Candidate]  # every usable sentence of the sources
    shortlist: list[_Candidate]  # the embedded ones (best lexical pre-scores)
    sims: np.ndarray  # cosine between shortlisted sentences
    idf: dict[str, float]
    topic: frozenset[str]  # words in so many sentences that they say nothing new
    floor: float  # the lowest score a chosen sentence may have
    relevant: list[int] = field(default_factory=list)  # shortlist indices, best first
    related: list[int] = field(default_factory=list)  # a wider set, searched for contradicting reports


class ExtractiveEngine:
    """Answers from source sentences only; every sentence cites where it came from."""

    def __init__(
        self,
        embeddings: NamedEmbeddings,
        max_sentences: int = 4,
        redundancy_threshold: float = 0.8,
        *,
        cite_threshold: float = 0.85,
        max_candidates: int = 24,
        min_relevance: float = 0.35,
        relevance_margin: float = 0.3,
        lexical_weight: float = 0.5,
        recency_weight: float = 0.1,
        diversity: float = 0.3,
        cache: VectorCache | None = None,
        answer_types: Answerability | None = None,
        answer_type_weight: float = 0.15,
        typed_pool: int = 8,
    ) -> None:
        if max_sentences < 1:
            raise ValueError("max_sentences must be at least 1")
        self.embeddings = embeddings
        self.max_sentences = max_sentences
        self.redundancy_threshold = redundancy_threshold
        self.cite_threshold = cite_threshold
        self.max_candidates = max_candidates
        self.min_relevance = min_relevance
        self.relevance_margin = relevance_margin
        self.lexical_weight = lexical_weight
        self.recency_weight = recency_weight
        self.diversity = diversity
        self.cache = cache if cache is not None else VectorCache(embeddings)
        self.answer_types = answer_types
        self.answer_type_weight = answer_type_weight
        self.typed_pool = typed_pool
        self._sentences: BatchCache[str, tuple[_Sentence, ...]] = BatchCache(_PASSAGES_KEPT)

    # ------------------------------------------------------------ answer
    def answer(
        self,
        question: str,
        sources: Sequence[Source],
        *,
        status_question: bool,
        now: datetime | None = None,
    ) -> list[tuple[str, tuple[int, ...]]]:
        """Sentences (text, source numbers) answering ``question`` from ``sources`` only.

        Returns ``[(NOT_IN_SOURCES, ())]`` when no sentence is relevant enough.
        """
        call = self._score(question, sources, status_question, now)
        if call is None:
            return [(NOT_IN_SOURCES, ())]
        shortlist = call.shortlist
        outcome = not status_question and bool(_ASKS_OUTCOME.search(question))
        lead = self._pick_lead(call, status_question, now, outcome=outcome)
        lead_cites = self._citations(lead, call, lead=status_question)
        notes = self._disagreement(call, lead, lead_cites) if status_question else []
        supporting = self._supporting(call, lead, self.max_sentences - 1 - len(notes), status_question, outcome=outcome)
        out: list[tuple[str, tuple[int, ...]]] = [("", lead_cites), *notes]
        out.extend((shortlist[i].text, self._citations(i, call)) for i in supporting)
        as_of = self._as_of(out, sources, now) if status_question else None
        yes_no = status_question and _wants_yes_no(question)
        out[0] = (
            _lead_text(shortlist[lead].text, shortlist[lead].stance if yes_no else None, as_of),
            lead_cites,
        )
        return out

    # ------------------------------------------------------------ scoring
    def _score(
        self, question: str, sources: Sequence[Source], status_question: bool, now: datetime | None
    ) -> _Call | None:
        """Candidates scored against the question (one embedding call), or None if nothing is relevant."""
        # A headline states the story's claim: it may answer a yes/no question ("Will US troops be
        # deployed?" - "Trump rules out deployment of troops"); a who/which question wants a sentence's detail.
        headline = _HEADLINE_PENALTY if _YES_NO.search(question) else _FRAGMENT_PENALTY
        texts = [p.text for source in sources for p in source.passages]
        read = self._sentences.get_many(texts, lambda missing: [_passage_sentences(t) for t in missing])
        pool = _candidates(sources, read, injection_ok=bool(_ASKS_ABOUT_INJECTION.search(question)), headline=headline)
        if not pool:
            return None
        df: dict[str, int] = {}
        for c in pool:
            for w in c.words:
                df[w] = df.get(w, 0) + 1
        idf = {w: math.log(1.0 + len(pool) / (1.0 + n)) for w, n in df.items()}
        question_words = set(content_words(question))
        total = sum(idf.get(w, math.log(1.0 + len(pool))) for w in question_words)
        for c in pool:
            c.prescore = sum(idf[w] for w in question_words if w in c.words) / total if total else 0.0
        pool.sort(key=lambda c: (-(c.prescore - c.penalty), -_timestamp(c)))
        shortlist = pool[: self.max_candidates]
        vectors = self.cache.vectors([question, *(c.text for c in shortlist)])
        q_vec, c_vecs = vectors[0], vectors[1:]
        recency = self._recency(sources, now) if status_question else {}
        for c, vec in zip(shortlist, c_vecs, strict=True):
            c.cosine = float(vec @ q_vec)
            c.score = c.cosine + self.lexical_weight * c.prescore + recency.get(c.source, 0.0) - c.penalty
        self._prefer_answers(question, shortlist)
        order = sorted(range(len(shortlist)), key=lambda i: -shortlist[i].score)
        best = shortlist[order[0]].score
        floor = max(self.min_relevance, best - self.relevance_margin)
        relevant = [i for i in order if shortlist[i].score >= floor and shortlist[i].penalty < 1.0]
        if not relevant:
            log.debug("best sentence scored %.2f < %.2f: nothing relevant", best, self.min_relevance)
            return None
        topic = frozenset(w for w, n in df.items() if n >= max(3, _TOPIC_SHARE * len(pool)))
        wide = max(self.min_relevance, best - 2 * self.relevance_margin)
        related = [i for i in order if shortlist[i].score >= wide and shortlist[i].penalty < 1.0]
        return _Call(pool, shortlist, c_vecs @ c_vecs.T, idf, topic, floor, relevant, related)

    def _prefer_answers(self, question: str, shortlist: list[_Candidate]) -> None:
        """Raise the best sentences that hold what a who/when/how-many question asks for.

        "Where could they meet?" is answered by the sentence naming venues, not by the one
        that repeats "meeting" and "location"; spaCy's entity labels say which holds a place.
        """
        if self.answer_types is None:
            return
        needs = self.answer_types.needs(question)
        if not needs.answer_labels:
            return
        pool = [c for c in sorted(shortlist, key=lambda c: -c.score)[: self.typed_pool] if c.penalty < 1.0]
        for c, found in zip(pool, self.answer_types.answers_in(needs, [c.text for c in pool]), strict=True):
            if found is not None:
                c.score += self.answer_type_weight

    def _recency(self, sources: Sequence[Source], now: datetime | None) -> dict[int, float]:
        """Up to ``recency_weight`` for newer sources, scaled between the oldest and newest dated one."""
        dated = {
            s.number: s.published_at.timestamp()
            for s in sources
            if s.published_at is not None and _not_after(s.published_at, now)
        }
        if not dated:
            return {}
        low, high = min(dated.values()), max(dated.values())
        if high == low:
            return dict.fromkeys(dated, self.recency_weight)
        return {n: self.recency_weight * (t - low) / (high - low) for n, t in dated.items()}

    # ------------------------------------------------------------ selection
    @staticmethod
    def _pick_lead(call: _Call, status_question: bool, now: datetime | None, *, outcome: bool = False) -> int:
        """The best sentence; for status questions the newest source among the most relevant.

        Within that source a sentence with a clear stance (affirm/deny) is preferred
        if it scores nearly as well; sources dated after ``now`` are passed over, and
        quoted instructions never lead unless nothing else is relevant. For questions
        about an outcome ("How did X do?"), a look-ahead ("will report results on
        Friday") gives way to a nearly as relevant sentence from a later source.
        """
        shortlist, relevant = call.shortlist, call.relevant
        clean = [i for i in relevant if not shortlist[i].tainted] or relevant
        best = shortlist[clean[0]].score
        if not status_question:
            first = shortlist[clean[0]]
            if not outcome or not _FORWARD.search(first.text):
                return clean[0]
            later = [
                i
                for i in clean
                if shortlist[i].score >= best - _LEAD_MARGIN
                and _timestamp(shortlist[i]) > _timestamp(first)
                and _not_after(shortlist[i].published, now)
                and not _FORWARD.search(shortlist[i].text)
            ]
            return later[0] if later else clean[0]
        pool = [i for i in clean if shortlist[i].score >= best - _LEAD_MARGIN]
        current = [i for i in pool if _not_after(shortlist[i].published, now)]
        newest = max(current or pool, key=lambda i: _timestamp(shortlist[i]))
        own = [i for i in clean if shortlist[i].source == shortlist[newest].source]
        top = own[0]
        for i in own:
            if shortlist[i].stance in ("deny", "affirm") and shortlist[i].score >= shortlist[top].score - 0.1:
                return i
        return top

    def _supporting(
        self, call: _Call, lead: int, budget: int, status_question: bool, *, outcome: bool = False
    ) -> list[int]:
        """Further relevant sentences that add something (MMR), newest first for status questions.

        Each pick maximises score - ``diversity`` x (cosine to the closest chosen
        sentence) and must still clear the relevance floor after that discount, so
        a fact already stated is not repeated in other words.
        """
        shortlist = call.shortlist
        chosen = [lead]
        remaining = [
            i
            for i in call.relevant
            if i != lead
            and not (status_question and _conflicts(shortlist[i], shortlist[lead]))
            and not (outcome and _superseded(shortlist[i], shortlist[lead]))
        ]  # an older claim contradicting the lead is covered by the disagreement note
        while budget > 0 and remaining:
            remaining = [i for i in remaining if not self._redundant(i, chosen, call)]
            if not remaining:
                break
            mmr = {
                i: shortlist[i].score - self.diversity * max(float(call.sims[i, j]) for j in chosen) for i in remaining
            }
            pick = max(remaining, key=lambda i: mmr[i])
            if mmr[pick] < call.floor:
                break
            chosen.append(pick)
            remaining.remove(pick)
            budget -= 1
        supporting = chosen[1:]
        if status_question:
            supporting.sort(key=lambda i: (-_timestamp(shortlist[i]), -shortlist[i].score))
        return supporting

    def _redundant(self, i: int, chosen: list[int], call: _Call) -> bool:
        """Close in meaning to a chosen sentence, or adding little the chosen ones do not already say.

        Cosine alone misses long sentences that repeat one fact among different
        wording; IDF-weighted coverage of their words catches them, ignoring the
        story's topic words (in over 10% of sentences: the actors' names, "meeting").
        """
        shortlist = call.shortlist
        a = shortlist[i]
        closest = max(float(call.sims[i, j]) for j in chosen)
        if any(float(call.sims[i, j]) > self.redundancy_threshold and a.stance == shortlist[j].stance for j in chosen):
            return True
        words = a.words - call.topic
        if not words:
            return True
        covered = frozenset().union(*(shortlist[j].words for j in chosen))
        coverage = sum(call.idf[w] for w in words & covered) / sum(call.idf[w] for w in words)
        return coverage >= _COVERED or (closest > _SIMILAR and coverage >= _PARTLY_COVERED)

    def _citations(self, i: int, call: _Call, *, lead: bool = False) -> tuple[int, ...]:
        """The sentence's own source plus any source stating nearly the same thing.

        For a status answer's lead, only sources about as new as its own: an older
        source saying the same thing does not back "as of <newest date>".
        """
        c = call.shortlist[i]
        numbers = {c.source}

        def eligible(other: _Candidate) -> bool:
            if other.source in numbers or other.stance != c.stance:
                return False
            if c.words and len(c.words & other.words) / len(c.words) < _SAME_WORDS:
                return False  # close in meaning but not in what it states (names, figures)
            return not lead or _timestamp(other) >= _timestamp(c) - _SAME_NEWS_SECONDS

        for j, other in enumerate(call.shortlist):
            if eligible(other) and float(call.sims[i, j]) >= self.cite_threshold:
                numbers.add(other.source)
        for other in call.pool[len(call.shortlist) :]:  # not embedded: near-identical wording only
            union = c.words | other.words
            if eligible(other) and union and len(c.words & other.words) / len(union) >= 0.9:
                numbers.add(other.source)
        return tuple(sorted(numbers))

    @staticmethod
    def _disagreement(call: _Call, lead: int, lead_cites: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
        """Fixed sentences noting that an older source said the opposite of the lead, and who denied it."""
        shortlist = call.shortlist
        head = shortlist[lead]
        if head.stance not in ("affirm", "deny"):
            return []
        opposite = "affirm" if head.stance == "deny" else "deny"
        older = [
            i
            for i in call.related  # a contradicting claim matches the question's wording less well
            if shortlist[i].stance == opposite
            and not shortlist[i].tainted
            and shortlist[i].source not in lead_cites
            and _timestamp(shortlist[i]) < _timestamp(head)
        ]
        if not older:
            return []
        if head.stance == "affirm":
            return [(EARLIER_REPORTS_DIFFERED, tuple(sorted({shortlist[i].source for i in older[:2]})))]
        claim = shortlist[max(older, key=lambda i: (stance(shortlist[i].title) == "affirm", shortlist[i].score))]
        deniers: list[int] = []
        for i in call.related:
            c = shortlist[i]
            if c.stance == "deny" and _timestamp(c) > _timestamp(claim) and c.source not in deniers:
                deniers.append(c.source)
        others = [n for n in deniers if n not in lead_cites] or deniers
        quotable = stance(claim.title) == "affirm" and not _INJECTION.search(claim.title)
        quote = claim.title if quotable else None
        result: list[tuple[str, tuple[int, ...]]] = [(earlier_report_sentence(quote), (claim.source,))]
        if others:
            result.append((LATER_DENIED, tuple(sorted(others[:2]))))
        return result

    @staticmethod
    def _as_of(
        sentences: list[tuple[str, tuple[int, ...]]], sources: Sequence[Source], now: datetime | None
    ) -> datetime | None:
        """The newest publication time among the cited sources (ignoring any dated after ``now``)."""
        cited = {n for _, numbers in sentences for n in numbers}
        dates = [
            s.published_at
            for s in sources
            if s.number in cited and s.published_at is not None and _not_after(s.published_at, now)
        ]
        return max(dates) if dates else None


@dataclass(frozen=True, slots=True)
class _Sentence:
    """A passage's sentence as every question reads it (kept per passage: passages recur)."""

    text: str
    tainted: bool  # part of quoted instructions (prompt injection)
    words: frozenset[str]
    stance: Stance


def _passage_sentences(text: str) -> tuple[_Sentence, ...]:
    tainted = _tainted_spans(text)
    out: list[_Sentence] = []
    for start, end in _quote_whole(text):
        sentence = quoted(text[start:end])
        if len(sentence.split()) >= _MIN_WORDS:
            is_tainted = any(a < end and start < b for a, b in tainted)
            out.append(_Sentence(sentence, is_tainted, frozenset(content_words(sentence)), stance(sentence)))
    return tuple(out)


def _candidates(
    sources: Sequence[Source],
    read: dict[str, tuple[_Sentence, ...]],
    *,
    injection_ok: bool,
    headline: float,
) -> list[_Candidate]:
    """Every sentence of the sources' passages (once per source, ``read`` by passage text) with its penalties."""
    out: list[_Candidate] = []
    seen: set[tuple[int, str]] = set()
    for source in sources:
        title = " ".join(source.title.split())
        if len(title.split()) >= _MIN_WORDS and not _tainted_spans(title):
            seen.add((source.number, title))  # the headline is a candidate once, cited as the article
            shown = quoted(title)
            out.append(
                _candidate(shown if _TERMINAL.search(shown) else f"{shown}.", source, title, headline, tainted=False)
            )
        for passage in source.passages:
            for sentence in read[passage.text]:
                if (source.number, sentence.text) in seen:
                    continue
                seen.add((source.number, sentence.text))
                penalty = _penalty(sentence.text, title) + (1.0 if sentence.tainted and not injection_ok else 0.0)
                out.append(
                    _Candidate(
                        text=sentence.text,
                        source=source.number,
                        title=title,
                        published=source.published_at,
                        words=sentence.words,
                        penalty=penalty,
                        tainted=sentence.tainted,
                        stance=sentence.stance,
                    )
                )
    return out


def _candidate(text: str, source: Source, title: str, penalty: float, *, tainted: bool) -> _Candidate:
    return _Candidate(
        text=text,
        source=source.number,
        title=title,
        published=source.published_at,
        words=frozenset(content_words(text)),
        penalty=penalty,
        tainted=tainted,
        stance=stance(text),
    )


def _open_quote(text: str) -> bool:
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")


def _quote_whole(text: str, most: int = 3) -> list[tuple[int, int]]:
    """Sentence spans, with a quotation split across sentences kept whole (up to ``most`` sentences).

    ``"The decision has been taken. What remains is the format," the diplomat said.``
    is one candidate, not a fragment with an unclosed quote.
    """
    spans = [(s.start, s.end) for s in sentence_spans(text)]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        start, end = spans[i]
        j = i
        while _open_quote(text[start:end]) and j + 1 < len(spans) and j - i + 1 < most:
            j += 1
            end = spans[j][1]
        if _open_quote(text[start:end]):
            j, end = i, spans[i][1]  # never closes: keep the sentence alone (penalised)
        out.append((start, end))
        i = j + 1
    return out


def _superseded(candidate: _Candidate, lead: _Candidate) -> bool:
    """An older look-ahead ("will report on Friday") behind a lead from a later source that reports it."""
    return (
        _timestamp(candidate) < _timestamp(lead)
        and candidate.source != lead.source
        and bool(_FORWARD.search(candidate.text))
        and not _FORWARD.search(lead.text)
        and len(candidate.words & lead.words) >= 2
    )


def _conflicts(candidate: _Candidate, lead: _Candidate) -> bool:
    """An older sentence with the opposite stance to the lead."""
    return {candidate.stance, lead.stance} == {"affirm", "deny"} and _timestamp(candidate) < _timestamp(lead)


def _lead_text(text: str, lead_stance: Stance | None, as_of: datetime | None) -> str:
    """A source sentence behind a fixed lead: "No — as of 5 April 2025, <sentence>"."""
    word = _LEAD_WORD.get(lead_stance) if lead_stance else None
    if as_of is None and word is None:
        return text
    body = _AS_OF_START.sub("", text) if as_of is not None else text
    if len(body.split()) > _LONG_LEAD_WORDS:
        trimmed = _ATTRIBUTION_TAIL.match(body)
        if trimmed:
            body = trimmed.group("keep") + "."
    lowered = body.split(" ", 1)[0].lower() in _LOWER_OK
    if lowered:
        body = body[0].lower() + body[1:]
    if as_of is None:
        return f"{word} — {body}"
    # A sentence that must keep its capital ("Later on Wednesday, …", "Putin said …") follows a colon.
    lead = f"as of {human_date(as_of)}{', ' if lowered else ': '}{body}"
    return f"{word} — {lead}" if word else lead[0].upper() + lead[1:]


def _timestamp(c: _Candidate) -> float:
    return c.published.timestamp() if c.published else float("-inf")


def _not_after(moment: datetime | None, now: datetime | None) -> bool:
    """``moment <= now``, treating a naive datetime as UTC (and an unknown one as not after)."""
    if moment is None or now is None:
        return True
    if moment.tzinfo is None and now.tzinfo is not None:
        moment = moment.replace(tzinfo=UTC)
    elif now.tzinfo is None and moment.tzinfo is not None:
        now = now.replace(tzinfo=UTC)
    return moment <= now
