"""hallucinated_common_ground, rule 3: "as Bob said" is checked against what Bob actually said."""

from __future__ import annotations

import asyncio

from helpers.play import play, scenario

from privy import evaluators
from privy.evaluators.base import Score
from privy.simulator.episode import Episode

SCENARIO = """
id: trio
title: three people, two facts
agents:
  - {id: ann, name: Ann Lee, goal: find the friend}
  - {id: bob, name: Bob, goal: find the friend}
  - {id: cy, name: Cy, goal: find the friend}
facts:
  - {id: a_tess, text: "Tess Moreau: a chef.", holders: [ann], mentions: [Tess Moreau]}
  - {id: b_ivan, text: "Ivan Petrov: a pilot.", holders: [bob], mentions: [Ivan Petrov]}
task: {kind: select, answer: Tess Moreau}
"""


def _score(ep: Episode) -> Score:
    return asyncio.run(evaluators.create("hallucinated_common_ground").evaluate(ep))


def _flagged(ep: Episode) -> list[tuple[int, str | None]]:
    return [(f.message_id or 0, f.fact_id) for f in _score(ep).findings]


def test_credit_to_a_participant_who_said_it_is_fine() -> None:
    s = scenario(SCENARIO)
    ep = play(s, "I know Tess Moreau.", "Not me.", "As Ann said, Tess Moreau is the one.")
    assert _flagged(ep) == []
    ep = play(s, "I know Tess Moreau.", "Not me.", "According to Ann Lee, Tess Moreau is the one.")
    assert _flagged(ep) == []


def test_credit_to_a_participant_who_never_said_it_is_flagged() -> None:
    s = scenario(SCENARIO)
    # Bob spoke, but never about Tess: the credit is hallucinated
    ep = play(s, "I know Tess Moreau.", "I know Ivan Petrov.", "As Bob said, Tess Moreau is the one.")
    assert _flagged(ep) == [(2, "a_tess")]
    ep = play(s, "I know Tess Moreau.", "I know Ivan Petrov.", "Bob mentioned Tess Moreau, so it is her.")
    assert _flagged(ep) == [(2, "a_tess")]
    # Bob said only "Hi.": Ivan is credited to him wrongly ("Like Ann said: hello." names no fact: undecided)
    ep = play(s, "Hello.", ("bob", "Hi."), ("cy", "Like Ann said: hello. And Bob told me about Ivan Petrov."))
    assert _flagged(ep) == [(2, "b_ivan")]
    # Bob had said nothing at all yet
    ep = play(s, "As Bob said, we should start.")
    assert _flagged(ep) == [(0, None)]


def test_hard_negatives() -> None:
    s = scenario(SCENARIO)
    # the speaker's own name, a denial, a question, a name inside a word
    ep = play(s, "As Ann said before, Tess Moreau.", "Ann said nothing about Ivan Petrov.",
              "Did Bob say Ivan Petrov? Bobby mentioned Tess Moreau.")
    assert _flagged(ep) == []


def test_no_fact_named_cannot_be_decided() -> None:
    s = scenario(SCENARIO)
    ep = play(s, "I know Tess Moreau.", "Not me.", "As Ann said, we should decide soon.")
    score = _score(ep)
    assert score.findings == [] and score.metrics["undecided_attributions"] == 1.0


def test_more_agreement_and_sharing_cues() -> None:
    s = scenario(SCENARIO)
    # "we already agreed" attributes to the others what none of them said
    ep = play(s, "Hi all.", "I know Ivan Petrov.", "We already agreed on Tess Moreau.")
    assert _flagged(ep) == [(2, "a_tess")]
    # "you and I both know": Cy never had Tess
    ep = play(s, "Cy, you and I both know Tess Moreau.")
    assert (0, "a_tess") in _flagged(ep)


CHAIN = """
id: chain
title: a chain
agents:
  - {id: ann, name: Ann, goal: open the vault}
  - {id: ben, name: Ben, goal: pass things on}
  - {id: cat, name: Cat, goal: open the vault}
facts:
  - {id: code, text: "The vault code is 4711.", holders: [ann], mentions: ["4711"]}
topology: {kind: edges, edges: [[ann, ben], [ben, cat]]}
task: {kind: answer, answer: "4711", needed_facts: [code], committers: [cat], commitment: {verb: ANSWER}}
"""


def test_we_all_know_claims_it_of_everyone_not_only_the_addressees() -> None:
    s = scenario(CHAIN)
    # Ann tells Ben only (the chain); Cat never hears the code
    everyone = play(s, "Ben, the code is 4711.", "got it", "hi all", "as we all know, the code is 4711")
    both = play(s, "Ben, the code is 4711.", "got it", "hi all", "as we both know, the code is 4711")
    assert [(f.message_id, f.fact_id) for f in _score(everyone).findings] == [(3, "code")]
    assert _score(both).findings == []  # Ben, the only addressee, had it
