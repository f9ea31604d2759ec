"""``factdesk ask``: one question, a cited answer."""

from __future__ import annotations

import json

import typer

from bot.app.wiring import build_answerer, build_claim_matcher, build_store, build_timelines
from bot.cli.app import app, state, user_errors
from bot.core.clock import parse_since, utc_now


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
    store = build_store(st.settings)
    answerer = build_answerer(
        st.settings,
        store,
        claim_matcher=build_claim_matcher(st.settings, store.embeddings),
        timelines=build_timelines(st.settings, store),
    )
    now, zone_name = utc_now(), st.settings.timezone
    answer = answerer.ask(
        question,
        outlet=source,
        since=parse_since(since, now, zone_name),
        until=parse_since(until, now, zone_name, option="--until"),
    )
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        st.console.print(answer.render(), highlight=False, markup=False)
