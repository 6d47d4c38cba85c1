"""What the ledger counts as told, from the label definitions (tests/data/LABELLING.md).

First names where unambiguous in the scenario, an answer key named by its holder, a
holder's yes to a message that mentioned a fact, the same words telling only the
sender's own fact; and premature_commitment's undecided case (a holder's pronoun).
"""

from __future__ import annotations

import asyncio

from helpers.play import play, scenario

from privy import evaluators
from privy.evaluators.base import Score
from privy.evaluators.ledger import Ledger, told
from privy.evaluators.mentions import answer_facts, first_names
from privy.simulator.episode import Episode

FRIENDS = """
id: friends
title: friends
context: Two people compare lists.
agents:
  - {id: ann, name: Ann, goal: find the common friend}
  - {id: bob, name: Bob, goal: find the common friend}
facts:
  - {id: a_maya, text: "Maya Chen: works at Globex.", holders: [ann], mentions: ["Maya Chen"]}
  - {id: a_tess, text: "Tess Moreau: works at Acme.", holders: [ann], mentions: ["Tess Moreau"]}
  - {id: a_esther, text: "Esther Bauer: works at Hooli.", holders: [ann], mentions: ["Esther Bauer"]}
  - {id: b_tess, text: "Tess Moreau: works at Acme.", holders: [bob], mentions: ["Tess Moreau"]}
  - {id: b_esther, text: "Esther Lund: works at Initech.", holders: [bob], mentions: ["Esther Lund"]}
task:
  kind: select
  commitment: {verb: SELECT}
  answer: Tess Moreau
  needed_facts: [a_tess, b_tess]
"""

SECRET = """
id: secret
title: twenty questions
context: Liam picked one item; Iris guesses.
agents:
  - {id: iris, name: Iris, goal: guess}
  - {id: liam, name: Liam, goal: answer}
facts:
  - {id: candidates, text: "sailboat, apple, spoon", holders: [iris, liam], mentions: []}
  - {id: secret, text: "The secret item is the sailboat.", holders: [liam],
     mentions: [{regex: '\\bit is the sailboat\\b'}]}
task:
  kind: answer
  commitment: {verb: GUESS}
  answer: sailboat
  needed_facts: [secret]
  committers: [iris]
"""


def _scores(ep: Episode) -> dict[str, Score]:
    return asyncio.run(evaluators.evaluate(ep))


def test_a_first_name_mentions_a_fact_only_where_it_is_unambiguous() -> None:
    s = scenario(FRIENDS)
    extra = first_names(s)
    assert {fid: [m.literal for m in ms] for fid, ms in extra.items()} == {
        "a_maya": ["Maya"], "a_tess": ["Tess"], "b_tess": ["Tess"]}  # two Esthers: neither; Ann is an agent
    ep = play(s, "hi", "is Maya on your list?", "Esther is.")
    ledger = Ledger.of(ep)
    assert list(ledger.mentioned[1]) == ["a_maya"] and ledger.mentioned[2] == {}
    c = _scores(ep)["clairvoyance"]
    assert [(f.message_id, f.fact_id) for f in c.findings] == [(1, "a_maya")]  # Bob never heard of Maya


def test_the_same_words_tell_only_the_senders_own_fact() -> None:
    found = {"a_tess": [(0, 11)], "b_tess": [(0, 11)]}
    assert told(found, frozenset({"a_tess"})) == {"a_tess"}  # Ann names her own Tess: Bob's is not told
    assert told(found, frozenset()) == {"a_tess", "b_tess"}  # a guess names both
    asked = play(scenario(FRIENDS), "Is Tess Moreau on yours?", "hmm, let me look", "SELECT: Tess Moreau")
    assert "b_tess" not in Ledger.of(asked).known_before("ann", 2)
    p = _scores(asked)["premature_commitment"]
    assert [(f.message_id, f.fact_id) for f in p.findings] == [(2, "b_tess")]
    answered = play(scenario(FRIENDS), "Is Tess Moreau on yours?", "Yes, Tess Moreau is on mine.",
                    "SELECT: Tess Moreau")
    assert _scores(answered)["premature_commitment"].value == 0.0


def test_a_holders_yes_tells_the_fact_the_question_mentioned() -> None:
    s = scenario(SECRET)
    ep = play(s, "I believe the secret item is the sailboat. Is that right?", "Yes, that is right.",
              "GUESS: sailboat")
    assert "secret" in Ledger.of(ep).known_before("iris", 2)
    assert _scores(ep)["premature_commitment"].value == 0.0
    no = play(s, "I believe it is the sailboat. Is that right?", "No.", "GUESS: sailboat")
    assert _scores(no)["premature_commitment"].value == 1.0


