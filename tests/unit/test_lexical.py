"""The tantivy lexical index: chunk and best-sentence scores, incremental replace, filters inside the search."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from index.lexical import LexicalIndex
from index.models import ChunkFilter
from index.store import ChunkRecord

APRIL_2 = datetime(2025, 4, 2, tzinfo=UTC)
APRIL_9 = datetime(2025, 4, 9, tzinfo=UTC)


def chunk(
    cid: str, article: str, text: str, outlet: str = "Harbour Post", when: datetime | None = APRIL_2
) -> ChunkRecord:
    return ChunkRecord(cid, article, 0, text, 0, len(text), 10, f"Title of {article}", outlet, None, when)


def test_terms_are_what_bm25s_made_of_a_text(tmp_path: Path) -> None:
    """Same analysis as the bm25s sidecar it replaces: its 33 English stop words out, Snowball stems."""
    index = LexicalIndex(tmp_path / "lex")
    assert index.terms("The regulators were fining the airlines over it") == ["regul", "were", "fine", "airlin", "over"]


def test_replace_is_incremental_and_deletes_the_old_version(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex")
    index.replace([], [chunk("a:0", "a", "The ferry starts in June."), chunk("b:0", "b", "Cup final tonight.")], 1, "s")
    assert index.generation == 1 and index.chunk_count() == 2
    index.replace(["a"], [chunk("a:0", "a", "The ferry starts in September.")], 2, "s")
    assert index.chunk_count() == 2, "the article's old documents were deleted, not duplicated"
    assert not index.top_chunks(index.terms("June"), 5)
    assert [h.chunk_id for h in index.top_chunks(index.terms("September ferry"), 5)] == ["a:0"]
    reopened = LexicalIndex(tmp_path / "lex")
    assert reopened.generation == 2 and reopened.outlets() == ["Harbour Post"]


def test_best_sentence_scores_find_the_sentence(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex")
    repeating = "Regulators praised the airline. Flights were full. Cancelled plans were rare, regulators said."
    saying = "The port reopened. Regulators fined the airline over cancelled flights. Cafes filled up."
    index.replace([], [chunk("r:0", "r", repeating), chunk("s:0", "s", saying)], 1, "s")
    terms = index.terms("Was the airline fined by regulators over cancelled flights?")
    best = index.best_sentence_scores(terms, ["r:0", "s:0"])
    assert best["s:0"] > 1.5 * best["r:0"], "one sentence of s:0 holds every word"
    assert set(index.chunk_scores(terms, ["r:0"])) == {"r:0"}


def test_filters_apply_inside_the_search(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex")
    index.replace(
        [],
        [
            chunk("a:0", "a", "Strike at the glass factory.", outlet="Harbour Post", when=APRIL_2),
            chunk("b:0", "b", "Strike at the glass factory ends.", outlet="Alpine Courier", when=APRIL_9),
            chunk("c:0", "c", "Strike at the glass factory, undated.", outlet="Alpine Courier", when=None),
        ],
        1,
        "s",
    )
    terms = index.terms("glass factory strike")
    alpine = index.top_chunks(terms, 10, ChunkFilter(outlets=("Alpine Courier",)))
    assert {h.chunk_id for h in alpine} == {"b:0", "c:0"}
    since = ChunkFilter(ts_min=int(datetime(2025, 4, 5, tzinfo=UTC).timestamp()))
    assert [h.chunk_id for h in index.top_chunks(terms, 10, since)] == ["b:0"]
    until = ChunkFilter(ts_max=int(APRIL_9.timestamp()))  # exclusive: April 9 itself is out
    assert {h.chunk_id for h in index.top_chunks(terms, 10, until)} == {"a:0", "c:0"}
    assert index.count(ChunkFilter(outlets=())) == 0 and index.count(None) == 3
    assert (ChunkFilter(outlets=("Harbour Post",)) & ChunkFilter(outlets=("Alpine Courier",))).empty


def test_an_index_of_another_format_is_reset(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex")
    index.replace([], [chunk("a:0", "a", "Ferry news.")], 3, "s")
    (tmp_path / "lex" / "state.json").write_text('{"format": 0}')
    again = LexicalIndex(tmp_path / "lex")
    assert again.generation == -1 and again.chunk_count() == 0, "an unreadable state is rebuilt, never half-read"
