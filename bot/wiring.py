"""Builds factdesk's parts from settings: the one place that knows how they fit together."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel

from bot.answer.chain import Answerer, TimelineSource
from bot.answer.citations import CitationVerifier, VectorCache
from bot.answer.disagreements import SourceDisagreements
from bot.answer.extractive import ExtractiveEngine
from bot.answer.llm import make_chat_model
from bot.answer.retrieval import HybridRetriever
from bot.claims.protocols import ClaimMatcherLike
from bot.prompts import PromptLibrary
from bot.settings import Settings
from bot.verify.facts import FactSupport, TextAnalyzer, texts_conflict
from index.bm25 import BM25Index
from index.chunking import Chunker
from index.embeddings import NamedEmbeddings, make_embeddings
from index.fetch import Fetcher
from index.pipeline import Indexer
from index.store import ChunkStore, make_client

if TYPE_CHECKING:
    from bot.claims.matching import ClaimMatcher
    from bot.claims.service import ClaimsService
    from bot.digest.service import DigestService


def build_embeddings(settings: Settings) -> NamedEmbeddings:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return make_embeddings(
        settings.embedding,
        batch_size=settings.embedding_batch_size,
        threads=settings.embedding_threads,
        window=settings.embedding_window,
        max_windows=settings.embedding_max_windows,
        openai_model=settings.openai_embedding_model,
        api_key=key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
    )


def build_store(settings: Settings, embeddings: NamedEmbeddings | None = None) -> ChunkStore:
    client = make_client(settings.chroma_dir, settings.chroma_host, settings.chroma_port, settings.chroma_ssl)
    return ChunkStore(client, settings.collection, embeddings or build_embeddings(settings))


def build_fetcher(settings: Settings) -> Fetcher:
    return Fetcher(
        timeout=settings.fetch_timeout,
        max_bytes=settings.max_source_bytes,
        max_redirects=settings.fetch_max_redirects,
        user_agent=settings.user_agent,
    )


def build_indexer(settings: Settings, store: ChunkStore | None = None) -> Indexer:
    store = store or build_store(settings)
    return Indexer(
        store=store,
        chunker=Chunker(settings.chunk_tokens, settings.chunk_overlap_tokens),
        embeddings=store.embeddings,
        bm25_dir=settings.bm25_dir,
        near_duplicate_threshold=settings.near_duplicate_threshold,
        conflicts=_conflict_guard(),
    )


def _conflict_guard() -> Callable[[str, str], bool]:
    """The near-duplicate merge's guard: spaCy is loaded only when a near-duplicate is found."""
    analyzer = TextAnalyzer()
    return lambda a, b: texts_conflict(a, b, analyzer) is not None


def load_bm25(settings: Settings, store: ChunkStore) -> BM25Index:
    """The BM25 sidecar matching the store, rebuilt first if missing or stale."""
    current = BM25Index.load(settings.bm25_dir)
    if current is None or current.stamp != store.generation():
        build_indexer(settings, store).refresh_bm25(bump=False)
        current = BM25Index.load(settings.bm25_dir)
    if current is None:  # pragma: no cover - refresh_bm25 just wrote it
        raise RuntimeError("BM25 sidecar could not be built")
    return current


def build_retriever(settings: Settings, store: ChunkStore) -> HybridRetriever:
    return HybridRetriever(store, lambda: load_bm25(settings, store), store.embeddings)


def also_in_lookup(store: ChunkStore) -> Callable[[str], tuple[str, ...]]:
    """Outlets that carried a near-duplicate copy of an article (for source lines)."""

    def lookup(article_id: str) -> tuple[str, ...]:
        record = store.get_records([article_id]).get(article_id)
        return record.also_in if record else ()

    return lookup


def build_answerer(
    settings: Settings,
    store: ChunkStore | None = None,
    llm: BaseChatModel | None = None,
    claim_matcher: ClaimMatcherLike | None = None,
    timelines: TimelineSource | None = None,
) -> Answerer:
    """The answering chain with everything it needs; ``llm`` defaults to the configured model."""
    store = store or build_store(settings)
    embeddings = store.embeddings
    prompts = PromptLibrary(settings.prompts_dir)
    cache = VectorCache(embeddings)  # the verifier re-reads sentences the extractive engine just embedded
    facts = FactSupport()  # one spaCy pipeline for support checks and source disagreements
    return Answerer(
        retriever=build_retriever(settings, store),
        prompts=prompts,
        extractive=ExtractiveEngine(embeddings, cache=cache),
        verifier=CitationVerifier(embeddings, cache=cache, facts=facts),
        llm=llm if llm is not None else make_chat_model(settings),
        claim_matcher=claim_matcher,
        # Rules, not the LLM: a second model call per answer would double its cost and latency;
        # the LLM compares statements for moderators' suggested flags instead (claims suggest).
        disagreements=SourceDisagreements(analyzer=facts.analyzer),
        also_in=also_in_lookup(store),
        timelines=timelines,
        k=settings.retrieval_k,
        context_tokens=settings.context_tokens,
        max_question_chars=settings.max_question_chars,
    )


def build_claims(settings: Settings, embeddings: NamedEmbeddings) -> ClaimsService:
    """The claims service on the configured database (created and migrated on first use)."""
    from bot.claims.service import ClaimsService

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return ClaimsService.from_settings(settings, embeddings)


def build_claim_matcher(settings: Settings, embeddings: NamedEmbeddings) -> ClaimMatcher | None:
    """A matcher over open flagged claims, or None when no claims database exists yet."""
    if not settings.database_url and not settings.claims_sqlite_path.exists():
        return None
    from bot.claims.matching import ClaimMatcher

    return ClaimMatcher(build_claims(settings, embeddings), embeddings)


def build_timelines(settings: Settings, store: ChunkStore) -> DigestService | None:
    """Story timelines from the digest history, or None before the first digest was made."""
    from bot.digest.wiring import build_digest_service

    if not settings.database_url and not settings.digests_sqlite_path.exists():
        return None
    return build_digest_service(settings, store)
