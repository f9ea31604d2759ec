"""Claim moderation through the real claims core: permissions, the message menu, suggestions, audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest

from bot.discord.bot import FactdeskBot
from tests.discord_fakes.factories import AUDIT_ID, MOD_ROLE_ID, MOD_USER_ID, MODS_ID, READER_ID
from tests.discord_fakes.harness import Harness, make_bot, make_settings, running
from tests.discord_fakes.services import FakeAnswerer, make_answer
from tests.discord_fakes.transport import ApiCall, mentions_nothing

CLAIM = "The Geneva summit was confirmed for 14 April"
FOLLOWUP = "POST /webhooks/{webhook_id}/{webhook_token}"
MODAL = discord.InteractionResponseType.modal


def build(tmp_path: Path, **overrides: Any) -> FactdeskBot:
    settings = make_settings(tmp_path / "data", **overrides)
    return make_bot(settings, FakeAnswerer(make_answer()))


def reply(calls: list[ApiCall]) -> ApiCall:
    """The last thing the user saw: an interaction response or follow-up (not the audit post)."""
    return [c for c in calls if c.sends_message and "/channels/" not in c.route][-1]


def audit_posts(h: Harness) -> list[str]:
    return [c.content for c in h.api.channel_posts(AUDIT_ID)]


@pytest.mark.asyncio
async def test_non_moderator_flag_is_refused_by_the_core_ephemerally(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path), monkeypatch) as h:
        calls = await h.slash("flag", text=CLAIM, verdict="false", user_id=READER_ID)
        assert h.bot.claims.list() == []
        assert audit_posts(h) == []
    assert calls[0].payload == {"type": 5, "data": {"flags": 64}}  # deferred ephemerally
    assert calls[-1].route == FOLLOWUP and calls[-1].ephemeral
    assert calls[-1].content == "only moderators can flag claims"  # PermissionDeniedError's text


@pytest.mark.asyncio
async def test_moderators_flag_by_user_id_or_role_and_it_is_audited(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path), monkeypatch) as h:
        calls = await h.slash(
            "flag",
            text=CLAIM,
            verdict="false",
            note="No date agreed",
            evidence_url="https://kremlin.example/s",
            user_id=MOD_USER_ID,
        )
        by_role = await h.slash(
            "flag", text="Talks moved to Vienna", verdict="disputed", user_id=77, roles=[MOD_ROLE_ID]
        )
        claims = h.bot.claims.list()
        audit = audit_posts(h)
    assert [(c.text, c.verdict.value) for c in claims] == [
        (CLAIM, "false"),
        ("Talks moved to Vienna", "disputed"),
    ]
    assert claims[0].evidence_urls == ("https://kremlin.example/s",)
    assert reply(calls).ephemeral and reply(calls).content == "Flagged as claim #1."
    assert reply(calls).embeds[0]["title"] == "Claim #1 · FALSE"
    assert reply(by_role).content == "Flagged as claim #2."
    assert len(audit) == 2 and audit[0].endswith(f"({MOD_USER_ID}) flagged claim #1 as false.")


@pytest.mark.asyncio
async def test_core_validation_errors_are_shown(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path), monkeypatch) as h:
        calls = await h.slash("flag", text=CLAIM, verdict="false", evidence_url="not a url", user_id=MOD_USER_ID)
    assert calls[-1].ephemeral and calls[-1].content == "evidence URL 'not a url' is not an http(s) URL"


@pytest.mark.asyncio
async def test_claims_list_show_update_resolve(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path), monkeypatch) as h:
        await h.slash("flag", text=CLAIM, verdict="disputed", user_id=MOD_USER_ID)
        listed = await h.slash("claims")
        shown = await h.slash("show", group="claim", claim_id=1)
        refused = await h.slash("update", group="claim", claim_id=1, verdict="false", user_id=READER_ID)
        updated = await h.slash(
            "update",
            group="claim",
            claim_id=1,
            verdict="false",
            evidence_url="https://a.example/1",
            user_id=MOD_USER_ID,
        )
        await h.slash("update", group="claim", claim_id=1, evidence_url="https://b.example/2", user_id=MOD_USER_ID)
        resolved = await h.slash("resolve", group="claim", claim_id=1, note="Corrected at source", user_id=MOD_USER_ID)
        missing = await h.slash("show", group="claim", claim_id=99)
        open_now = await h.slash("claims", status="open")
        final = h.bot.claims.get(1)
        audit = audit_posts(h)

    assert listed[0].ephemeral and listed[0].embeds[0]["title"] == "1 open claim"
    assert not shown[0].ephemeral and shown[0].embeds[0]["title"] == "Claim #1 · DISPUTED"
    assert reply(refused).content == "only moderators can update claims"
    assert reply(updated).embeds[0]["title"] == "Claim #1 · FALSE"
    assert final.evidence_urls == (
        "https://a.example/1",
        "https://b.example/2",
    )  # evidence is added, not replaced
    assert reply(resolved).embeds[0]["title"] == "Claim #1 · FALSE (resolved)"
    assert missing[0].ephemeral and missing[0].content == "no claim #99"
    assert open_now[0].embeds[0]["description"] == "No claims."
    assert len(audit) == 4 and "resolved claim #1: Corrected at source" in audit[-1]


@pytest.mark.asyncio
async def test_message_menu_opens_a_prefilled_modal_with_the_message_as_origin(
    tmp_path: Path, monkeypatch: Any
) -> None:
    async with running(build(tmp_path), monkeypatch) as h:
        message = h.user_message("Breaking: the summit is confirmed for Geneva on 14 April!", mention_bot=False)
        refused = await h.message_menu("Flag as disputed", message, user_id=READER_ID)
        opened = await h.message_menu("Flag as disputed", message, user_id=MOD_USER_ID)
        modal = h.last_modal()
        defaults = {c.text: getattr(c.component, "default", None) for c in modal.children}  # type: ignore[attr-defined]
        verdict = [o.value for o in modal.children[1].component.options if o.default]  # type: ignore[attr-defined]
        await h.submit(modal, {"Note for readers": "Not confirmed"}, user_id=MOD_USER_ID)
        claims = h.bot.claims.list()
    assert refused[0].ephemeral and refused[0].content == "only moderators can flag claims"
    assert opened[0].response_type is MODAL
    assert defaults["Claim"] == "Breaking: the summit is confirmed for Geneva on 14 April!"
    assert verdict == ["disputed"]
    assert len(claims) == 1 and claims[0].verdict.value == "disputed"
    assert (
        claims[0].origin
        == f"https://discord.com/channels/{message['guild_id']}/{message['channel_id']}/{message['id']}"
    )


@pytest.mark.asyncio
async def test_suggestions_are_posted_once_and_accept_dismiss_work(tmp_path: Path, monkeypatch: Any) -> None:
    async with running(build(tmp_path), monkeypatch) as h:
        claims: Any = h.bot.claims  # the real ClaimsService (suggest() is not part of ClaimsLike)
        first = claims.suggest(
            "date",
            "Talks set for 14 April.",
            "[1] Harbour",
            "No date has been set.",
            "[2] Northline",
            "Dates differ.",
        )
        second = claims.suggest(
            "negation",
            "The bridge is open.",
            "[3] Gazette",
            "The bridge is closed.",
            "[4] Post",
            "Open vs closed.",
        )
        cog = h.bot.get_cog("Moderation")
        assert await cog.post_pending_suggestions() == 2  # type: ignore[union-attr]
        assert await cog.post_pending_suggestions() == 0  # type: ignore[union-attr]
        posts = h.api.channel_posts(MODS_ID)
        assert [p.embeds[0]["footer"]["text"] for p in posts] == [
            f"suggestion #{first.id} · pending",
            f"suggestion #{second.id} · pending",
        ]
        assert all(mentions_nothing(p.allowed_mentions) for p in posts)

        # a restart: the new cog finds what was posted in the channel's history and posts nothing
        await h.bot.reload_extension("bot.discord.cogs.moderation")
        assert await h.bot.get_cog("Moderation").post_pending_suggestions() == 0  # type: ignore[union-attr]

        first_message = int(posts[0].response["id"])
        refused = await h.click(first_message, "Dismiss", user_id=READER_ID)
        accepted = await h.click(first_message, "Accept (flag as disputed)", user_id=MOD_USER_ID)
        dismissed = await h.click(int(posts[1].response["id"]), "Dismiss", user_id=MOD_USER_ID)
        flagged = claims.list()
        pending = claims.pending_suggestions()
        audit = audit_posts(h)

    assert reply(refused).ephemeral and reply(refused).content == "only moderators can dismiss suggestions"
    assert accepted[0].payload == {"type": 6}  # deferred update of the suggestion message
    edit = next(c for c in accepted if c.route.endswith("@original"))
    assert edit.body["components"] == [] and "accepted as claim #1" in edit.text()
    assert [(c.text, c.verdict.value) for c in flagged] == [("No date has been set.", "disputed")]
    assert pending == [] and "dismissed" in reply(dismissed).text()
    assert len(audit) == 2 and "accepted suggestion" in audit[0] and "dismissed suggestion" in audit[1]
