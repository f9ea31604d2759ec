"""``factdesk claims``: flag, list, show, update, resolve and export disputed claims.

The person at the server's shell acts as ``cli:<login>``; that id is a moderator when
``FACTDESK_CLI_IS_MODERATOR`` is true (the default), or pass ``--as`` a Discord user id
to act as that user. Permissions are still checked by the claims core.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from bot.claims.service import Actor, ClaimsService, ClaimView, SuggestionView
from bot.cli.app import State, app, plain, state, user_errors
from bot.core.text.sanitize import clean_inline

claims_app = typer.Typer(
    help="Moderate disputed claims (flags follow into answers and digests).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(claims_app, name="claims")

VERDICT_HELP = "disputed, false, misleading, unverified or accurate"


def _service(st: State, acting_as: str | None) -> tuple[ClaimsService, Actor]:
    settings = st.settings
    login = f"cli:{getpass.getuser()}"
    service = st.app.claims
    if acting_as is None and settings.cli_is_moderator:
        service.moderator_user_ids = service.moderator_user_ids | {login}
    who = clean_inline(acting_as) if acting_as is not None else login  # argv can carry undecodable bytes
    actor = Actor(id=who, name=who)
    return service, actor


def _print_claim(st: State, claim: ClaimView) -> None:
    table = Table(title=f"Claim #{claim.id} · {claim.verdict.upper()} · {claim.status}", show_header=False)
    table.add_column("field")
    table.add_column("value", overflow="fold")
    table.add_row("claim", plain(claim.text))
    table.add_row("note", plain(claim.note or "-"))
    table.add_row("evidence", plain("\n".join(claim.evidence_urls) or "-"))
    table.add_row("origin", plain(claim.origin or "-"))
    table.add_row("flagged", plain(f"{claim.flagged_at:%Y-%m-%d %H:%M} by {claim.flagged_by_name or claim.flagged_by}"))
    table.add_row("flags", str(claim.flag_count))
    st.console.print(table)


@claims_app.command("flag")
@user_errors
def flag(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="The claim, as it appears in the news."),
    verdict: str = typer.Option("disputed", "--verdict", help=VERDICT_HELP),
    note: str = typer.Option("", "--note", help="Why, in a sentence readers will see."),
    evidence: list[str] = typer.Option([], "--evidence", help="Evidence URL (repeatable)."),
    origin: str | None = typer.Option(None, "--origin", help="Where the claim was seen (URL or article id)."),
    acting_as: str | None = typer.Option(None, "--as", help="Act as this Discord user id."),
) -> None:
    """Flag a claim; a repeat flag of an open claim is merged into it."""
    st = state(ctx)
    service, actor = _service(st, acting_as)
    claim = service.flag(actor, text, verdict, note=note, evidence_urls=evidence, origin=origin)
    _print_claim(st, claim)


@claims_app.command("list")
@user_errors
def list_claims(
    ctx: typer.Context,
    status: str | None = typer.Option(None, "--status", help="open or resolved"),
    verdict: str | None = typer.Option(None, "--verdict", help=VERDICT_HELP),
) -> None:
    """Flagged claims, newest first."""
    st = state(ctx)
    service, _ = _service(st, None)
    table = Table(title="Claims")
    for column in ("id", "verdict", "status", "claim", "flagged"):
        table.add_column(column, overflow="fold")
    for claim in service.list(status=status, verdict=verdict):
        table.add_row(str(claim.id), claim.verdict, claim.status, plain(claim.text), f"{claim.flagged_at:%Y-%m-%d}")
    st.console.print(table)


@claims_app.command("show")
@user_errors
def show(ctx: typer.Context, claim_id: int = typer.Argument(...)) -> None:
    """One claim with its full audit history."""
    st = state(ctx)
    service, _ = _service(st, None)
    _print_claim(st, service.get(claim_id))
    table = Table(title="History")
    for column in ("when", "action", "by", "change", "note"):
        table.add_column(column, overflow="fold")
    for event in service.history(claim_id):
        change = describe_change(event.before, event.after)
        table.add_row(
            f"{event.at:%Y-%m-%d %H:%M}",
            event.action,
            plain(event.actor_name or event.actor),
            plain(change),
            plain(event.note),
        )
    st.console.print(table)


def describe_change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """``verdict: disputed → false`` lines for what an event changed, not its raw JSON."""
    if not after:
        return ""
    old = before or {}
    lines = []
    for key, value in after.items():
        if key in old and old[key] == value:
            continue
        shown = _value(value)
        lines.append(f"{key}: {_value(old[key])} → {shown}" if key in old else f"{key}: {shown}")
    return "\n".join(lines)


def _value(value: object) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@claims_app.command("update")
@user_errors
def update(
    ctx: typer.Context,
    claim_id: int = typer.Argument(...),
    verdict: str | None = typer.Option(None, "--verdict", help=VERDICT_HELP),
    note: str | None = typer.Option(None, "--note"),
    evidence: list[str] = typer.Option([], "--evidence", help="Replace the evidence URLs (repeatable)."),
    acting_as: str | None = typer.Option(None, "--as"),
) -> None:
    """Change a claim's verdict, note or evidence (recorded in the audit log)."""
    st = state(ctx)
    service, actor = _service(st, acting_as)
    claim = service.update(actor, claim_id, verdict=verdict, note=note, evidence_urls=evidence or None)
    _print_claim(st, claim)


