"""Citation parsing, repair and verification for every answer path.

An answer sentence is only worth showing if a numbered source says it. The LLM
can cite a source that does not exist, cite the wrong one, or add a sentence no
source supports; the extractive engine can attach a near-duplicate's number.
This module turns raw text into ``(sentence, citations)`` pairs, scores how well
each cited source supports its sentence (word overlap + sentence embeddings),
repairs what can be repaired, and drops what cannot.

Support of a sentence by a source is

    support = (w * lexical + (1 - w) * semantic) * penalties,   w = lexical_weight = 0.5

* ``lexical``: recall of the sentence's content words (lower-cased, punctuation
  stripped, stopwords ignored, light suffix stemming; numbers kept and counted
  twice, because a wrong figure is the commonest fabrication) in the best
  matching source sentence (x1.0), adjacent sentence pair (x0.95), title (x0.9)
  or whole passage (x0.75).
* ``semantic``: cosine between the sentence and the most similar of the source's
  lexically closest sentences (and its title), mapped linearly from [0.25, 0.85]
  to [0, 1]. On all-MiniLM-L6-v2 unrelated news sentences sit below ~0.25 and
  faithful paraphrases above ~0.6, but same-topic *false* statements also reach
  0.7-0.8: the model knows topics, not facts, so the lexical half carries names
  and figures. When one source sentence holds every content word with the same
  polarity, semantic is taken as 1.0 without embedding (verbatim quotes, the
  extractive engine's output).
* penalties: x0.75 when the sentence has a number the source never mentions
  (its publication year excepted); x0.9 when exactly one of the sentence and
  its best matching source sentence is negated (no/not/never/none/...).

Defaults (threshold 0.6) come from 20 faithful and 14 fabricated sentences
about the sample corpus: faithful ones (verbatim or paraphrased) scored
0.65-1.0, same-topic fabrications (wrong place, figure, actor, day) 0.16-0.54.
An uncited sentence is attached to a source only at ``threshold + 0.15``.
Limits: a fabrication built from a source's own words can still pass, and
who-did-what-to-whom is not understood.
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from bot.core.cache import BatchCache
from bot.core.models import REFUSAL, CitedSentence, Passage, Source
from bot.core.text.dates import date_mentions
from bot.core.text.markers import CANONICAL_MARKER, LEADING_RUN, canonical_markers, strip_source_markers
from bot.core.text.negation import negators
from bot.core.text.sentences import sentence_spans, sentences_of
from bot.core.text.words import QUOTES, content_words, lexical_recall
from bot.verify.facts import FactSupport
from index.embeddings import NamedEmbeddings, embed_array

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- fixed phrases
# Sentences the engines may write that assert nothing by themselves.
NOT_IN_SOURCES = REFUSAL
EARLIER_REPORT_DIFFERED = "An earlier report said otherwise."
EARLIER_REPORTS_DIFFERED = "Earlier reports said otherwise."
LATER_DENIED = "That report was later denied."
SOURCES_DISAGREE = "The sources disagree."
_QUOTE_LIMIT = 160

# Uncited sentences that are kept as they are (compared after normalisation).
FIXED_PHRASES: tuple[str, ...] = (
    NOT_IN_SOURCES,
    SOURCES_DISAGREE,
    "Sources disagree.",
    "Yes.",
    "No.",
    "Unclear.",
    "In short:",
    "Here is what the sources say:",
)
# Connective sentences that carry citations but no claim of their own beyond the
# cited sources' sentences; the optional quotation must come from a cited source.
_CITED_TEMPLATES = (
    re.compile(r"^An earlier report said otherwise(?: \(“(?P<quote>[^“”]{3,160})”\))?\.$"),
    re.compile(r"^Earlier reports said otherwise\.$"),
    re.compile(r"^That report was later denied\.$"),
)


def earlier_report_sentence(quote: str | None = None) -> str:
    """ "An earlier report said otherwise (“<headline>”)." — the quotation must be a cited source's text."""
    clean = " ".join((quote or "").replace("“", "").replace("”", "").split())
    if not 3 <= len(clean) <= _QUOTE_LIMIT:
        return EARLIER_REPORT_DIFFERED
    return f"An earlier report said otherwise (“{clean}”)."


