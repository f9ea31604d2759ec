"""``factdesk doctor``: is this installation ready to serve? One line per check, each independent.

Nothing here builds the whole :class:`bot.app.Factdesk` (that would stop at the first broken part)
or changes anything: the database is not migrated, an absent index is not created. Each check
catches what its part raises and reports the reason on one line, with the setting to fix.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from bot.core.db.engine import database_url, make_engine, one_line
from bot.core.db.migrate import current_revision, head_revision
from bot.core.errors import FactdeskError
from bot.core.llm import describe_llm_error
from bot.core.settings import Settings
from bot.core.text.sanitize import clean_inline
from index.embeddings import NamedEmbeddings
from index.store import ChunkStore, make_client

log = logging.getLogger(__name__)

OK, WARN, FAIL = "ok", "warn", "FAIL"
DISCORD_API = "https://discord.com/api/v10"
# Application flags (developer portal "Privileged Gateway Intents"): message content, full or limited.
_MESSAGE_CONTENT_FLAGS = (1 << 18) | (1 << 19)
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{16,})\.([A-Za-z0-9_-]{4,})\.([A-Za-z0-9_-]{20,})$")


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str  # ok | warn | FAIL
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<9} {clean_inline(self.detail)}"  # server messages are untrusted


def run_checks(
    settings: Settings,
    embeddings: Callable[[], NamedEmbeddings],
    *,
    online: bool = True,
    discord_api: str = DISCORD_API,
) -> list[Check]:
    """Every check in order; ``embeddings`` is called only if the index is opened."""
    checks = [
        Check("settings", OK, _settings_summary(settings)),
        _guard("data dir", lambda: check_data_dir(settings)),
    ]
    if settings.chroma_host:
        checks.append(_guard("chroma", lambda: check_chroma_server(settings)))
    checks.append(_guard("index", lambda: check_index(settings, embeddings)))
    checks.append(_guard("database", lambda: check_database(settings)))
    checks.append(_guard("llm", lambda: check_llm(settings)))
    checks.append(_guard("discord", lambda: check_discord(settings, online=online, api=discord_api)))
    return checks


def _guard(name: str, check: Callable[[], tuple[str, str]]) -> Check:
    try:
        status, detail = check()
    except FactdeskError as exc:
        return Check(name, FAIL, str(exc))
    except Exception as exc:  # a doctor reports; it never crashes on what it examines
        log.debug("doctor check %s failed", name, exc_info=exc)
        return Check(name, FAIL, f"{type(exc).__name__}: {one_line(exc)}")
    return Check(name, status, detail)


def _settings_summary(settings: Settings) -> str:
    llm = f"LLM {settings.llm_model}" if settings.llm_enabled else "offline (no OPENAI_API_KEY)"
    return f"read; embedding {settings.embedding}, {llm}, {len(settings.feeds)} feeds"


def check_data_dir(settings: Settings) -> tuple[str, str]:
    folder = settings.data_dir.resolve()
    if folder.is_dir():
        if not os.access(folder, os.W_OK | os.X_OK):
            return FAIL, f"{folder} is not writable (FACTDESK_DATA_DIR)"
        return OK, f"{folder}"
    parent = _existing_parent(folder)
    if os.access(parent, os.W_OK | os.X_OK):
        return WARN, f"{folder} does not exist yet (created by factdesk ingest)"
    return FAIL, f"{folder} does not exist and {parent} is not writable (FACTDESK_DATA_DIR)"


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_chroma_server(settings: Settings) -> tuple[str, str]:
    where = f"{settings.chroma_host}:{settings.chroma_port}"
    try:
        client = make_client(None, settings.chroma_host, settings.chroma_port, settings.chroma_ssl)
        client.heartbeat()
    except Exception as exc:
        return FAIL, f"Chroma server {where} unreachable ({one_line(exc)}); start it or fix FACTDESK_CHROMA_HOST/_PORT"
    return OK, f"Chroma server {where} answers"


def check_index(settings: Settings, embeddings: Callable[[], NamedEmbeddings]) -> tuple[str, str]:
    if not settings.chroma_host and not settings.chroma_dir.exists():
        return FAIL, f"nothing is indexed yet in {settings.data_dir.resolve()}; run factdesk ingest"
    client = make_client(settings.chroma_dir, settings.chroma_host, settings.chroma_port, settings.chroma_ssl)
    store = ChunkStore(client, settings.collection, embeddings())
    articles, chunks = store.article_count(), store.chunk_count()
    if articles == 0:
        return FAIL, f"collection {settings.collection} is empty; run factdesk ingest"
    newest = max((r.published_at for r in store.get_records().values() if r.published_at), default=None)
    fresh = f", newest {newest.date().isoformat()}" if newest else ""
    return OK, f"{articles} articles, {chunks} chunks, model {store.embeddings.model_name}{fresh}"


def check_database(settings: Settings) -> tuple[str, str]:
    url = database_url(settings)
    if settings.database_url is None and not settings.database_path.exists():
        return WARN, f"{settings.database_path.resolve()} does not exist yet (created on first use)"
    engine = make_engine(url)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        current = current_revision(engine)
    except sa.exc.SQLAlchemyError as exc:
        return FAIL, f"cannot open {shown}: {one_line(exc)} (check FACTDESK_DATABASE_URL and that the server is up)"
    finally:
        engine.dispose()
    head = head_revision()
    if current == head:
        return OK, f"{shown} at migration {current} (latest)"
    if current is None:
        return WARN, f"{shown} has no tables yet (created on first use)"
    return WARN, f"{shown} at migration {current}, latest {head} (upgraded on the next start)"


def check_llm(settings: Settings) -> tuple[str, str]:
    """A 1-token chat request, no retries: a wrong key, model or URL shows here, not as silence."""
    if not settings.llm_enabled or settings.openai_api_key is None:
        return OK, "not configured: answers are extracted from the sources (set OPENAI_API_KEY for an LLM)"
    import openai

    client = openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
        max_retries=0,
    )
    where = settings.openai_base_url or "api.openai.com"
    try:
        client.chat.completions.create(
            model=settings.llm_model, messages=[{"role": "user", "content": "ping"}], max_tokens=1
        )
    except Exception as exc:
        return FAIL, f"{settings.llm_model} at {where}: {describe_llm_error(exc)}"
    finally:
        client.close()
    return OK, f"{settings.llm_model} at {where} answers"


def check_discord(settings: Settings, *, online: bool, api: str) -> tuple[str, str]:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        return WARN, "DISCORD_TOKEN not set (needed only by factdesk serve)"
    app_id = token_application_id(token)
    if app_id is None:
        return FAIL, "DISCORD_TOKEN does not look like a bot token; copy it again from the developer portal (Bot tab)"
    if not online:
        return OK, f"token format ok (application {app_id}); not checked online"
    try:
        response = httpx.get(f"{api}/applications/@me", headers={"Authorization": f"Bot {token}"}, timeout=10)
    except httpx.HTTPError as exc:
        return WARN, f"token format ok (application {app_id}); Discord unreachable ({one_line(exc)})"
    if response.status_code == 401:
        return FAIL, "Discord rejected DISCORD_TOKEN; reset and copy it again in the developer portal (Bot tab)"
    if response.status_code != 200:
        return WARN, f"token format ok; Discord answered HTTP {response.status_code}"
    flags = int(response.json().get("flags") or 0)
    content = bool(flags & _MESSAGE_CONTENT_FLAGS)
    if settings.mention_mode and not content:
        portal = "enable it in the developer portal (Bot tab)"
        return FAIL, f"FACTDESK_MENTION_MODE needs the Message Content Intent: {portal}"
    intent = "message content intent on" if content else "message content intent off (needed only for mention mode)"
    return OK, f"application {app_id}: token accepted, {intent}"


def token_application_id(token: str) -> str | None:
    """The application id a bot token's first part encodes (base64 of the digits), or None if malformed."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    first = match.group(1)
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return decoded if decoded.isdigit() else None
