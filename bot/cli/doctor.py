"""``factdesk doctor``: one line per check of the installation; exit 1 when something is wrong."""

from __future__ import annotations

import typer

from bot.app.doctor import FAIL, Check, run_checks
from bot.cli.app import app, state
from bot.core.errors import ConfigError


@app.command()
def doctor(
    ctx: typer.Context,
    offline: bool = typer.Option(False, "--offline", help="Do not ask Discord about the token and intents."),
) -> None:
    """Check settings, data dir, index, Chroma server, database, LLM and Discord token; one line each."""
    st = state(ctx)
    try:
        settings = st.settings
    except ConfigError as exc:
        typer.echo(Check("settings", FAIL, str(exc)).line())
        raise typer.Exit(1) from None
    from bot.app.factdesk import build_embeddings

    checks = run_checks(settings, lambda: build_embeddings(settings), online=not offline)
    for check in checks:
        typer.echo(check.line())
    if any(check.status == FAIL for check in checks):
        raise typer.Exit(1)