# Leads the engines put in front of a source sentence: ignored when scoring support.
_LEAD = re.compile(
    r"^\s*(?:(?:yes|no|unclear)(?:\s*[—–]|\s+-{1,2}\s|,|:)\s*)?"
    r"(?:as of \d{1,2} [A-Za-z]+(?: \d{4})?\s*,?\s*)?",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- text normalisation
# Negators among content words: a sentence and its best source sentence must agree on polarity.


def scoring_text(text: str) -> str:
    """The part of an answer sentence that a source must support (engine leads removed)."""
    stripped = _LEAD.sub("", text, count=1).strip()
    return stripped or text


def _norm_phrase(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(QUOTES).lower().split())


_FIXED_NORMALISED = frozenset(_norm_phrase(p) for p in FIXED_PHRASES)


# Fewer content words than this and a sentence states nothing a source could support.
MIN_CLAIM_WORDS = 3


def is_fixed_phrase(text: str) -> bool:
    """True for the short connective/lead sentences that may stand without a citation."""
    return _norm_phrase(text) in _FIXED_NORMALISED


# ---------------------------------------------------------------- parsing
_SOURCES_HEADING = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*|__)?[ \t]*(?:sources?|references|citations)(?:[ \t]+used)?[ \t]*"
    r"(?:\*\*|__)?[ \t]*:?[ \t]*(?:\*\*|__)?[ \t]*(?:$|(?=[\[［【\d-]))",
    re.IGNORECASE | re.MULTILINE,
)
_DATE_SLACK_BEFORE = 7  # days a source may look back ("last Thursday")
_DATE_SLACK_AFTER = 1  # days it may look ahead ("on Saturday", time zones)
_SOURCES_INLINE = re.compile(r"^\s*(?:sources?|references|citations)\s*:", re.IGNORECASE)
_BULLET = re.compile(r"^[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+", re.MULTILINE)
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)
_EMPHASIS = re.compile(r"\*\*|__")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?…)\]”’])")

# Lexical units: a source sentence counts fully, a title or an adjacent pair a little less
# (an answer sentence often fuses two), the whole passage much less (any topic word is in it).
_TITLE_FACTOR = 0.9
_PAIR_FACTOR = 0.95
_PASSAGE_FACTOR = 0.75
_STRONG_LEXICAL = 0.6  # above this a cited source's best sentence is almost surely the right one
_SURE_LEXICAL = 0.8  # below this a cited source may fail, so other sources are scored for repair
_REPAIR_LEXICAL = 0.2  # below this another source cannot reach the default threshold (0.1 + 0.5)


def _drop_sources_section(text: str) -> str:
    for match in _SOURCES_HEADING.finditer(text):
        if text[: match.start()].strip():
            return text[: match.start()]
    return text


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    return " ".join(text.split()).strip()


def _dedupe(numbers: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(numbers))


