"""Fact-level alignment of a statement with a source text, on spaCy annotations.

Word overlap and sentence embeddings cannot tell "TikTok" from "Tumblr" in an
otherwise identical sentence: both score near 1.0. What an edit changes is a
fact, so this module compares the statement's facts with the source's: every
named entity, number, date and content word (by lemma) of the statement must
occur in the source, and its negation must agree. The counts of what does not
align are the features of a small logistic model (``support_model.json``,
trained by ``python -m benchmarks.train_support`` leave-one-domain-out on the
SummEdits dev domains), and the names of what failed explain the verdict
("Tumblr not in [2]").

spaCy's pipeline and its parse cache live in :mod:`bot.core.text.nlp` (the index parses
passages there at ingest, so answering finds them parsed).
"""

from __future__ import annotations

import difflib
import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from bot.core.logistic import LogisticModel
from bot.core.text.dates import MONTH_NUMBERS
from bot.core.text.nlp import TextAnalyzer
from bot.core.text.numbers import SCALES

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

log = logging.getLogger(__name__)

DEFAULT_MODEL_FILE = Path(__file__).with_name("support_model.json")
# Parts of speech that carry a statement's content; the rest (determiners, auxiliaries, …) do not.
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM"})
FEATURES = (
    "n_novel",
    "frac_novel",
    "n_novel_propn",
    "n_novel_num",
    "n_novel_adj",
    "n_novel_verb",
    "n_novel_noun",
    "n_novel_ents",
    "negs_s",
    "neg_mismatch",
    "frac_novel_bigrams",
    "n_ents_new_word",
)


def _is_negation(token: Token) -> bool:
    """spaCy's own negation marks: the ``neg`` dependency ("not", "n't", "never") or negative polarity ("no")."""
    return token.dep_ == "neg" or "Neg" in token.morph.get("Polarity", [])


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


_AMOUNTS = frozenset({"MONEY", "PERCENT", "QUANTITY", "CARDINAL"})
_NUMBER = re.compile(r"^(\d[\d,]*(?:\.\d+)?)(k|m|mn|bn|b|tn)?$")


def _key(token: Token) -> str:
    """A token as compared across texts: lower case, no dots ("U.S." = "US"), months as numbers."""
    word = token.lower_.replace(".", "")
    month = MONTH_NUMBERS.get(word)
    return f"month:{month}" if month else word


def _numbers(tokens: Sequence[Token]) -> set[float]:
    """Values of the numbers among ``tokens``, scaled by a following "million"/"bn" ("$2.7 billion" = 2.7e9)."""
    values: set[float] = set()
    for i, token in enumerate(tokens):
        match = _NUMBER.match(token.lower_)
        if match is None:
            continue
        try:
            value = float(match.group(1).replace(",", ""))
        except ValueError:
            continue
        following = match.group(2) or (tokens[i + 1].lower_ if i + 1 < len(tokens) else "")
        values.add(value * SCALES.get(following, 1.0))
    return values


@dataclass(frozen=True, slots=True)
class SourceFacts:
    """What a source text offers a statement: its word keys, numbers, word pairs, sentences and their negation."""

    words: frozenset[str]
    numbers: frozenset[float]
    sentences: tuple[tuple[frozenset[str], bool], ...]  # content keys and negation of each sentence
    bigrams: frozenset[tuple[str, str]] = frozenset()  # adjacent lemmas, punctuation skipped

    @classmethod
    def of(cls, doc: Doc) -> SourceFacts:
        words = {_key(t) for t in doc} | {t.lemma_.lower() for t in doc}
        sentences = tuple(
            (frozenset(t.lemma_.lower() for t in sent if t.pos_ in CONTENT_POS), any(_is_negation(t) for t in sent))
            for sent in doc.sents
        )
        return cls(frozenset(words), frozenset(_numbers(list(doc))), sentences, frozenset(_bigrams(doc)))

    @classmethod
    def of_parts(cls, docs: Sequence[Doc]) -> SourceFacts:
        """One source parsed in parts (headline, sentences: the parses stored at ingest)."""
        parts = [cls.of(doc) for doc in docs]
        return cls(
            frozenset().union(*(p.words for p in parts)),
            frozenset().union(*(p.numbers for p in parts)),
            tuple(s for p in parts for s in p.sentences),
            frozenset().union(*(p.bigrams for p in parts)),
        )


