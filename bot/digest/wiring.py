"""Builds a :class:`DigestService` from settings (the digest's counterpart of ``bot.wiring``)."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from bot.digest.db import DigestDatabase
from bot.digest.protocols import ClaimMatcherLike, Extractor, Verifier
from bot.digest.service import DigestOptions, DigestService
from bot.digest.summary import StorySummarizer
from bot.prompts import PromptLibrary
from bot.settings import Settings
from index.embeddings import NamedEmbeddings
from index.store import ChunkStore, make_client

DIGEST_PROMPT = "digest"


def digest_database_url(settings: Settings) -> str:
    """``FACTDESK_DATABASE_URL`` when set, else ``digests.sqlite3`` in the data dir."""
    return settings.database_url or f"sqlite:///{settings.digests_sqlite_path.resolve()}"


def default_summary_parts(embeddings: NamedEmbeddings) -> tuple[Extractor, Verifier]:
    """The answer package's extractive engine and citation verifier, sharing one vector cache."""
    from bot.answer.citations import CitationVerifier, VectorCache
    from bot.answer.extractive import ExtractiveEngine

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
            from bot.wiring import build_embeddings

            embeddings = build_embeddings(settings)
        client = make_client(settings.chroma_dir, settings.chroma_host, settings.chroma_port, settings.chroma_ssl)
        store = ChunkStore(client, settings.collection, embeddings)
    if extractor is None or verifier is None:
        default_extractor, default_verifier = default_summary_parts(store.embeddings)
        extractor = extractor or default_extractor
        verifier = verifier or default_verifier
    if claim_matcher is None and with_claims:
        from bot.wiring import build_claim_matcher

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
