"""The application object: every part of factdesk, assembled once from settings.

``Factdesk.from_settings(settings)`` is the one place that knows how the parts fit
together. The command line, the Discord bot and the evaluation receive a ``Factdesk``;
so can any other front end, or a script::

    from bot.app import Factdesk
    from bot.core.settings import load_settings

    with Factdesk.from_settings(load_settings()) as app:
        app.ingest(["samples/corpus"])
        print(app.ask("Is the Putin–Zelenskyy meeting scheduled?").render())
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType

from langchain_core.language_models import BaseChatModel
from sqlalchemy.engine import Engine

from bot.answer.chain import Answerer
from bot.answer.extractive import ExtractiveEngine
from bot.answer.models import Answer
from bot.answer.posts import AnswerPosts
from bot.answer.retrieval import HybridRetriever
from bot.app.admin import IndexAdmin
from bot.claims.matching import ClaimMatcher
from bot.claims.service import ClaimsService, SuggestionView
from bot.claims.suggest import Finder, RuleFinder, suggest_flags
from bot.core.clock import parse_since, utc_now
from bot.core.db.engine import open_database
from bot.core.llm import make_chat_model
from bot.core.prompts import PromptLibrary
from bot.core.settings import Settings
from bot.core.text.nlp import pipeline_id
from bot.digest.db import DigestDatabase
from bot.digest.models import Digest
from bot.digest.service import DigestService
from bot.digest.summary import StorySummarizer
from bot.digest.window import Window, resolve_window
from bot.verify.answerability import Answerability
from bot.verify.citations import CitationVerifier, VectorCache
from bot.verify.disagreements import SourceDisagreements
from bot.verify.facts import FactSupport, TextAnalyzer, texts_conflict
from bot.verify.furniture import FurnitureFilter
from bot.verify.llm_contradictions import LLMContradictionFinder
from bot.verify.llm_review import LLMReview
from index.annotations import Annotator, StoredAnnotations
from index.chunking import Chunker
from index.embeddings import NamedEmbeddings, make_embeddings
from index.fetch import Fetcher
from index.lexical import LexicalIndex
from index.pipeline import Indexer, IngestReport, ItemResult
from index.stats import IndexStats
from index.store import ChunkStore, make_client

log = logging.getLogger(__name__)

ANSWER_PROMPT = "answer"
DIGEST_PROMPT = "digest"
CONTRADICTIONS_PROMPT = "contradictions"
REVIEW_PROMPT = "verify"


def build_embeddings(settings: Settings) -> NamedEmbeddings:
    """The configured embedding model (local MiniLM, or OpenAI's)."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return make_embeddings(
        settings.embedding,
        batch_tokens=settings.embedding_batch_tokens,
        threads=settings.embedding_threads,
        window=settings.embedding_window,
        max_windows=settings.embedding_max_windows,
        openai_model=settings.openai_embedding_model,
        api_key=key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
    )