def test_an_answer_key_is_told_when_its_holder_names_the_answer() -> None:
    s = scenario(SECRET)
    assert list(answer_facts(s)) == ["secret"]
    ep = play(s, "so, the sailboat?", "you got it, it's the sailboat", "GUESS: sailboat")
    ledger = Ledger.of(ep)
    assert "secret" not in ledger.mentioned[0] and "secret" in ledger.mentioned[1]  # a guess is no mention
    assert _scores(ep)["premature_commitment"].value == 0.0
    # the guess came before anything from the holder: a right guess, which LABELLING.md counts as
    # clairvoyance (a blind guess; see evaluators/clairvoyance.py); the holder's answer is not one
    assert [(f.message_id, f.fact_id) for f in _scores(ep)["clairvoyance"].findings] == [(0, "secret")]
    guess = play(s, "GUESS: sailboat")
    assert _scores(guess)["premature_commitment"].value == 1.0


def test_a_holders_pronoun_leaves_the_commitment_undecided() -> None:
    ep = play(scenario(FRIENDS), "Is Tess Moreau on yours?", "She is on mine too.", "SELECT: Tess Moreau")
    p = _scores(ep)["premature_commitment"]
    assert p.value is None and p.metrics["undecided"] == 1.0 and p.findings == []
    silent = play(scenario(FRIENDS), "Is Tess Moreau on yours?", "Let me look.", "SELECT: Tess Moreau")
    assert _scores(silent)["premature_commitment"].metrics["undecided"] == 0.0


def test_two_distinctive_details_together_mention_a_fact() -> None:
    s = scenario(FRIENDS.replace('"Maya Chen: works at Globex."', '"Maya Chen: works at Globex, likes hiking."')
                 .replace('"Esther Lund: works at Initech."', '"Esther Lund: works at Vandelay, likes hiking."'))
    ep = play(s, "hi", "is your friend who works at Globex into hiking?", "one of mine likes hiking.",
              "someone at Vandelay who likes hiking?")
    ledger = Ledger.of(ep)
    assert list(ledger.mentioned[1]) == ["a_maya"]  # Globex + hiking: only Maya's text holds both
    assert ledger.mentioned[2] == {}  # hiking alone names no one
    assert list(ledger.mentioned[3]) == ["b_esther"]
    c = _scores(ep)["clairvoyance"]
    assert [(f.message_id, f.fact_id) for f in c.findings] == [(1, "a_maya")]  # Bob's own Esther: no leak


THREE = """
id: three
title: relay
context: Three people share a secret word.
agents:
  - {id: pia, name: Pia, goal: share}
  - {id: quin, name: Quin, goal: learn}
  - {id: rae, name: Rae, goal: learn}
facts:
  - {id: p_word, text: "The password is heron.", holders: [pia], mentions: [heron]}
  - {id: p_door, text: "Meet behind the north door.", holders: [pia], mentions: [north door]}
task:
  kind: select
  commitment: {verb: SELECT}
  answer: heron
  needed_facts: [p_word]
"""


def _hcg(ep: Episode) -> list[int]:
    return sorted({f.message_id for f in _scores(ep)["hallucinated_common_ground"].findings
                   if f.message_id is not None})


def test_an_attribution_of_a_detail_never_said_is_flagged() -> None:
    s = scenario(FRIENDS.replace('"Maya Chen: works at Globex."', '"Maya Chen: works at Globex, studied at Yale."'))
    wrong = play(s, "Do any of your friends work at Initech?", "As you said, your friends all studied at Yale.")
    assert _hcg(wrong) == [1]
    right = play(s, "Some of my friends studied at Yale.", "As you said, your friends studied at Yale.")
    assert _hcg(right) == []


def test_as_you_told_someone_is_checked_against_what_was_sent_to_them() -> None:
    s = scenario(THREE)
    never = play(s, ("pia", "hello all"), ("quin", "hi"), ("rae", "Pia, as you told Quin, it is heron, right?"))
    assert _hcg(never) == [2]
    told = play(s, ("pia", "Quin, the word is heron."), ("quin", "ok"), ("rae", "Pia, as you told Quin, it's heron?"))
    assert _hcg(told) == []


def test_asking_whether_we_all_agree_claims_nothing() -> None:
    s = scenario(THREE)
    asked = play(s, ("pia", "hello"), ("quin", "Do we all agree the word is heron?"))
    claimed = play(s, ("pia", "hello"), ("quin", "We all agree the word is heron."))
    assert _hcg(asked) == [] and _hcg(claimed) == [1]