def split_cited_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Sentences of an answer, each with the ``[n]`` numbers it carries (markers removed from the text).

    Markers opening a sentence ("... was set. [2] Kyiv said ...") belong to the
    sentence before; a trailing "Sources:" list is not part of the answer.
    """
    text = _drop_sources_section(text.strip())
    text = canonical_markers(text)
    text = _EMPHASIS.sub("", _HEADING.sub("", _BULLET.sub("", text)))
    text = re.sub(r"\n+", "\n\n", text)  # every line is its own paragraph (bullets, short lines)
    out: list[tuple[str, list[int]]] = []
    for span in sentence_spans(text):
        raw = text[span.start : span.end]
        lead = LEADING_RUN.match(raw)
        if lead and out:
            out[-1][1].extend(int(n) for n in CANONICAL_MARKER.findall(lead.group()))
            raw = raw[lead.end() :]
        if out and _SOURCES_INLINE.match(raw):
            break  # "... was set [1]. Sources: [1] Northline Wire, ..." on one line
        numbers = [int(n) for n in CANONICAL_MARKER.findall(raw)]
        sentence = _tidy(CANONICAL_MARKER.sub(" ", raw))
        if not re.search(r"\w", sentence):
            if out:
                out[-1][1].extend(numbers)
            continue
        out.append((sentence, numbers))
    return [(sentence, _dedupe(numbers)) for sentence, numbers in out]


def render(sentences: Sequence[CitedSentence]) -> str:
    """Sentences joined with their markers before the final stop: "No date has been set [1][3]."."""
    parts: list[str] = []
    for sentence in sentences:
        text = sentence.text.strip()
        if not sentence.citations:
            parts.append(text)
            continue
        markers = "".join(f"[{n}]" for n in sentence.citations)
        match = re.match(r"^(.*?[^.!?…\s])\s*([.!?…]+)$", text, re.DOTALL)
        parts.append(f"{match.group(1)} {markers}{match.group(2)}" if match else f"{text} {markers}")
    return " ".join(parts)


# ---------------------------------------------------------------- vectors
class VectorCache:
    """Sentence vectors by text, bounded LRU; share one between engine and verifier to embed once.

    Embeddings are deterministic, so a text seen in the extractive engine's call
    need not be embedded again when its answer is verified.
    """

    def __init__(self, embeddings: NamedEmbeddings, max_items: int = 4096) -> None:
        self.embeddings = embeddings
        self._items: BatchCache[str, np.ndarray] = BatchCache(max_items)

    def __len__(self) -> int:
        return len(self._items)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts`` in order; the missing ones are embedded in one call."""
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        known = self._items.get_many(texts, lambda missing: list(embed_array(self.embeddings, missing)))
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)


# ---------------------------------------------------------------- verification
@dataclass(slots=True)
class VerificationResult:
    """Verified sentences plus what was changed, for the answer's notes and --json."""

    sentences: list[CitedSentence]
    support_score: float = 0.0
    repaired: int = 0
    dropped: int = 0
    notes: list[str] = field(default_factory=list)
    # Positions in ``sentences`` the fact model doubts although no fact is missing: what a second
    # opinion (the LLM review, when configured) is asked about.
    doubtful: list[int] = field(default_factory=list)


@dataclass(slots=True)
class _Unit:
    """A piece of a source that may support a sentence: a sentence, an adjacent pair, a passage."""

    words: frozenset[str]
    factor: float
    text: str | None  # embeddable sentence text; None for pairs and passages


@dataclass(slots=True)
class _SourceUnits:
    number: int
    title: str
    units: list[_Unit]
    words: frozenset[str]  # every content word of the source
    published: date | None


def _passage_units(passage: Passage) -> list[_Unit]:
    sentences = [passage.text[s.start : s.end] for s in sentence_spans(passage.text)]
    words = [frozenset(content_words(s)) for s in sentences]
    units = [_Unit(w, 1.0, " ".join(s.split())) for s, w in zip(sentences, words, strict=True)]
    units.extend(_Unit(a | b, _PAIR_FACTOR, None) for a, b in itertools.pairwise(words))
    if len(words) > 2:
        units.append(_Unit(frozenset().union(*words), _PASSAGE_FACTOR, None))
    return units


def _source_units(source: Source, cache: dict[str, list[_Unit]]) -> _SourceUnits:
    """Scoring units of a source; a passage shared by two sources (or seen twice) is split once."""
    units: list[_Unit] = []
    if source.title.strip():
        units.append(_Unit(frozenset(content_words(source.title)), _TITLE_FACTOR, " ".join(source.title.split())))
    for passage in source.passages:
        key = passage.chunk_id or passage.text
        if key not in cache:
            cache[key] = _passage_units(passage)
        units.extend(cache[key])
    words = frozenset().union(*(u.words for u in units)) if units else frozenset()
    published = source.published_at.date() if source.published_at is not None else None
    return _SourceUnits(source.number, " ".join(source.title.split()), units, words, published)