class Factdesk:
    """factdesk's parts, built once: store, indexer, answerer, digests, claims, contradiction finder, LLM.

    Every part is always there (offline, ``llm`` is None and the extractive engine and the rule
    contradiction finder do the work). Close it when done, or use it as a context manager.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        store: ChunkStore,
        indexer: Indexer,
        engine: Engine,
        claims: ClaimsService,
        claim_matcher: ClaimMatcher,
        contradictions: Finder,
        answerer: Answerer,
        digests: DigestService,
        extractive_digests: DigestService,
        admin: IndexAdmin,
        answer_posts: AnswerPosts,
        llm: BaseChatModel | None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embeddings = store.embeddings
        self.indexer = indexer
        self.engine = engine
        self.claims = claims
        self.claim_matcher = claim_matcher
        self.contradictions = contradictions
        self.answerer = answerer
        self.digests = digests
        self._extractive_digests = extractive_digests
        self.admin = admin
        self.answer_posts = answer_posts
        self.llm = llm
        self.clock = clock
        self._closed = False

    # ------------------------------------------------------------------ assembly
    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        embeddings: NamedEmbeddings | None = None,
        llm: BaseChatModel | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> Factdesk:
        """Everything from ``settings``; ``embeddings`` and ``llm`` replace the configured ones (tests, benchmarks).

        Without an ``llm`` the configured chat model is used, or none at all offline (no API key).
        """
        embeddings = embeddings or build_embeddings(settings)
        chat = llm if llm is not None else make_chat_model(settings)
        store = open_store(settings, embeddings)
        lexical = open_lexical(settings)
        # One spaCy pipeline: ingest's parses, support checks, disagreements, answerability.
        analyzer = TextAnalyzer(max_items=settings.nlp_cache_texts)
        indexer = Indexer(
            store=store,
            chunker=Chunker(settings.chunk_tokens, settings.chunk_overlap_tokens),
            embeddings=embeddings,
            lexical=lexical,
            near_duplicate_threshold=settings.near_duplicate_threshold,
            conflicts=_conflict_guard(analyzer),
            lock_path=settings.ingest_lock_path,
            annotator=Annotator(analyzer, processes=settings.nlp_processes) if settings.annotate_at_ingest else None,
        )
        prompts = PromptLibrary(settings.prompts_dir)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = open_database(settings)
        claims = ClaimsService(
            engine,
            embeddings,
            moderator_user_ids=settings.moderator_user_ids,
            moderator_role_ids=settings.moderator_role_ids,
            clock=clock,
            migrate=False,
        )
        matcher = ClaimMatcher(claims, embeddings)
        contradictions: Finder = (
            LLMContradictionFinder(chat, prompts.get(CONTRADICTIONS_PROMPT)) if chat is not None else RuleFinder()
        )
        # The verifier re-reads sentences the extractive engine just embedded: one cache for both.
        cache = VectorCache(embeddings)
        facts = FactSupport(analyzer)
        # Passages were parsed at ingest: answering reads those parses instead of parsing again.
        annotations = (
            StoredAnnotations(store, lambda: pipeline_id(facts.analyzer.nlp)) if settings.annotate_at_ingest else None
        )
        facts.analyzer.lookup = annotations
        answerability = Answerability(analyzer=facts.analyzer)
        extractive = ExtractiveEngine(embeddings, cache=cache, answer_types=answerability)
        verifier = CitationVerifier(embeddings, cache=cache, facts=facts)
        database = DigestDatabase(engine, migrate=False)

        retriever = HybridRetriever(store, lexical, embeddings, vectors=cache.vectors)

        def digest_service(model: BaseChatModel | None) -> DigestService:
            prompt = prompts.get(DIGEST_PROMPT) if model is not None else None
            return DigestService(
                store,
                database,
                StorySummarizer(
                    extractive,
                    verifier,
                    model,
                    prompt,
                    furniture=FurnitureFilter(facts.analyzer),
                    annotations=annotations,
                ),
                timezone=settings.timezone,
                claim_matcher=matcher,
                clock=clock,
                chunks_from=retriever,
            )

        digests = digest_service(chat)
        answerer = Answerer(
            retriever=retriever,
            prompts=prompts,
            extractive=extractive,
            verifier=verifier,
            llm=chat,
            claim_matcher=matcher,
            # Rules, not the LLM: a second model call per answer would double its cost and latency;
            # the LLM compares statements for moderators' suggested flags instead (app.contradictions).
            disagreements=SourceDisagreements(analyzer=facts.analyzer),
            also_in=also_in_lookup(store),
            timelines=digests,
            k=settings.retrieval_k,
            context_tokens=settings.context_tokens,
            max_question_chars=settings.max_question_chars,
            max_reply_tokens=settings.llm_max_tokens,
            answerability=answerability,
            clock=clock,
            empty_index=lambda: empty_index_message(settings, store),
            annotations=annotations,
            review=(
                LLMReview(chat, prompts.get(REVIEW_PROMPT), max_checks=settings.llm_review_max)
                if chat is not None and settings.llm_review
                else None
            ),
        )
        admin = IndexAdmin(
            store,
            indexer,
            lambda: build_fetcher(settings),
            claims,
            contradictions,
            max_source_bytes=settings.max_source_bytes,
            data_dir=None if settings.chroma_host else settings.data_dir,
            clock=clock,
        )
        return cls(
            settings,
            store=store,
            indexer=indexer,
            engine=engine,
            claims=claims,
            claim_matcher=matcher,
            contradictions=contradictions,
            answerer=answerer,
            digests=digests,
            extractive_digests=digest_service(None) if chat is not None else digests,
            admin=admin,
            answer_posts=AnswerPosts(engine, clock),
            llm=chat,
            clock=clock,
        )

    def close(self) -> None:
        """Release the database connections (the store needs no closing)."""
        if not self._closed:
            self.engine.dispose()
            self._closed = True

    def __enter__(self) -> Factdesk:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ Python API
    def ask(
        self,
        question: str,
        *,
        outlet: str | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> Answer:
        """A cited answer; ``since``/``until`` take datetimes or what ``--since`` takes (``7d``, ``2025-04-03``)."""
        return self.answerer.ask(
            question, outlet=outlet, since=self._moment(since, "--since"), until=self._moment(until, "--until")
        )

    def ingest(self, sources: Sequence[str], on_item: Callable[[ItemResult], None] | None = None) -> IngestReport:
        """Load, clean, chunk and index files, folders, URLs and feeds (safe to rerun)."""
        return self.admin.ingest(sources, on_item)

    def stats(self) -> IndexStats:
        return self.admin.stats()

    def window(self, since: str | None = None, day: str | None = None, now: datetime | None = None) -> Window:
        """The digest window ``--since``/``--date`` name (default: the last 24 hours)."""
        return resolve_window(since, day, now or self.clock(), self.settings.timezone)

    def digest(
        self,
        window: Window | None = None,
        *,
        since: str | None = None,
        day: str | None = None,
        topic: str | None = None,
        force: bool = False,
        extractive: bool = False,
    ) -> Digest:
        """The digest of ``window`` (or of ``since``/``day``), stored so asking again is instant."""
        service = self._extractive_digests if extractive else self.digests
        return service.get_or_create(window or self.window(since, day), topic=topic, force=force)

    def suggest_flags(self, since: datetime | str = "7d") -> list[SuggestionView]:
        """Queue suggested flags where recent articles contradict each other (the app's contradiction finder)."""
        start = self._moment(since, "--since") or self.clock()
        return suggest_flags(self.store, self.claims, start, self.contradictions)

    def _moment(self, value: datetime | str | None, option: str) -> datetime | None:
        if value is None or isinstance(value, datetime):
            return value
        return parse_since(value, self.clock(), self.settings.timezone, option=option)


def empty_index_message(settings: Settings, store: ChunkStore) -> str | None:
    """Why nothing can be answered when the store holds no article, naming where it looked; else None."""
    if store.article_count() > 0:
        return None
    if settings.chroma_host:
        where = f"collection {settings.collection} on {settings.chroma_host}:{settings.chroma_port}"
    else:
        where = f"{settings.data_dir.resolve()} (FACTDESK_DATA_DIR)"
    return f"nothing is indexed yet in {where}; run factdesk ingest <files, folders, URLs or feeds>"


def build_fetcher(settings: Settings) -> Fetcher:
    return Fetcher(
        timeout=settings.fetch_timeout,
        max_bytes=settings.max_source_bytes,
        max_redirects=settings.fetch_max_redirects,
        user_agent=settings.user_agent,
        allow_private=settings.fetch_allow_private_hosts,
    )


def open_store(settings: Settings, embeddings: NamedEmbeddings) -> ChunkStore:
    """The Chroma store; an embedded one can reopen itself when another process wrote to it."""
    client = make_client(settings.chroma_dir, settings.chroma_host, settings.chroma_port, settings.chroma_ssl)
    reopen = None if settings.chroma_host else (lambda: make_client(settings.chroma_dir, fresh=True))
    return ChunkStore(client, settings.collection, embeddings, reopen=reopen, shard_chunks=settings.chunk_shard_size)


def open_lexical(settings: Settings) -> LexicalIndex:
    """The tantivy lexical index; the bm25s sidecar of earlier versions is removed (the index is rebuilt)."""
    if settings.bm25_dir.exists():
        log.info("removing the old BM25 sidecar at %s; the lexical index is built from the store", settings.bm25_dir)
        shutil.rmtree(settings.bm25_dir, ignore_errors=True)
    return LexicalIndex(settings.lexical_dir)


def also_in_lookup(store: ChunkStore) -> Callable[[str], tuple[str, ...]]:
    """Outlets that carried a near-duplicate copy of an article (for source lines)."""

    def lookup(article_id: str) -> tuple[str, ...]:
        record = store.get_records([article_id]).get(article_id)
        return record.also_in if record else ()

    return lookup


def _conflict_guard(analyzer: TextAnalyzer) -> Callable[[str, str], bool]:
    """The near-duplicate merge's guard: spaCy is loaded only when a near-duplicate is found."""
    return lambda a, b: texts_conflict(a, b, analyzer) is not None