def _bigrams(tokens: Doc | Span) -> list[tuple[str, str]]:
    """Adjacent word lemmas ("buy butter"): an edit inside a copied phrase breaks the pairs around it."""
    lemmas = [t.lemma_.lower() for t in tokens if not (t.is_punct or t.is_space)]
    return list(itertools.pairwise(lemmas))


@dataclass(frozen=True, slots=True)
class FactCheck:
    """How a statement aligns with one source: the model's features and what did not align."""

    features: dict[str, float]
    missing: tuple[str, ...]  # entities, numbers and dates the source never states
    negation_mismatch: bool

    @property
    def explanation(self) -> str:
        parts = list(self.missing[:5])
        if self.negation_mismatch:
            parts.append("negation")
        return ", ".join(parts)


def _found(token: Token, source: SourceFacts) -> bool:
    return _key(token) in source.words or token.lemma_.lower() in source.words


def _novel_word(token: Token, source: SourceFacts) -> bool:
    """A word of the statement the source never uses (numbers compared by value); stop words and punctuation aside."""
    if token.is_stop or token.is_punct or token.is_space:
        return False
    numbers = _numbers([token])
    return not _found(token, source) and not (numbers and numbers <= source.numbers)


def _entity_found(entity: Span, source: SourceFacts) -> bool:
    """Every word of the entity is in the source ("Trump" for "Donald Trump"), and every number by value."""
    numbers = _numbers(list(entity))
    if numbers and not numbers <= source.numbers:
        return False
    if numbers and entity.label_ in _AMOUNTS:
        return True  # "$2.7 billion" = "2.7bn dollars": the value is the fact, not the currency's spelling
    words = [t for t in entity if not _numbers([t]) and not t.is_punct and not t.is_stop and t.lower_ not in SCALES]
    return all(_found(t, source) for t in words)


def _negation_mismatch(statement: Doc, source: SourceFacts) -> bool:
    """The source sentence sharing most content with the statement differs from it in negation."""
    lemmas = {t.lemma_.lower() for t in statement if t.pos_ in CONTENT_POS}
    if not lemmas or not source.sentences:
        return False
    overlap, negated = max(((len(lemmas & words), neg) for words, neg in source.sentences), key=lambda x: x[0])
    if overlap < 2:
        return False
    return negated != any(_is_negation(t) for t in statement)


def align(statement: Doc, source: SourceFacts) -> FactCheck:
    """Compare the statement's entities, numbers, content lemmas and negation with the source's."""
    content = [t for t in statement if t.pos_ in CONTENT_POS and not t.is_stop and (t.is_alpha or t.like_num)]
    novel = [t for t in content if not _found(t, source) and not (_numbers([t]) and _numbers([t]) <= source.numbers)]
    novel_ents = [e for e in statement.ents if not _entity_found(e, source)]
    # An entity with any word the source lacks, amounts included ("salted butter", "20 euros" for "20 dollars").
    new_word_ents = [e for e in statement.ents if any(_novel_word(t, source) for t in e)]
    pairs = _bigrams(statement)
    loose_numbers = [t for t in novel if _numbers([t]) and t.ent_type_ == ""]
    negations = sum(1 for t in statement if _is_negation(t))
    mismatch = _negation_mismatch(statement, source)
    by_pos = {pos: sum(1 for t in novel if t.pos_ == pos) for pos in ("PROPN", "NUM", "ADJ", "VERB", "NOUN")}
    features = {
        "n_novel": float(len(novel)),
        "frac_novel": len(novel) / max(1, len(content)),
        "n_novel_propn": float(by_pos["PROPN"]),
        "n_novel_num": float(by_pos["NUM"]),
        "n_novel_adj": float(by_pos["ADJ"]),
        "n_novel_verb": float(by_pos["VERB"]),
        "n_novel_noun": float(by_pos["NOUN"]),
        "n_novel_ents": float(len(novel_ents)),
        "negs_s": float(negations),
        "neg_mismatch": float(mismatch),
        "frac_novel_bigrams": sum(1 for p in pairs if p not in source.bigrams) / max(1, len(pairs)),
        "n_ents_new_word": float(len(new_word_ents)),
    }
    missing = [e.text for e in novel_ents] + [t.text for t in loose_numbers]
    return FactCheck(features, tuple(dict.fromkeys(missing)), mismatch)


class SupportModel(LogisticModel):
    """A logistic model over :func:`align`'s features: P(the statement is consistent with the source)."""

    known_features: ClassVar[frozenset[str]] = frozenset(FEATURES)
    default_file: ClassVar[Path | None] = DEFAULT_MODEL_FILE


