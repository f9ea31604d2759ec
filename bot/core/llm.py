"""The chat model: any OpenAI-compatible endpoint through langchain-openai.

The openai SDK underneath retries 429, 5xx, connection errors and timeouts with
exponential backoff (``max_retries``); when it still fails, the answerer falls
back to the extractive engine.
"""

from __future__ import annotations

import httpx
import openai
from langchain_core.language_models import BaseChatModel

from bot.core.settings import Settings

# What "the LLM is unavailable" looks like, after the SDK's own retries.
LLM_UNAVAILABLE: tuple[type[BaseException], ...] = (
    openai.APIConnectionError,
    openai.APITimeoutError,
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APIStatusError,
    httpx.HTTPError,
    TimeoutError,
    ConnectionError,
)
# ... plus a reply that cannot be read: HTTP 200 with a body that is not JSON (JSONDecodeError),
# JSON of the wrong shape (langchain-openai raises TypeError, ValueError, or IndexError for an
# empty "choices"; ValueError for a stream without one chunk). Caught only around the model call.
LLM_FAILED: tuple[type[BaseException], ...] = (
    *LLM_UNAVAILABLE,
    openai.APIResponseValidationError,
    ValueError,
    TypeError,
    LookupError,
)


def describe_llm_error(exc: BaseException) -> str:
    """One line saying why the LLM failed and what to check (a wrong key must not look like an outage)."""
    if isinstance(exc, openai.AuthenticationError):
        return "HTTP 401: the server rejected the API key; check OPENAI_API_KEY"
    if isinstance(exc, openai.PermissionDeniedError):
        return "HTTP 403: the API key may not use this model; check OPENAI_API_KEY and FACTDESK_LLM_MODEL"
    if isinstance(exc, openai.NotFoundError):
        return "HTTP 404: no such model or endpoint; check FACTDESK_LLM_MODEL and OPENAI_BASE_URL"
    if isinstance(exc, openai.RateLimitError):
        return "HTTP 429: rate limited or out of quota"
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return "timed out; FACTDESK_LLM_TIMEOUT sets the limit"
    if isinstance(exc, openai.APIConnectionError | httpx.ConnectError | ConnectionError):
        return "cannot connect; check OPENAI_BASE_URL and that the server is up"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code} from the server"
    detail = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}{': ' + detail if detail else ''}"


def make_chat_model(
    settings: Settings,
    http_client: httpx.Client | None = None,
    http_async_client: httpx.AsyncClient | None = None,
) -> BaseChatModel | None:
    """The configured chat model, or None when no API key is set (offline mode)."""
    if not settings.llm_enabled or settings.openai_api_key is None:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.llm_model,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        # Sent as OpenAI's ``max_completion_tokens``; other OpenAI-compatible servers (llama.cpp,
        # older vLLM, Ollama, LM Studio) read ``max_tokens``, and without a cap a small local model
        # caught in a loop was measured writing 4,992 tokens (five minutes) for one answer.
        max_completion_tokens=settings.llm_max_tokens,
        extra_body={"max_tokens": settings.llm_max_tokens} if settings.openai_base_url else None,
        # No ``streaming=`` here: an explicit ``streaming=False`` makes langchain-core refuse to stream
        # even in ``astream`` (Answerer.astream would get the whole reply as one delta). invoke() does not stream.
        stream_usage=True,
        http_client=http_client,
        http_async_client=http_async_client,
    )
