"""Builds factdesk's parts from settings: the one place that knows how they fit together (digests included)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel

from bot.answer.chain import Answerer, TimelineSource
from bot.answer.extractive import ExtractiveEngine
from bot.answer.retrieval import HybridRetriever
from bot.core.llm import make_chat_model
from bot.core.prompts import PromptLibrary
from bot.core.protocols import ClaimMatcherLike
from bot.core.settings import Settings
from bot.digest.db import DigestDatabase
from bot.digest.protocols import Extractor, Verifier
from bot.digest.service import DigestOptions, DigestService
from bot.digest.summary import StorySummarizer
from bot.verify.citations import CitationVerifier, VectorCache
from bot.verify.disagreements import SourceDisagreements
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
    if not settings.database_url and not settings.digests_sqlite_path.exists():
        return None
    return build_digest_service(settings, store)


DIGEST_PROMPT = "digest"


def digest_database_url(settings: Settings) -> str:
    """``FACTDESK_DATABASE_URL`` when set, else ``digests.sqlite3`` in the data dir."""
    return settings.database_url or f"sqlite:///{settings.digests_sqlite_path.resolve()}"


def default_summary_parts(embeddings: NamedEmbeddings) -> tuple[Extractor, Verifier]:
    """The answer package's extractive engine and citation verifier, sharing one vector cache."""
    cache = VectorCache(embeddings)
    return ExtractiveEngine(embeddings, cache=cache), CitationVerifier(embeddings, cache=cache)


def build_digest_service(
    settings: Settings,
    store: ChunkStore | None = None,
    embeddings: NamedEmbeddings | None = None,
    *,
    chat_model: BaseChatModel | None = None,
    claim_matcher: ClaimMatcherLike | None = None,
    with_claims: bool = False,
    database: DigestDatabase | None = None,
    extractor: Extractor | None = None,
    verifier: Verifier | None = None,
    options: DigestOptions | None = None,
) -> DigestService:
    """Everything the digest needs; pass ``chat_model`` for LLM summaries, ``claim_matcher`` for ⚠ marks.

    ``with_claims`` builds the claim matcher from settings when none is passed.
    """
    if store is None:
        if embeddings is None:
            embeddings = build_embeddings(settings)
        client = make_client(settings.chroma_dir, settings.chroma_host, settings.chroma_port, settings.chroma_ssl)
        store = ChunkStore(client, settings.collection, embeddings)
    if extractor is None or verifier is None:
        default_extractor, default_verifier = default_summary_parts(store.embeddings)
        extractor = extractor or default_extractor
        verifier = verifier or default_verifier
    if claim_matcher is None and with_claims:
        claim_matcher = build_claim_matcher(settings, store.embeddings)
    prompt = PromptLibrary(settings.prompts_dir).get(DIGEST_PROMPT) if chat_model is not None else None
    summarizer = StorySummarizer(extractor, verifier, chat_model, prompt)
    return DigestService(
        store,
        database or DigestDatabase(digest_database_url(settings)),
        summarizer,
        timezone=settings.timezone,
        claim_matcher=claim_matcher,
        options=options,
    )