def _date_words(mentions: Sequence[tuple[date, frozenset[str]]], published: date | None) -> frozenset[str]:
    """Words of dates in the answer that a source may have written as "on Thursday" or "this week".

    An answer says "On 3 April 2025, Kyiv denied it" where the source, published
    that day, says "on Thursday"; dates from a week before to a day after the
    source's publication count as stated by it.
    """
    if published is None or not mentions:
        return frozenset()
    near = [words for day, words in mentions if -_DATE_SLACK_AFTER <= (published - day).days <= _DATE_SLACK_BEFORE]
    return frozenset().union(*near) if near else frozenset()


def source_sentences(sources: Sequence[Source]) -> list[str]:
    """Every sentence (and title) of ``sources`` as the verifier embeds it, for warming a cache."""
    cache: dict[str, list[_Unit]] = {}
    texts = (u.text for s in sources for u in _source_units(s, cache).units if u.text is not None)
    return list(dict.fromkeys(texts))


@dataclass(slots=True)
class _FactOutcome:
    """The fact check of one sentence: a concrete failure, a doubt, or neither."""

    failure: str | None = None
    doubtful: bool = False


@dataclass(slots=True)
class _Plan:
    """What one answer sentence needs: its lexical scores and which source sentences to embed."""

    lexical: dict[int, float]
    penalty: dict[int, float]
    candidates: dict[int, list[str]]
    exact: set[int]  # sources with a sentence holding every content word (same polarity): no embedding needed


