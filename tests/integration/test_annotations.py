"""spaCy parses made at ingest and stored per chunk (real spaCy, MiniLM, Chroma).

Ingest stores each chunk's parse beside it and replaces or removes it with the chunk; a
question reads those parses and runs spaCy only on what was never stored (the question);
an index built before annotations still answers, the same, and the next ingest fills them in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Factdesk
from bot.core.errors import ConfigError
from bot.core.settings import Settings, load_settings
from bot.core.text.nlp import ANNOTATION_TEXTS_VERSION, TextAnalyzer, annotation_texts, docs_from_bytes, docs_to_bytes
from index.annotations import Annotator
from index.embeddings import LocalMiniLMEmbeddings
from index.store import ChunkStore
from tests.conftest import app_for
from tests.integration.test_index_store import BODY, ingest, write

PAGES = Path(__file__).resolve().parents[1] / "data" / "local_news"
QUESTIONS = (
    "What caused the Mill Lane fire?",
    "How many firefighters fought the warehouse fire?",
    "Who scored the winning penalty in the County Cup final?",
    "By how many votes did the council approve the budget?",
)


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


def _stored(store: ChunkStore, analyzer: TextAnalyzer) -> dict[str, list[str]]:
    """Chunk id -> the texts of its stored parse (every chunk of the store, annotated or not)."""
    records, _ = store.chunks()
    payloads = store.annotations([c.id for c in records], _pipeline(analyzer))
    return {cid: [d.text for d in docs_from_bytes(data, analyzer.nlp.vocab)] for cid, data in payloads.items()}


def _pipeline(analyzer: TextAnalyzer) -> str:
    from bot.core.text.nlp import pipeline_id

    return pipeline_id(analyzer.nlp)


def test_a_stored_parse_is_the_parse(analyzer: TextAnalyzer) -> None:
    texts = [
        "Transport director Lena Voss said the project stayed within its budget of 38 million pounds.",
        "The Kremlin did not confirm a date for the meeting in Geneva on 14 April.",
    ]
    fresh = [analyzer.nlp(t) for t in texts]
    back = docs_from_bytes(docs_to_bytes(fresh), analyzer.nlp.vocab)

    def view(doc: Any) -> list[tuple[object, ...]]:
        tokens = [
            (t.text, t.pos_, t.tag_, t.lemma_, t.dep_, t.head.i, t.ent_type_, t.ent_iob_, str(t.morph)) for t in doc
        ]
        return [*tokens, *((e.text, e.label_) for e in doc.ents), *((s.start, s.end) for s in doc.sents)]

    assert [view(d) for d in back] == [view(d) for d in fresh]
    assert any(t.dep_ == "neg" for t in back[1]) and {e.label_ for e in back[0].ents} >= {"PERSON", "MONEY"}


def test_ingest_stores_each_chunks_parse_and_replaces_it_on_reingest(
    settings: Settings, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, analyzer: TextAnalyzer
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "ferry", "Harbour ferry to start in June")
    write(folder, "tram", "Tram fares frozen", body=BODY.replace("ferry", "tram").replace("240", "180"))
    ingest(settings, embeddings, folder)
    store = app_for(settings, embeddings).store
    records = {c.id: c for c in store.chunks()[0]}
    stored = _stored(store, analyzer)
    assert set(stored) == set(records)
    for cid, texts in stored.items():
        assert texts == annotation_texts(records[cid].title, records[cid].text)

    write(folder, "ferry", "Harbour ferry delayed to July", body=BODY.replace("June", "July"))
    assert ingest(settings, embeddings, folder)["updated"] == 1
    store = app_for(settings, embeddings).store
    records = {c.id: c for c in store.chunks()[0]}
    stored = _stored(store, analyzer)
    assert set(stored) == set(records), "a replaced chunk's old parse is gone, the new one stored"
    ferry = [texts for cid, texts in stored.items() if records[cid].title == "Harbour ferry delayed to July"]
    assert ferry and any("July" in t for t in ferry[0]) and not any("June" in t for t in ferry[0])


def test_a_crash_before_the_parses_are_written_is_completed_on_rerun(
    settings: Settings,
    embeddings: LocalMiniLMEmbeddings,
    tmp_path: Path,
    analyzer: TextAnalyzer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "ferry", "Harbour ferry to start in June")

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed before the annotations were written")

    with monkeypatch.context() as patch:
        patch.setattr(ChunkStore, "upsert_annotations", crash)
        with pytest.raises(RuntimeError):
            ingest(settings, embeddings, folder)
    store = app_for(settings, embeddings).store
    assert {r.status for r in store.get_records().values()} == {"pending"}, "not complete without its parses"

    assert ingest(settings, embeddings, folder)["updated"] == 1, "the pending article is written again"
    store = app_for(settings, embeddings).store
    assert {r.status for r in store.get_records().values()} == {"complete"}
    assert set(_stored(store, analyzer)) == {c.id for c in store.chunks()[0]}


class _CountingPipeline:
    """The real spaCy pipeline, noting every text it is asked to parse."""

    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp
        self.texts: list[str] = []
        self.batches: list[int] = []

    def __call__(self, text: str) -> Any:
        self.texts.append(text)
        return self._nlp(text)

    def pipe(self, texts: Iterable[str], **kwargs: Any) -> Iterator[Any]:
        texts = list(texts)
        self.texts.extend(texts)
        self.batches.append(len(texts))
        return self._nlp.pipe(texts, **kwargs)  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._nlp, name)


@pytest.fixture(scope="module")
def local_news(tmp_path_factory: pytest.TempPathFactory, embeddings: LocalMiniLMEmbeddings) -> Path:
    data_dir = tmp_path_factory.mktemp("local-news-annotated")
    with Factdesk.from_settings(load_settings(None, data_dir=data_dir), embeddings=embeddings) as app:
        assert app.ingest([str(PAGES)]).count("added") == 3
    return data_dir


@pytest.fixture
def local_settings(local_news: Path, tmp_path: Path) -> Iterator[Settings]:
    target = tmp_path / "copy"
    shutil.copytree(local_news, target)
    yield load_settings(None, data_dir=target)


def _answers(settings: Settings, embeddings: LocalMiniLMEmbeddings) -> tuple[list[str], list[str], set[str]]:
    """Answers to QUESTIONS, the texts spaCy parsed for them, and every text stored for the passages."""
    with app_for(settings, embeddings) as app:
        analyzer = app.answerer.answerability.analyzer  # type: ignore[union-attr]
        counting = _CountingPipeline(analyzer.nlp)
        analyzer.__dict__["nlp"] = counting
        answers = [app.ask(q).text for q in QUESTIONS]
        stored = {t for c in app.store.chunks()[0] for t in annotation_texts(c.title, c.text)}
    return answers, counting.texts, stored


def test_answers_read_the_stored_parses_instead_of_parsing_passages(
    local_settings: Settings, embeddings: LocalMiniLMEmbeddings
) -> None:
    answers, parsed, stored = _answers(local_settings, embeddings)
    assert all(answers)
    assert set(QUESTIONS) <= set(parsed), "questions are parsed when asked"
    assert not set(parsed) & stored, "no stored passage text is parsed again"


def test_an_index_without_parses_answers_the_same_and_the_next_ingest_adds_them(
    local_settings: Settings, embeddings: LocalMiniLMEmbeddings, analyzer: TextAnalyzer
) -> None:
    with_parses, _, stored = _answers(local_settings, embeddings)
    with app_for(local_settings, embeddings) as app:  # an index built before annotations existed
        app.store.delete_annotations([c.id for c in app.store.chunks()[0]])
        assert not _stored(app.store, analyzer)

    without, parsed, _ = _answers(local_settings, embeddings)
    assert without == with_parses
    assert set(parsed) & stored, "without stored parses the passages are parsed when asked"

    with app_for(local_settings, embeddings) as app:
        report = app.ingest([str(PAGES)])
        assert report.count("unchanged") == 3
        assert set(_stored(app.store, analyzer)) == {c.id for c in app.store.chunks()[0]}
    _, parsed, stored = _answers(local_settings, embeddings)
    assert not set(parsed) & stored


def test_a_complete_index_is_not_rescanned_but_a_missing_parse_is_found(
    local_settings: Settings, embeddings: LocalMiniLMEmbeddings, analyzer: TextAnalyzer
) -> None:
    with app_for(local_settings, embeddings) as app:
        pipeline = _pipeline(analyzer)
        assert app.store.annotations_complete(pipeline)
        assert not app.store.annotations_complete("another-model-1.0")
        one = sorted(_stored(app.store, analyzer))[0]
        app.store.delete_annotations([one])  # an ingest killed before its parses were written
        assert not app.store.annotations_complete(pipeline)
        assert app.store.unannotated_chunk_ids(pipeline) == [one]


def test_the_package_id_is_the_loaded_pipelines_id(analyzer: TextAnalyzer) -> None:
    from bot.core.text.nlp import package_pipeline_id

    assert package_pipeline_id(analyzer.model) == _pipeline(analyzer)
    assert Annotator(TextAnalyzer()).pipeline == _pipeline(analyzer), "the same id without loading spaCy here"


def test_texts_are_parsed_shortest_first_and_returned_in_order(analyzer: TextAnalyzer) -> None:
    from bot.core.text.nlp import parse_all

    texts = ["A much longer sentence about the council budget of 38 million pounds.", "Short one.", "Mid length text."]
    docs = parse_all(analyzer.nlp, texts)
    assert [d.text for d in docs] == texts
    assert [(t.dep_, t.head.i, t.ent_type_) for t in docs[0]] == [
        (t.dep_, t.head.i, t.ent_type_) for t in analyzer.nlp(texts[0])
    ]


class _Lookup:
    """Parses "stored" for some texts, noting which texts were looked up."""

    def __init__(self, docs: dict[str, Any]) -> None:
        self.docs = docs
        self.asked: list[str] = []

    def doc(self, text: str, vocab: Any) -> Any:
        self.asked.append(text)
        return self.docs.get(text)


def test_parse_many_looks_up_stored_parses_and_parses_the_rest_in_one_batch(analyzer: TextAnalyzer) -> None:
    stored_text = "The council approved the budget on Tuesday."
    stored = analyzer.nlp(stored_text)
    counting = _CountingPipeline(analyzer.nlp)
    fresh = TextAnalyzer(lookup=_Lookup({stored_text: stored}))
    fresh.__dict__["nlp"] = counting
    texts = ["Firefighters from Leeds fought the blaze.", stored_text, "Rain is expected.", "Rain is expected."]

    docs = fresh.parse_many(texts)

    assert [d.text for d in docs] == texts
    assert docs[1] is stored, "a stored parse is used as it is"
    assert counting.batches == [2] and counting.texts == [texts[0], texts[2]], "the rest in one batch, each once"
    assert [(t.lemma_, t.ent_type_) for t in docs[0]] == [(t.lemma_, t.ent_type_) for t in analyzer.nlp(texts[0])]
    assert fresh.parse(texts[2]) is docs[2] and counting.batches == [2], "then cached"


def test_typed_candidates_are_parsed_once_in_one_batch_even_without_a_cache(analyzer: TextAnalyzer) -> None:
    from bot.verify.answerability import Answerability

    counting = _CountingPipeline(analyzer.nlp)
    uncached = TextAnalyzer(max_items=0)
    uncached.__dict__["nlp"] = counting
    check = Answerability(analyzer=uncached)
    needs = check.needs("Who scored the winning penalty in the County Cup final?")
    sentences = ["Mara Quinn scored the winning penalty.", "The final was played in the rain.", "Rovers won 2-1."]

    found = check.answers_in(needs, sentences)

    assert found[0] == "Mara Quinn" and found[1] is None
    assert counting.batches[-1] == 3 and counting.texts.count(sentences[0]) == 1


def test_the_package_id_is_read_without_importing_spacy() -> None:
    """An ingest with nothing to parse checks its stored parses' id without spaCy's ~1 s import."""
    probe = (
        "import sys; from bot.core.text.nlp import package_pipeline_id; "
        "print(package_pipeline_id()); print('spacy' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert shown[0].startswith("en_core_web_sm") and shown[0].endswith(f"/texts{ANNOTATION_TEXTS_VERSION}")
    assert shown[1] == "False"


def test_a_missing_model_package_is_a_config_error() -> None:
    from bot.core.text.nlp import package_pipeline_id

    with pytest.raises(ConfigError, match="not installed"):
        package_pipeline_id("no_such_spacy_model_pkg")
