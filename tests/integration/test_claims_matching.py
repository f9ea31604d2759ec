"""ClaimMatcher on real embeddings, the lexical check, and the threshold calibration."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.claims.matching import (
    DEFAULT_MATCH_THRESHOLD,
    ClaimMatcher,
    lexical_check,
)
from bot.claims.service import Actor, ClaimsService
from bot.core.text.words import Analyzer
from index.embeddings import LocalMiniLMEmbeddings
from tests.conftest import TEST_DATA

DATA = TEST_DATA
MOD = Actor(id="1", name="mod")

TROOPS = "Trump rules out sending American troops to Ukraine as part of security guarantees."
HOSTAGES = "Hamas is holding 50 hostages in Gaza."
PASSAGES = [
    # 0: a paraphrase of TROOPS inside a longer passage
    "Talks continued in Paris on Tuesday. European leaders pressed for a plan. "
    "Speaking to reporters, U.S. President Donald Trump said he has ruled out deploying American troops "
    "to Ukraine as part of any security guarantee [1]. The Kremlin did not comment.",
    # 1: unrelated
    "Soho House is going private in a $2.7 billion deal. Shares rose 4 percent in early trading.",
    # 2: the negation of TROOPS
    "Trump did not rule out sending American troops to Ukraine as part of security guarantees.",
    # 3: same subject, different number
    "Officials said Hamas is holding 48 hostages in Gaza.",
]


class CountingEmbedder:
    """Wraps the real model and records every text it embeds."""

    def __init__(self, inner: LocalMiniLMEmbeddings) -> None:
        self.inner = inner
        self.model_name = inner.model_name
        self.seen: list[str] = []

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.embed_array(texts)


@pytest.fixture
def service(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> Iterator[ClaimsService]:
    svc = ClaimsService(f"sqlite:///{tmp_path / 'claims.sqlite3'}", embeddings, moderator_user_ids=["1"])
    yield svc
    svc.close()


def test_matcher_finds_a_paraphrase_and_ignores_unrelated_and_negated(
    service: ClaimsService, embeddings: LocalMiniLMEmbeddings
) -> None:
    troops = service.flag(MOD, TROOPS, "false")
    service.flag(MOD, HOSTAGES, "disputed")
    counting = CountingEmbedder(embeddings)
    matcher = ClaimMatcher(service, counting)

    matches = matcher.match(PASSAGES)

    assert [(m.passage_index, m.claim.id) for m in matches] == [(0, troops.id)]
    (match,) = matches
    assert match.sentence.startswith("Speaking to reporters, U.S. President Donald Trump")
    assert match.similarity >= DEFAULT_MATCH_THRESHOLD and match.overlap >= 0.5
    # Claim vectors come from the store: only sentences were embedded.
    assert TROOPS not in counting.seen and HOSTAGES not in counting.seen


def test_matcher_sees_new_flags_and_skips_resolved_claims(service: ClaimsService) -> None:
    matcher = ClaimMatcher(service, service.embedder)
    assert matcher.match(PASSAGES) == []
    claim = service.flag(MOD, TROOPS, "false")
    assert [m.claim.id for m in matcher.match(PASSAGES)] == [claim.id]
    service.resolve(MOD, claim.id, "done")
    assert matcher.match(PASSAGES) == []


def test_matcher_from_a_list_embeds_each_claim_once(service: ClaimsService, embeddings: LocalMiniLMEmbeddings) -> None:
    claim = service.flag(MOD, HOSTAGES, "disputed")
    bare = type(claim)(**{**{f: getattr(claim, f) for f in claim.__dataclass_fields__}, "embedding": None})
    counting = CountingEmbedder(embeddings)
    matcher = ClaimMatcher([bare], counting, threshold=0.7)
    text = "Israel says 50 hostages are still being held by Hamas in Gaza."
    assert [m.sentence for m in matcher.match([text])] == [text]
    matcher.match([text])
    assert counting.seen.count(HOSTAGES) == 1
    assert matcher.match(["Officials said Hamas is holding 48 hostages in Gaza."]) == []


def test_matcher_with_nothing_to_do() -> None:
    class Unused:
        model_name = "x"

        def embed_array(self, texts: Sequence[str]) -> np.ndarray:
            raise AssertionError("nothing should be embedded")

    assert ClaimMatcher([], Unused()).match(["Some text."]) == []


@pytest.mark.parametrize(
    ("claim", "sentence", "ok", "reason"),
    [
        (TROOPS, "U.S. President Trump rules out troops in Ukraine as security guarantees.", True, "ok"),
        (
            TROOPS,
            "Trump didn't rule out American troops in Ukraine as security guarantees.",
            False,
            "polarity",
        ),
        (HOSTAGES, "Hamas holds 48 hostages in Gaza.", False, "numbers"),
        (
            "Elon Musk bought Twitter for $44 billion.",
            "Elon Musk sold Twitter for $44 billion.",
            False,
            "opposite",
        ),
        (HOSTAGES, "Gaza's health ministry reported new casualties.", False, "shared words"),
    ],
)
def test_lexical_check(claim: str, sentence: str, ok: bool, reason: str) -> None:
    check = lexical_check(Analyzer.english(), claim, sentence)
    assert check.ok is ok
    assert reason in check.reason