class CitationVerifier:
    """Checks that every answer sentence is supported by the sources it cites, repairing what it can."""

    def __init__(
        self,
        embeddings: NamedEmbeddings,
        lexical_weight: float = 0.5,
        threshold: float = 0.6,
        *,
        attach_margin: float = 0.15,
        sem_floor: float = 0.25,
        sem_ceiling: float = 0.85,
        number_penalty: float = 0.75,
        polarity_penalty: float = 0.9,
        repair_sources: int = 2,
        cache: VectorCache | None = None,
        facts: FactSupport | None = None,
    ) -> None:
        if not 0.0 <= lexical_weight <= 1.0:
            raise ValueError("lexical_weight must be between 0 and 1")
        if not sem_floor < sem_ceiling:
            raise ValueError("sem_floor must be below sem_ceiling")
        self.embeddings = embeddings
        self.lexical_weight = lexical_weight
        self.threshold = threshold
        self.attach_margin = attach_margin
        self.sem_floor = sem_floor
        self.sem_ceiling = sem_ceiling
        self.number_penalty = number_penalty
        self.polarity_penalty = polarity_penalty
        self.repair_sources = repair_sources
        self.cache = cache if cache is not None else VectorCache(embeddings)
        self.facts = facts

    def _fact_failure(self, text: str, numbers: Sequence[int], sources: dict[int, Source]) -> _FactOutcome:
        """Why no cited source states the sentence's facts ("Tumblr not in [2]"), or no failure when one does.

        A sentence found verbatim in a cited source (the extractive engine's) needs no
        check. Otherwise a source fails only with a concrete reason: the fact model
        says unsupported *and* it names an entity or number the source lacks, or a
        negation the aligned source sentence does not have. A source the model doubts
        without such a reason leaves the sentence standing but ``doubtful``.
        """
        if self.facts is None or not numbers:
            return _FactOutcome()
        # The engines end a quoted headline with a full stop: without it, it is still the source's text.
        needle = " ".join(text.lower().split()).rstrip(".!?… ")
        reasons: list[str] = []
        doubtful = False
        for n in numbers:
            source = sources[n]
            if any(needle in t for t in _source_texts(source)):
                return _FactOutcome()
            verdict = self.facts.check(text, source_parts(source))
            if verdict.supported:
                return _FactOutcome()
            if not (verdict.check.missing or verdict.check.negation_mismatch):
                doubtful = True
                continue
            reasons.append(f"{verdict.check.explanation} not in [{n}]")
        if doubtful:
            return _FactOutcome(doubtful=True)
        return _FactOutcome(failure="; ".join(reasons))

    def prepare(self, sources: Sequence[Source]) -> None:
        """Embed the sources' sentences ahead of time (e.g. while an LLM writes), so verify is cheap."""
        self.cache.vectors(source_sentences(sources))

    # ------------------------------------------------------------ scoring
    def _semantic(self, cosine: float) -> float:
        span = self.sem_ceiling - self.sem_floor
        return float(min(1.0, max(0.0, (cosine - self.sem_floor) / span)))

    def _plan(self, text: str, sources: Sequence[_SourceUnits], cites: set[int], repair: bool) -> _Plan:
        """Lexical scores against every source; semantic candidates only where they can matter.

        Cited sources get their lexically best sentence (two when the best match is
        weak, as paraphrases share fewer words) and their title (a summary the
        answer may paraphrase); when the sentence may need another source (no
        citation, an invalid one, or no cited match above 0.8) the
        ``repair_sources`` lexically best other sources get one candidate each.
        """
        words = content_words(text)
        numbers = {t for t in words if t[0].isdigit()}
        negating = negators()
        negated = bool(negating.intersection(words))
        mentions = date_mentions(text, (s.published.year for s in sources if s.published is not None))
        plan = _Plan({}, {}, {}, set())
        sources_by_number = {s.number: s for s in sources}
        ranked: dict[int, list[tuple[float, _Unit]]] = {}
        for src in sources:
            best = 0.0
            sentence_scores: list[tuple[float, _Unit]] = []
            dated = _date_words(mentions, src.published)
            for unit in src.units:
                score = lexical_recall(words, unit.words | dated if dated else unit.words) * unit.factor
                best = max(best, score)
                if unit.text is not None and score > 0:
                    sentence_scores.append((score, unit))
            sentence_scores.sort(key=lambda x: -x[0])
            ranked[src.number] = sentence_scores
            plan.lexical[src.number] = best
            penalty = self.number_penalty if numbers - src.words - dated else 1.0
            if sentence_scores and bool(negating & sentence_scores[0][1].words) != negated:
                penalty *= self.polarity_penalty
            elif sentence_scores and sentence_scores[0][0] >= 1.0:
                plan.exact.add(src.number)
            plan.penalty[src.number] = penalty
        cited_known = [n for n in cites if n in plan.lexical]
        for n in cited_known:
            if n in plan.exact:
                continue
            top = ranked[n]
            picked = [str(u.text) for _, u in top[: 1 if top and top[0][0] >= _STRONG_LEXICAL else 2]]
            title = sources_by_number[n].title
            plan.candidates[n] = picked + ([title] if title and title not in picked else [])
        if repair or not cited_known or max(plan.lexical[n] for n in cited_known) < _SURE_LEXICAL:
            others = sorted((n for n in plan.lexical if n not in cites), key=lambda n: -plan.lexical[n])
            for n in others[: self.repair_sources]:
                if plan.lexical[n] >= _REPAIR_LEXICAL and ranked[n] and n not in plan.exact:
                    plan.candidates[n] = [str(ranked[n][0][1].text)]
        return plan

    def support_matrix(
        self,
        texts: Sequence[str],
        sources: Sequence[Source],
        cited: Sequence[Iterable[int]] | None = None,
        *,
        repair: bool = True,
    ) -> list[dict[int, float]]:
        """Support (0..1) of each text by each source, embedding all that is needed in one call.

        Sources without a semantic candidate get their lexical part only: without
        word overlap they cannot reach a threshold anyway.
        """
        passage_cache: dict[str, list[_Unit]] = {}
        indexed = [_source_units(s, passage_cache) for s in sources]
        wanted = [set(c) for c in cited] if cited is not None else [set() for _ in texts]
        plans = [self._plan(t, indexed, c, repair) for t, c in zip(texts, wanted, strict=True)]
        needed = [t for t, plan in zip(texts, plans, strict=True) if plan.candidates]
        candidates = (t for plan in plans for ts in plan.candidates.values() for t in ts)
        unique = list(dict.fromkeys([*needed, *candidates]))
        vectors = self.cache.vectors(unique) if unique else np.zeros((0, 1), dtype=np.float32)
        position = {t: i for i, t in enumerate(unique)}
        w = self.lexical_weight
        out: list[dict[int, float]] = []
        for text, plan in zip(texts, plans, strict=True):
            scores: dict[int, float] = {}
            for number, lex in plan.lexical.items():
                sem = 1.0 if number in plan.exact else 0.0
                if plan.candidates.get(number):
                    cosines = vectors[[position[t] for t in plan.candidates[number]]] @ vectors[position[text]]
                    sem = self._semantic(float(cosines.max()))
                scores[number] = (w * lex + (1.0 - w) * sem) * plan.penalty[number]
            out.append(scores)
        return out

    # ------------------------------------------------------------ verification
    def verify(
        self,
        sentences: Sequence[tuple[str, Sequence[int]] | CitedSentence] | str,
        sources: Sequence[Source],
        *,
        drop_unsupported: bool = True,
        min_support: float | None = None,
    ) -> VerificationResult:
        """Keep supported sentences with correct citations; repair or drop (or flag) the rest.

        Never returns a citation number that is not one of ``sources``. The support
        score is the mean support of the kept claim sentences (flagged ones
        included, fixed connectives excluded); 0.0 when there are none.
        """
        items = split_cited_sentences(sentences) if isinstance(sentences, str) else list(sentences)
        pairs = [(s.text, tuple(s.citations)) if isinstance(s, CitedSentence) else (s[0], tuple(s[1])) for s in items]
        threshold = self.threshold if min_support is None else min_support
        attach = min(1.0, threshold + self.attach_margin)
        valid = {s.number for s in sources}
        by_number = {s.number: s for s in sources}

        kinds: list[str] = []
        to_score: list[int] = []
        for i, (text, _) in enumerate(pairs):
            if is_fixed_phrase(text):
                kinds.append("fixed")
            elif self._template(text, pairs[i][1], by_number) is not None:
                kinds.append("template")
            elif len(content_words(text)) < MIN_CLAIM_WORDS:
                # "CONFIRMED [1]": a word copied from a source is not a checkable statement, and is
                # exactly what a model that obeyed an instruction inside an article would write.
                kinds.append("fragment")
            else:
                kinds.append("claim")
                to_score.append(i)
        score_texts = [scoring_text(pairs[i][0]) for i in to_score]
        cited_valid = [[n for n in pairs[i][1] if n in valid] for i in to_score]
        matrix = self.support_matrix(score_texts, sources, cited_valid, repair=False) if sources and to_score else []
        scores_of = dict(zip(to_score, matrix, strict=True))

        result = VerificationResult(sentences=[])
        invalid_removed = moved = attached = trimmed = 0
        supports: list[float] = []
        for i, (text, cites) in enumerate(pairs):
            kind = kinds[i]
            good_cites = _dedupe(n for n in cites if n in valid)
            invalid = [n for n in cites if n not in valid]
            invalid_removed += len(invalid)
            if kind == "fixed":
                result.sentences.append(CitedSentence(text, (), 1.0, True))
                continue
            if kind == "fragment":
                result.dropped += 1
                continue
            if kind == "template":
                if good_cites:
                    result.sentences.append(CitedSentence(text, good_cites, 1.0, True))
                    if invalid:
                        result.repaired += 1
                else:
                    result.dropped += 1
                continue
            scores = scores_of.get(i, {})
            best = max(scores, key=lambda n: scores[n], default=None)
            best_score = scores[best] if best is not None else 0.0
            final: tuple[int, ...] = ()
            if good_cites:
                keep = tuple(n for n in good_cites if scores.get(n, 0.0) >= threshold)
                if keep:
                    final = keep
                    trimmed += len(good_cites) - len(keep)
                elif best is not None and best_score >= threshold:
                    final = (best,)
                    moved += 1
                    log.debug("moved citation %s → [%d] for %r", good_cites, best, text[:80])
            elif best is not None and best_score >= (threshold if invalid else attach):
                final = (best,)
                if invalid:
                    moved += 1
                else:
                    attached += 1
                log.debug("attached [%d] to %r", best, text[:80])
            outcome = self._fact_failure(scoring_text(text), final, by_number) if final else _FactOutcome()
            failure = outcome.failure
            if failure is not None:
                result.notes.append(f"Unsupported: “{text[:80]}” ({failure}).")
                log.debug("fact check failed for %r: %s", text[:80], failure)
                if drop_unsupported:
                    result.dropped += 1
                    continue
                support = max(scores.get(n, 0.0) for n in final)
                result.sentences.append(CitedSentence(text, final, support, False, (failure,)))
                supports.append(support)
                continue
            if final:
                support = max(scores.get(n, 0.0) for n in final)
                if outcome.doubtful:
                    result.doubtful.append(len(result.sentences))
                result.sentences.append(CitedSentence(text, final, support, True))
                supports.append(support)
                if final != tuple(cites):
                    result.repaired += 1
                continue
            if drop_unsupported:
                result.dropped += 1
                log.debug("dropped unsupported sentence %r (best %.2f)", text[:80], best_score)
                continue
            support = max((scores.get(n, 0.0) for n in good_cites), default=0.0)
            result.sentences.append(CitedSentence(text, good_cites, support, False))
            supports.append(support)
            if good_cites != tuple(cites):
                result.repaired += 1
        result.support_score = float(np.mean(supports)) if supports else 0.0
        result.notes = _notes(invalid_removed, moved, attached, trimmed) + result.notes
        return result

    @staticmethod
    def _template(text: str, cites: Sequence[int], sources: dict[int, Source]) -> re.Match[str] | None:
        """A fixed citing connective whose quotation, if any, comes from a cited source."""
        for pattern in _CITED_TEMPLATES:
            match = pattern.match(text)
            if match is None:
                continue
            quote = match.groupdict().get("quote")
            if quote is None:
                return match
            needle = " ".join(quote.lower().split())
            for n in cites:
                source = sources.get(n)
                if source is not None and any(needle in t for t in _source_texts(source)):
                    return match
            return None
        return None


def source_parts(source: Source) -> list[str]:
    """A source as the texts ingest parsed: its headline and its passages' sentences."""
    parts = [source.title] if source.title.strip() else []
    return parts + [s for p in source.passages for s in sentences_of(p.text)]


def _source_texts(source: Source) -> list[str]:
    texts = (source.title, *(p.text for p in source.passages))
    return [" ".join(strip_source_markers(t).lower().split()) for t in texts]


def _notes(invalid: int, moved: int, attached: int, trimmed: int) -> list[str]:
    notes: list[str] = []
    if invalid:
        notes.append(f"Removed {invalid} citation(s) to sources that do not exist.")
    if moved:
        notes.append(f"Re-attributed {moved} sentence(s) to the source that supports them.")
    if attached:
        notes.append(f"Added a citation to {attached} uncited sentence(s).")
    if trimmed:
        notes.append(f"Removed {trimmed} citation(s) to sources that do not support their sentence.")
    return notes
