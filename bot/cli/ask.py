"""``factdesk ask``: one question, a cited answer."""

from __future__ import annotations

import json

import typer

from bot.cli.app import app, state, user_errors
from bot.core.text.sanitize import clean_untrusted


@app.command()
@user_errors
def ask(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="Your question, in quotes."),
    source: str | None = typer.Option(None, "--source", help="Only this outlet, e.g. 'Reuters'."),
    since: str | None = typer.Option(None, "--since", help="Only articles published since: 2025-04-03, 7d, 24h or 2w."),
    until: str | None = typer.Option(None, "--until", help="Only articles published before: 2025-04-05 or 1d."),
    as_json: bool = typer.Option(False, "--json", help="Answer, citations, sources, scores, timings, tokens."),
) -> None:
    """Answer a question from the indexed articles, citing every sentence."""
    st = state(ctx)
    answer = st.app.ask(question, outlet=source, since=since, until=until)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        st.console.print(clean_untrusted(answer.render()), highlight=False, markup=False)
