"""The mentions the evaluators look for: a scenario's own, and those its label definitions imply.

``tests/data/LABELLING.md`` says a message mentions a fact "by its name, value or a
distinctive detail". A scenario lists its facts' ``mentions``; from the scenario alone,
with no transcript in view, two more follow:

- **first names**: a fact whose mention is a person's full name ("Maya Chen", two or
  more capitalised words) is also mentioned by the first name alone ("is Maya on your
  list"), when that first name is unambiguous in the scenario: no other fact's name
  begins with it (three facts about three Esthers: "Esther" names none of them), it is
  no agent's name, and the scenario's context does not use it.
- **the answer, said by a holder**: in a task with an ``answer`` and no options, a
  needed fact whose text states that answer and which no committer holds (the secret
  item, an answer key) is told when one of its holders names the answer ("you got it,
  it's the sailboat", "Correct: 100 pennies").
  The same words from anyone else are a guess or a proposal, not a mention.
"""

from __future__ import annotations

import re
from functools import lru_cache

from privy.simulator.scenario import Mention, Scenario

_NAME = re.compile(r"^(?-i:[A-Z][\w'’-]*)(?:\s+(?-i:[A-Z][\w'’-]*))+$")


@lru_cache(maxsize=1024)
def _word(literal: str) -> Mention:
    return Mention(literal=literal)


def first_names(scenario: Scenario) -> dict[str, tuple[Mention, ...]]:
    """Fact id -> the first-name mentions it gains (only facts that gain some)."""
    full: dict[str, set[str]] = {}  # first name -> the full names of facts that begin with it
    owners: dict[str, set[str]] = {}  # first name -> fact ids
    for f in scenario.facts:
        for m in f.mentions:
            if m.literal is not None and m.whole_word and _NAME.match(m.literal.strip()):
                first = m.literal.split()[0]
                full.setdefault(first.casefold(), set()).add(m.literal.strip().casefold())
                owners.setdefault(first.casefold(), set()).add(f.id)
    taken = {w.casefold() for a in scenario.agents for w in a.name.split()}
    context = {w.casefold() for w in re.findall(r"[\w'’-]+", scenario.context)}
    out: dict[str, tuple[Mention, ...]] = {}
    for first, names in full.items():
        if len(names) != 1 or first in taken or first in context:
            continue
        literal = next(iter(names)).split()[0]
        for fid in owners[first]:
            fact = scenario.fact(fid)
            original = next(m.literal.split()[0] for m in fact.mentions
                            if m.literal is not None and m.literal.split()[0].casefold() == literal)
            out[fid] = (*out.get(fid, ()), _word(original))
    return out


def answer_facts(scenario: Scenario) -> dict[str, Mention]:
    """Needed fact id -> the answer's mention, for the needed facts whose text states the answer."""
    task = scenario.task
    if not task.answer or task.options:  # among options, every fact about the answer names it
        return {}
    mention = _word(task.answer)
    committers = set(task.committers or scenario.agent_ids)
    return {fid: mention for fid in task.needed_facts
            if mention.found_in(scenario.fact(fid).text) and not committers & set(scenario.fact(fid).holders)}
