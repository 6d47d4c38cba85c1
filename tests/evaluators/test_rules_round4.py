"""The fourth round of rules (issue 16): the one form kept, on sentences written here, with near-misses.

None of these sentences comes from the labelled sets. The round kept a form only if it helped on
at least two of the five labelled sets and lowered no precision by more than 0.02 (README,
"Fourth round of rules").
"""

from __future__ import annotations

import pytest

from privy.evaluators.grounding import Context, accepts_offer, classify


def _acts(text: str, previous: str) -> set[str]:
    return set(classify(text, ctx=Context(after_question=previous.rstrip().endswith("?"), heard=True,
                                          previous=previous)))


@pytest.mark.parametrize(("previous", "text"), [
    ("I'll take the lamp, you keep both rugs.", "Works for me.\nDEAL: lamp=0 rug=2"),
    ("How about the lamp for you and the rugs for me?", "I accept. DEAL: lamp=1 rug=0"),
    ("Let's go with Quill, she chaired the audit.", "fine by me. DECIDE: Quill"),
    ("Quill for the post? DECIDE: Quill", "+1. DECIDE: Quill"),
    ("you get the rugs, i get the lamp", "sounds fair!! DEAL: lamp=0 rug=2"),
    ("My offer: the lamp to you, both rugs to me.", "Very well.\nDEAL: lamp=1 rug=0"),
    ("Let's settle on Orrin.", "lgtm. SELECT: Orrin Vale"),
])
def test_an_acceptance_committing_to_an_offer_just_heard_is_a_confirmation(previous: str, text: str) -> None:
    assert accepts_offer(text, previous)
    assert "confirmation" in _acts(text, previous)


@pytest.mark.parametrize(("previous", "text"), [
    # a receipt (SWBD-DAMSL bk), not an acceptance: the sets disagree on these, left as they were
    ("I'll take the lamp, you keep both rugs.", "Okay.\nDEAL: lamp=0 rug=2"),
    ("Let's go with Quill.", "Got it.\nDECIDE: Quill"),
    # an acceptance with no offer heard: it opens a negotiation
    ("My list is Orrin Vale and Tamsin Roe.", "Works for me. SELECT: Orrin Vale"),
    # an acceptance without a commitment in the message
    ("How about the lamp for you?", "Works for me, but what about the rugs?"),
    # negated, or asked
    ("I'll take the lamp, you keep both rugs.", "That doesn't work for me. DEAL: lamp=1 rug=0"),
    ("Let's go with Quill.", "Fine by me? DECIDE: Quill"),
    # a bare "fine" and a "yes" before a commitment: measured, not kept (they lowered precision elsewhere)
    ("How about the lamp for you?", "fine. DEAL: lamp=1 rug=0"),
    ("Is Orrin on your list?", "yes. SELECT: Orrin Vale"),
])
def test_near_misses_are_no_accepted_offer(previous: str, text: str) -> None:
    assert not accepts_offer(text, previous)


def test_no_previous_message_no_acceptance() -> None:
    assert not accepts_offer("Works for me. DEAL: lamp=0 rug=2", "")
    assert "confirmation" not in _acts("Works for me. DEAL: lamp=0 rug=2", "")
