"""``factdesk digest``: the news of a day or of the last hours, as stories with cited summaries."""

from __future__ import annotations

import json

import typer

from bot.cli.app import app, state, user_errors
from bot.core.clock import parse_now
from bot.core.errors import InvalidInputError
from bot.digest.window import resolve_window

FORMATS = ("md", "json")


@app.command()
@user_errors
def digest(
    ctx: typer.Context,
    since: str | None = typer.Option(None, "--since", help="A span before now: 24h, 90m, 2d, 1w (default 24h)."),
    date: str | None = typer.Option(None, "--date", help="A calendar day YYYY-MM-DD in the configured timezone."),
    topic: str | None = typer.Option(None, "--topic", help="Only stories about this topic."),
    output: str = typer.Option("md", "--format", help="md (Markdown) or json."),
    force: bool = typer.Option(False, "--force", help="Make the digest again even if one is stored."),
    now: str | None = typer.Option(None, "--now", help="Pretend it is this ISO time (for --since windows)."),
    extractive: bool = typer.Option(False, "--extractive", help="Never use the LLM, even if one is configured."),
) -> None:
    """Cluster the window's articles into stories and print a cited digest (stored, so reruns are instant)."""
    from bot.app.wiring import build_digest_service
    from bot.core.llm import make_chat_model

    if output.lower() not in FORMATS:
        raise InvalidInputError(f"--format {output!r}: use md or json")
    settings = state(ctx).settings
    window = resolve_window(since, date, parse_now(now), settings.timezone)
    chat_model = None if extractive else make_chat_model(settings)
    service = build_digest_service(settings, chat_model=chat_model, with_claims=True)
    result = service.get_or_create(window, topic=topic, force=force)
    if output.lower() == "json":
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(result.to_markdown())
