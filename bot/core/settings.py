"""The one typed settings object, read from the environment and an optional ``.env`` file.

Nothing is read at import time: call :func:`load_settings` (the CLI does, once).
"""

from __future__ import annotations

import json
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from bot.core.errors import ConfigError

# The top-level ``prompts/`` folder, installed beside ``bot/`` (package data of the wheel), so a
# pip-installed factdesk finds them as an editable checkout does.
PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


class Settings(BaseSettings):
    """All of factdesk's knobs; environment names are ``FACTDESK_<NAME>`` unless noted."""

    model_config = SettingsConfigDict(
        env_prefix="FACTDESK_",
        env_file=None,
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
    )

    # --- storage -----------------------------------------------------------------
    data_dir: Path = Field(Path(".factdesk"), description="Folder for the index, the lexical index and databases.")
    collection: str = Field("articles", description="Chroma collection name.")
    chroma_host: str | None = Field(None, description="Chroma server host; empty = embedded store.")
    chroma_port: int = Field(8000, description="Chroma server port.")
    chroma_ssl: bool = Field(False, description="Use HTTPS for the Chroma server.")

    # --- ingest ------------------------------------------------------------------
    chunk_tokens: int = Field(256, ge=32, le=2048, description="Max tokens per chunk (cl100k).")
    chunk_overlap_tokens: int = Field(32, ge=0, le=512, description="Overlap between chunks.")
    max_source_bytes: int = Field(5_000_000, ge=1_000, description="Largest file or download accepted.")
    fetch_timeout: float = Field(15.0, gt=0, description="Seconds per HTTP fetch.")
    fetch_max_redirects: int = Field(5, ge=0, le=20)
    user_agent: str = Field("factdesk/0.1 (+https://github.com/factdesk)")
    near_duplicate_threshold: float = Field(
        0.6, gt=0, le=1, description="Shingle Jaccard above which two articles are one wire story."
    )

    # --- embeddings --------------------------------------------------------------
    embedding: Literal["local", "openai"] = Field("local", description="local MiniLM or OpenAI.")
    openai_embedding_model: str = "text-embedding-3-small"
    embedding_batch_tokens: int = Field(
        128, ge=8, le=65536, description="Padded WordPiece tokens per onnxruntime call (short texts share a call)."
    )
    embedding_threads: int = Field(0, ge=0, description="onnxruntime threads; 0 = all cores.")
    embedding_window: int = Field(128, ge=16, le=256, description="WordPiece tokens embedded per text window.")
    embedding_max_windows: int = Field(1, ge=1, le=8, description="Windows per text (mean-pooled).")
    chunk_shard_size: int = Field(
        20_000,
        ge=1,
        description="Chunks per Chroma collection shard: an ingest opens only the shard it writes to.",
    )
    annotate_at_ingest: bool = Field(
        True, description="Parse chunks with spaCy at ingest, read those parses when answering; else parse when asked."
    )
    nlp_processes: int = Field(0, ge=0, le=64, description="spaCy worker processes at ingest; 0 = all cores.")
    nlp_cache_texts: int = Field(
        256, ge=0, le=1_000_000, description="spaCy parses kept in memory (sentences recur across questions)."
    )

    # --- LLM ---------------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "FACTDESK_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "FACTDESK_OPENAI_BASE_URL")
    )
    llm_model: str = Field("gpt-4o-mini", description="Chat model name on the OpenAI-compatible server.")
    llm_temperature: float = Field(0.0, ge=0, le=2)
    llm_timeout: float = Field(30.0, gt=0)
    llm_max_retries: int = Field(3, ge=0, le=10)
    llm_max_tokens: int = Field(
        800, ge=16, le=16384, description="Longest reply the chat model may write; a model stuck in a loop stops here."
    )
    llm_review: bool = Field(
        False,
        description="Ask the chat model to re-check drafted sentences the fact rules doubt (prompts/verify.yaml).",
    )
    llm_review_max: int = Field(3, ge=1, le=20, description="At most this many review calls per answer.")

    # --- answering ---------------------------------------------------------------
    prompts_dir: Path = Field(PROMPTS_DIR)
    retrieval_k: int = Field(10, ge=1, le=50)
    context_tokens: int = Field(3000, ge=256, le=100_000, description="Token budget for sources in a prompt.")
    max_question_chars: int = Field(1000, ge=10, le=20_000)

    # --- claims and digests ------------------------------------------------------
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir.")
    moderator_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    moderator_role_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    cli_is_moderator: bool = Field(True, description="The shell user of `factdesk claims` acts as a moderator.")
    timezone: str = Field("UTC", description="IANA zone for digests and 'today'.")

    # --- Discord -----------------------------------------------------------------
    discord_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DISCORD_TOKEN", "FACTDESK_DISCORD_TOKEN")
    )
    discord_guild_id: int | None = None
    digest_channel_id: int | None = None
    moderator_channel_id: int | None = None
    audit_channel_id: int | None = None
    digest_time: time = Field(time(8, 0))
    mention_mode: bool = False
    ask_rate_per_minute: int = Field(5, ge=1)
    feeds: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="RSS/Atom feed URLs polled by the bot."
    )
    # Hosts (names, IPs or CIDR networks) a feed or article URL may resolve to although they are
    # private or loopback: a self-hoster's LAN or container-network feed. Empty: public addresses only.
    fetch_allow_private_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    feed_poll_minutes: float = Field(30.0, ge=1)

    @field_validator("chroma_host", "openai_base_url", "database_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("moderator_user_ids", "moderator_role_ids", "feeds", "fetch_allow_private_hosts", mode="before")
    @classmethod
    def _list_from_text(cls, value: object) -> object:
        """A list setting written as JSON (``[1, 2]``) or as plain text (``1,2`` or ``1 2``)."""
        return split_list(value) if isinstance(value, str) else value

    @field_validator("database_url", mode="after")
    @classmethod
    def _postgres_driver(cls, value: str | None) -> str | None:
        """``postgres://`` (Heroku, many hosts) and driverless ``postgresql://`` mean psycopg 3."""
        if value is None:
            return None
        return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", value.strip())

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def bm25_dir(self) -> Path:
        """Where versions before the lexical index kept the bm25s sidecar (removed on first start)."""
        return self.data_dir / "bm25"

    @property
    def lexical_dir(self) -> Path:
        """The tantivy lexical index (local to this machine, also with a Chroma server)."""
        return self.data_dir / "lexical"

    @property
    def ingest_lock_path(self) -> Path:
        """One ingest at a time per data dir."""
        return self.data_dir / "ingest.lock"

    @property
    def manifest_url(self) -> str:
        return f"sqlite:///{(self.data_dir / 'manifest.sqlite3').resolve()}"

    @property
    def database_path(self) -> Path:
        """The SQLite database (claims, digest history, posted answers) unless ``database_url`` is set."""
        return self.data_dir / "factdesk.sqlite3"

    @property
    def legacy_digests_path(self) -> Path:
        """Where versions before the one database kept the digest history (imported once, then renamed)."""
        return self.data_dir / "digests.sqlite3"


def split_list(text: str) -> list[Any]:
    """``[1, 2]`` as JSON, else ``1,2`` / ``1, 2`` / ``1 2`` split on commas and spaces."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            loaded = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a JSON list ({exc.msg}); write 1,2 or [1, 2]") from None
        if not isinstance(loaded, list):
            raise ValueError("expected a list; write 1,2 or [1, 2]")
        return loaded
    return [part for part in re.split(r"[,\s]+", stripped) if part]


def load_settings(env_file: Path | None = Path(".env"), **overrides: Any) -> Settings:
    """Settings from the environment, then ``env_file`` if it exists, then explicit overrides."""
    env = env_file if env_file is not None and env_file.exists() else None
    try:
        return Settings(_env_file=env, **overrides)  # type: ignore[call-arg]
    except SettingsError as exc:  # a value pydantic-settings could not even parse
        raise ConfigError(f"invalid settings: {' '.join(str(exc).split())[:300]}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "FACTDESK_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(f"invalid setting {name}: {first['msg']} (got {first.get('input')!r})") from exc