@dataclass(frozen=True, slots=True)
class FactVerdict:
    probability: float
    supported: bool
    check: FactCheck


class FactSupport:
    """Is a statement's every fact in a source? The verdict citation checks and ``eval summedits`` share."""

    def __init__(self, analyzer: TextAnalyzer | None = None, model: SupportModel | None = None) -> None:
        self.analyzer = analyzer or TextAnalyzer()
        self._model = model

    @cached_property
    def model(self) -> SupportModel:
        return self._model or SupportModel.load()

    def source_facts(self, source: str | Sequence[str]) -> SourceFacts:
        """``source`` as one text, or in parts (its headline and sentences, which ingest parsed)."""
        if isinstance(source, str):
            return SourceFacts.of(self.analyzer.parse(source))
        return SourceFacts.of_parts(self.analyzer.parse_many(source))

    def check(self, statement: str, source: str | Sequence[str], threshold: float | None = None) -> FactVerdict:
        facts = align(self.analyzer.parse(statement), self.source_facts(source))
        probability = self.model.probability(facts.features)
        limit = self.model.threshold if threshold is None else threshold
        return FactVerdict(probability, probability >= limit, facts)


# Entity labels whose values are slots of a statement: a different one in the same place is another fact.
# Names form one slot: the small model labels the same kind of name PERSON in one sentence and ORG
# (or nothing) in its altered twin ("Brock Purdy" ORG, "Dak Prescott" PERSON), so the role decides.
NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART"})
VALUE_LABELS = frozenset({"DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "CARDINAL"})
SLOT_LABELS = NAME_LABELS | VALUE_LABELS
_NAME = "NAME"


@dataclass(frozen=True, slots=True)
class SlotConflict:
    """Two aligned statements that fill one slot differently: ``label`` is "GPE", "MONEY", …"""

    label: str
    a: str
    b: str


def _is_absolute(entity: Span) -> bool:
    """A date or time that names a day, month, year or clock time ("7 April", "2028"), not "this week"."""
    return any(_numbers([t]) or _key(t).startswith("month:") for t in entity)


def untagged_names(doc: Doc) -> list[Span]:
    """Runs of proper nouns the entity recogniser left out ("Purdy has been scorching")."""
    runs: list[Span] = []
    start = None
    for token in [*doc, None]:
        inside = token is not None and token.pos_ == "PROPN" and not token.ent_type_
        if inside and start is None:
            start = token.i
        elif not inside and start is not None:
            runs.append(doc[start : token.i if token is not None else len(doc)])
            start = None
    return runs


def _slot_values(doc: Doc, slot: str) -> list[Span]:
    """The values filling one kind of slot: every name (tagged or not), or the values of one label."""
    if slot == _NAME:
        return [e for e in doc.ents if e.label_ in NAME_LABELS] + untagged_names(doc)
    values = [e for e in doc.ents if e.label_ == slot]
    return [e for e in values if _is_absolute(e)] if slot in ("DATE", "TIME") else values


def slot_conflict(a: Doc, b: Doc, min_shared: float = 0.6, min_words: int = 2) -> SlotConflict | None:
    """A different entity, number or date in the same role of two statements that otherwise align.

    "The same role" is spaCy's parse: the same relation to the same head word.

    The statements align when they share at least ``min_shared`` of the smaller one's
    content lemmas outside names and entities (and at least ``min_words`` of them). They
    conflict when, for one kind of slot (any name, tagged or not; or one value label),
    each has a value the other lacks ("Tampa, Florida" vs "Glendale, Arizona"). Values
    that merely add detail ("Trump" vs "Donald Trump", "$2.7 billion" vs "2.7bn dollars") align.
    """
    facts_a, facts_b = SourceFacts.of(a), SourceFacts.of(b)

    def frame(doc: Doc) -> set[str]:
        return {
            t.lemma_.lower()
            for t in doc
            if t.pos_ in CONTENT_POS and t.pos_ != "PROPN" and not t.is_stop and not t.ent_type_
        }

    words_a, words_b = frame(a), frame(b)
    if not words_a or not words_b:
        return None
    shared = len(words_a & words_b)
    if shared < min_words or shared / min(len(words_a), len(words_b)) < min_shared:
        return None
    for slot in (_NAME, *sorted(VALUE_LABELS)):
        only_a = [e for e in _slot_values(a, slot) if not _entity_found(e, facts_b)]
        only_b = [e for e in _slot_values(b, slot) if not _entity_found(e, facts_a)]
        for x in only_a:
            for y in only_b:
                if _role(x) == _role(y):
                    return SlotConflict(x.label_ or y.label_ or _NAME, x.text, y.text)
    return swapped_value(a, b)


def swapped_value(a: Doc, b: Doc, min_same: float = 0.8, max_span: int = 4) -> SlotConflict | None:
    """Two wordings of one sentence that differ only where a name or a number is replaced.

    The parse of two near-identical sentences can differ ("Purdy's been" is a passive subject,
    "Stafford's been" an active one) and the small model misses names ("Zhao's exit": a noun), so
    the role test above can miss a swap that a word-by-word alignment shows: every difference is a
    replacement of at most ``max_span`` words, one side a name (an entity or a proper noun) and the
    other capitalised, or both numbers of different value; at least ``min_same`` of the shorter
    sentence's words are identical. Added words ("Donald Trump" for "Trump") are detail, not a conflict.
    """
    ta = [t for t in a if not (t.is_punct or t.is_space)]
    tb = [t for t in b if not (t.is_punct or t.is_space)]
    if not ta or not tb:
        return None
    matcher = difflib.SequenceMatcher(a=[_key(t) for t in ta], b=[_key(t) for t in tb], autojunk=False)
    opcodes = matcher.get_opcodes()
    same = sum(i2 - i1 for tag, i1, i2, _, _ in opcodes if tag == "equal")
    changed = [(ta[i1:i2], tb[j1:j2]) for tag, i1, i2, j1, j2 in opcodes if tag != "equal"]
    if not changed or same < min_same * min(len(ta), len(tb)):
        return None
    if any(not x or not y or len(x) > max_span or len(y) > max_span for x, y in changed):
        return None  # an insertion or a deletion adds or drops detail
    labels = [_swap_label(x, y) for x, y in changed]
    if any(label is None for label in labels):
        return None
    x, y = changed[0]
    return SlotConflict(labels[0] or _NAME, " ".join(t.text for t in x), " ".join(t.text for t in y))


def _swap_label(x: Sequence[Token], y: Sequence[Token]) -> str | None:
    """The kind of slot where ``x`` was replaced by ``y``: a name, a number, or None (another word)."""

    def named(tokens: Sequence[Token]) -> bool:
        return any(t.pos_ == "PROPN" or t.ent_type_ in NAME_LABELS for t in tokens)

    def capitalised(tokens: Sequence[Token]) -> bool:
        words = [t for t in tokens if t.is_alpha]
        return bool(words) and all(t.text[:1].isupper() for t in words)

    if (named(x) and capitalised(y)) or (named(y) and capitalised(x)):
        return next((t.ent_type_ for t in (*x, *y) if t.ent_type_ in NAME_LABELS), _NAME)
    values_x, values_y = _numbers(list(x)), _numbers(list(y))
    if values_x and values_y and values_x != values_y:
        return next((t.ent_type_ for t in (*x, *y) if t.ent_type_ in VALUE_LABELS), "CARDINAL")
    return None


def _role(entity: Span) -> tuple[str, ...]:
    """Where the entity sits in its sentence: its relation and head ("in" of "played" for "in Tampa")."""
    root = entity.root
    head = root.head
    role: tuple[str, ...] = (root.dep_, head.lemma_.lower())
    if head.dep_ == "prep" and head.head is not head:
        role += (head.head.lemma_.lower(),)
    return role


def texts_conflict(a: str, b: str, analyzer: TextAnalyzer, max_pairs: int = 40) -> SlotConflict | None:
    """A conflict between two near-identical texts: a sentence one changed in a slot or in negation.

    Guards the near-duplicate merge: an altered copy ("Glendale, Arizona" for
    "Tampa, Florida") shares almost every shingle with the original, yet the two
    are not one story "also in" each other. Only sentences that differ are compared.
    """
    doc_a, doc_b = analyzer.parse(a), analyzer.parse(b)
    norm_a = {_norm(s.text) for s in doc_a.sents}
    norm_b = {_norm(s.text) for s in doc_b.sents}
    only_a = [s.as_doc() for s in doc_a.sents if _norm(s.text) not in norm_b]
    only_b = [s.as_doc() for s in doc_b.sents if _norm(s.text) not in norm_a]
    pairs = 0
    for x in only_a:
        for y in only_b:
            pairs += 1
            if pairs > max_pairs:
                return None
            found = slot_conflict(x, y)
            if found is not None:
                return found
            if _negation_mismatch(x, SourceFacts.of(y)):
                return SlotConflict("NEGATION", x.text, y.text)
    return None
