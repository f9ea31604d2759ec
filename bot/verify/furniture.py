"""Page furniture: sentences that address the reader ("Read on for the full rundown", "Check back often").

Scraped pages carry such lines into article text. A list of phrases catches the ones it was
written for; the grammar catches the kind: a sentence whose main verb is an imperative (no
subject: "Sign up for alerts") or whose subject is the reader ("You can follow it live"), and
which states no fact (no named entity, number or date). Quotations are reported speech, not
furniture: "'Stop the war,' he said" has "said" as its main verb.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.verify.facts import TextAnalyzer

if TYPE_CHECKING:
    from spacy.tokens import Span

log = logging.getLogger(__name__)

_SUBJECTS = frozenset({"nsubj", "nsubjpass", "expl", "csubj"})
# Entity labels that make a sentence a statement of fact even when it addresses the reader.
# ("this morning" is a TIME in "Sign up for our morning newsletter": times are not facts here.)
_FACT_LABELS = frozenset({"PERSON", "GPE", "LOC", "FAC", "EVENT", "DATE", "MONEY", "PERCENT", "QUANTITY", "CARDINAL"})


def _addresses_reader(sentence: Span) -> bool:
    root = sentence.root
    if root.pos_ not in ("VERB", "AUX"):
        return False
    subjects = [c for c in root.children if c.dep_ in _SUBJECTS]
    if not subjects:
        return root.tag_ == "VB" and _opens(sentence, root.i)  # "Read on …", "Don't miss …"
    return any(s.lower_ in ("you", "yourself") for s in subjects)


def _opens(sentence: Span, index: int) -> bool:
    """Only punctuation, "do"/"not"/"please" and adverbs come before the verb at ``index``."""
    for token in sentence:
        if token.i >= index:
            return True
        if not (token.is_punct or token.is_space or token.pos_ in ("AUX", "PART", "ADV", "INTJ")):
            return False
    return True


class FurnitureFilter:
    """``is_furniture(text)``: every sentence of ``text`` addresses the reader and states no fact."""

    def __init__(self, analyzer: TextAnalyzer | None = None) -> None:
        self.analyzer = analyzer or TextAnalyzer()

    def is_furniture(self, text: str) -> bool:
        doc = self.analyzer.parse(text)
        sentences = list(doc.sents)
        if not sentences:
            return False
        if any(entity.label_ in _FACT_LABELS for entity in doc.ents):
            return False
        return all(_addresses_reader(s) for s in sentences)

    __call__ = is_furniture