@claims_app.command("resolve")
@user_errors
def resolve(
    ctx: typer.Context,
    claim_id: int = typer.Argument(...),
    note: str = typer.Option(..., "--note", help="Why the claim no longer needs a warning."),
    acting_as: str | None = typer.Option(None, "--as"),
) -> None:
    """Resolve a claim: warnings stop, the history stays."""
    st = state(ctx)
    service, actor = _service(st, acting_as)
    _print_claim(st, service.resolve(actor, claim_id, note))


@claims_app.command("export")
@user_errors
def export(
    ctx: typer.Context,
    out: Path | None = typer.Option(None, "--out", help="Write JSON-LD here instead of stdout."),
    publisher: str = typer.Option("factdesk", "--publisher", help="Organization named as the reviewer."),
) -> None:
    """All flagged claims as schema.org ClaimReview JSON-LD."""
    st = state(ctx)
    service, _ = _service(st, None)
    text = json.dumps(service.export_claimreview(publisher_name=publisher), indent=2, ensure_ascii=False)
    if out:
        out.write_text(text + "\n")
    else:
        typer.echo(text)


@claims_app.command("suggest")
@user_errors
def suggest(
    ctx: typer.Context,
    since: str = typer.Option("7d", "--since", help="Articles published since: 7d, 24h, 2w or 2025-04-01."),
) -> None:
    """Queue suggested flags where recent articles about the same story contradict each other."""
    st = state(ctx)
    found = st.app.suggest_flags(since)
    st.console.print(_suggestion_table(f"{len(found)} suggested flag(s) for moderators", found))


suggestions_app = typer.Typer(
    help="Suggested flags queued for moderators: list, accept, dismiss.", no_args_is_help=True, rich_markup_mode=None
)
claims_app.add_typer(suggestions_app, name="suggestions")


def _suggestion_table(title: str, items: list[SuggestionView]) -> Table:
    table = Table(title=title)
    for column in ("id", "kind", "statement", "vs", "status"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(
            str(item.id),
            item.kind,
            plain(f"{item.text_a}\n— {item.source_a or '?'}"),
            plain(f"{item.text_b or '-'}\n— {item.source_b or '?'}"),
            item.status,
        )
    return table


@suggestions_app.command("list")
@user_errors
def list_suggestions(ctx: typer.Context) -> None:
    """Pending suggested flags, oldest first (the Discord queue's Accept/Dismiss, from the shell)."""
    st = state(ctx)
    service, _ = _service(st, None)
    pending = service.pending_suggestions()
    st.console.print(_suggestion_table(f"{len(pending)} pending suggested flag(s)", pending))


@suggestions_app.command("accept")
@user_errors
def accept_suggestion(
    ctx: typer.Context,
    suggestion_id: int = typer.Argument(...),
    verdict: str = typer.Option("disputed", "--verdict", help=VERDICT_HELP),
    text: str | None = typer.Option(None, "--text", help="The claim to flag (default: the contradicted statement)."),
    acting_as: str | None = typer.Option(None, "--as", help="Act as this Discord user id."),
) -> None:
    """Flag the suggestion's claim and mark the suggestion accepted."""
    st = state(ctx)
    service, actor = _service(st, acting_as)
    _, claim = service.accept_suggestion(actor, suggestion_id, verdict, text=text)
    _print_claim(st, claim)


@suggestions_app.command("dismiss")
@user_errors
def dismiss_suggestion(
    ctx: typer.Context,
    suggestion_id: int = typer.Argument(...),
    acting_as: str | None = typer.Option(None, "--as", help="Act as this Discord user id."),
) -> None:
    """Dismiss a suggestion: nothing is flagged, the decision is recorded."""
    st = state(ctx)
    service, actor = _service(st, acting_as)
    item = service.dismiss_suggestion(actor, suggestion_id)
    st.console.print(f"suggestion #{item.id} dismissed", highlight=False, markup=False)
