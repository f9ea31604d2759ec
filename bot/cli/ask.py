"""``factdesk ask``: one question, a cited answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from bot.cli.app import app, state, user_errors
from bot.wiring import build_answerer, build_claim_matcher, build_store, build_timelines
from index.clean import parse_datetime
from index.errors import InvalidInputError


def _when(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise InvalidInputError(f"--{name}: cannot read {value!r} as a date (use YYYY-MM-DD)")
    return parsed.astimezone(UTC)


@app.command()
@user_errors
def ask(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="Your question, in quotes."),
    source: str | None = typer.Option(None, "--source", help="Only this outlet, e.g. 'Reuters'."),
    since: str | None = typer.Option(None, "--since", help="Only articles published on/after this date."),
    until: str | None = typer.Option(None, "--until", help="Only articles published before this date."),
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
    answer = answerer.ask(question, outlet=source, since=_when(since, "since"), until=_when(until, "until"))
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        st.console.print(answer.render(), highlight=False, markup=False)
