"""MutualFriends (He et al. 2017): two agents, one friend in common.

Each agent holds a list of ``n_friends`` friends, one fact per friend, with up to four
attributes (company, school, hobby, city). Exactly one person, by full name, is on
both lists; success is both agents selecting them (``SELECT: <full name>``).

Difficulty: ``n_friends`` (longer lists), ``n_attributes`` (longer descriptions) and
``near_duplicates``: friends who are *not* shared but have the shared friend's first
name and all of their attributes but one (with one attribute: all of them), so that
matching by first name or by attributes picks the wrong person.

Ground truth (``check``): each friend's mention is its full name and is found in
exactly the fact texts of that person; the two lists have exactly one full name in
common, the task's ``answer``, whose two facts are the ``needed_facts``.

Baseline (``policy``): "share your list, intersect by full name, select": an agent
that has heard no list yet lists its friends and asks which of them the other knows (a
grounding act the full-state ``shortcut`` skips); once another agent's message mentions
exactly one of its own friends (by full name), it selects that friend.
"""

from __future__ import annotations

import random
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from privy.scenarios.families.base import FamilyParams, PolicyInput
from privy.simulator.scenario import Fact, Scenario

FIRST_NAMES = (
    "Maya", "Omar", "Lena", "Ravi", "Tess", "Ivan", "Sofia", "Kenji", "Nora", "Diego",
    "Amara", "Felix", "Hana", "Jonas", "Priya", "Mateo", "Ingrid", "Kofi", "Yara", "Lucas",
    "Elif", "Tomas", "Aisha", "Bruno", "Clara", "Dmitri", "Esther", "Farid", "Greta", "Hugo",
    "Imani", "Jakob", "Keiko", "Leon", "Mira", "Nikhil", "Olga", "Pablo", "Rosa", "Sven",
)
LAST_NAMES = (
    "Chen", "Haddad", "Park", "Singh", "Moreau", "Petrov", "Rossi", "Ito", "Walsh", "Garcia",
    "Okafor", "Novak", "Tanaka", "Berg", "Mehta", "Silva", "Larsen", "Mensah", "Kaya", "Dubois",
    "Yilmaz", "Kowalski", "Rahman", "Costa", "Fischer", "Ivanova", "Cohen", "Nasser", "Lindqvist", "Bauer",
    "Njoroge", "Weber", "Sato", "Romero", "Varga", "Kapoor", "Sorensen", "Alvarez", "Hughes", "Dahl",
)
ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("works at", ("Globex", "Initech", "Umbrella", "Hooli", "Acme", "Vandelay", "Stark Industries",
                  "Wayne Enterprises", "Soylent", "Cyberdyne", "Tyrell", "Wonka", "Oscorp", "Gringotts")),
    ("studied at", ("Stanford", "MIT", "Yale", "Oxford", "Berkeley", "Harvard", "Princeton", "Cambridge",
                    "ETH Zurich", "Caltech", "Columbia", "Cornell", "McGill", "Sorbonne")),
    ("likes", ("hiking", "chess", "painting", "cycling", "jazz", "running", "baking", "sailing",
               "pottery", "climbing", "gardening", "poetry", "tango", "birdwatching")),
    ("lives in", ("Denver", "Lisbon", "Osaka", "Nairobi", "Toronto", "Melbourne", "Oslo", "Seoul",
                  "Austin", "Dublin", "Madrid", "Prague", "Quito", "Accra")),
)
AGENT_NAMES = ("Alice", "Bob", "Carmen", "David", "Elena", "Frank", "Gwen", "Henry", "Iris", "Jack", "Kira", "Liam")
PERSONAS = (
    "A data engineer who likes precise answers.",
    "A teacher who enjoys chatting.",
    "A nurse with little time to spare.",
    "A retired pilot who tells long stories.",
    "A graduate student who is new in town.",
    "A shop owner who knows everyone.",
)


class MutualFriendsParams(FamilyParams):
    n_friends: int = Field(default=5, ge=2, description="Friends on each agent's list.")
    n_attributes: int = Field(default=3, ge=1, le=len(ATTRIBUTES),
                              description="Attributes per friend (company, school, hobby, city).")
    near_duplicates: int = Field(default=0, ge=0, description=(
        "Non-shared friends with the shared friend's first name and all attributes but one."))

    @field_validator("n_friends")
    @classmethod
    def _fits_the_pool(cls, n: int) -> int:
        people, pool = 2 * n - 1, len(LAST_NAMES)  # each person has their own last name
        if people > pool:
            raise ValueError(f"{n} friends per list need {people} different people, but the name pool holds "
                             f"{pool}; expected n_friends <= {(pool + 1) // 2}")
        return n

    @model_validator(mode="after")
    def _enough_friends(self) -> MutualFriendsParams:
        if self.near_duplicates > 2 * (self.n_friends - 1):
            raise ValueError(
                f"near_duplicates={self.near_duplicates} exceeds the {2 * (self.n_friends - 1)} friends who "
                f"are not shared (2 lists of n_friends={self.n_friends}, minus the shared friend)")
        return self


def _describe(name: str, attrs: tuple[str, ...]) -> str:
    parts = [f"{ATTRIBUTES[i][0]} {value}" for i, value in enumerate(attrs)]
    return f"{name}: {', '.join(parts)}."


def _slug(name: str) -> str:
    return name.lower().replace(" ", "_")


def _full_name(fact: Fact) -> str:
    return next((m.literal for m in fact.mentions if m.literal), fact.text.split(":")[0])


class MutualFriends:
    name: ClassVar[str] = "mutual_friends"
    description: ClassVar[str] = ("Two agents each hold a list of friends with attributes; exactly one friend "
                                  "is on both lists; both must select them (He et al. 2017).")
    Params: ClassVar[type[FamilyParams]] = MutualFriendsParams

    def generate(self, rng: random.Random, index: int, params: FamilyParams) -> Scenario:
        assert isinstance(params, MutualFriendsParams)
        n, k, dups = params.n_friends, params.n_attributes, params.near_duplicates
        tag = f"{rng.getrandbits(32):08x}"
        a_name, b_name = rng.sample(AGENT_NAMES, 2)
        personas = rng.sample(PERSONAS, 2)
        ids = (a_name.lower(), b_name.lower())
        pools = [values for _, values in ATTRIBUTES[:k]]

        def attrs() -> tuple[str, ...]:
            return tuple(rng.choice(p) for p in pools)

        people = 2 * n - 1
        lasts = rng.sample(LAST_NAMES, people)
        firsts = rng.sample(FIRST_NAMES, people - dups)
        shared_first, shared_attrs = firsts[0], attrs()
        others: list[tuple[str, tuple[str, ...]]] = []
        for j in range(people - 1):
            if j < dups:  # a near-duplicate: same first name, all attributes but one the same
                changed = list(shared_attrs)
                if k > 1:
                    i = rng.randrange(k)
                    changed[i] = rng.choice([v for v in pools[i] if v != shared_attrs[i]])
                others.append((f"{shared_first} {lasts[j + 1]}", tuple(changed)))
            else:
                others.append((f"{firsts[j + 1 - dups]} {lasts[j + 1]}", attrs()))
        rng.shuffle(others)  # near-duplicates land on either list
        shared = (f"{shared_first} {lasts[0]}", shared_attrs)
        lists = [[shared, *others[: n - 1]], [shared, *others[n - 1:]]]
        facts: list[Fact] = []
        for agent, friends in zip(ids, lists, strict=True):
            rng.shuffle(friends)
            facts += [Fact(id=f"{agent}_{_slug(name)}", text=_describe(name, at), holders=[agent], mentions=[name])
                      for name, at in friends]
        longest = max(len("My friends: " + "; ".join(f.text for f in facts if f.holders == [a])) for a in ids)
        goal = "Find the one friend you and {} have in common, then select them by full name."
        data = {
            "id": f"mutual_friends_{index:04d}_{tag}",
            "title": f"MutualFriends: who do {a_name} and {b_name} both know?",
            "family": self.name,
            "context": (f"{a_name} and {b_name} have just met. Each has a list of {n} friends. Exactly one "
                        f"person is a friend of both. Together they must find out who."),
            "agents": [
                {"id": ids[0], "name": a_name, "persona": personas[0], "goal": goal.format(b_name)},
                {"id": ids[1], "name": b_name, "persona": personas[1], "goal": goal.format(a_name)},
            ],
            "facts": [f.model_dump(exclude_none=True) for f in facts],
            "topology": {"kind": "complete"},
            "limits": {"max_turns": max(10, 2 * n), "max_tokens": max(120, longest // 3 + 20)},
            "task": {
                "kind": "select",
                "commitment": {"verb": "SELECT"},
                "answer": shared[0],
                "needed_facts": [f"{agent}_{_slug(shared[0])}" for agent in ids],
                "ends_when": "all_committed",
            },
        }
        return Scenario.model_validate(data)

    def check(self, scenario: Scenario) -> None:
        s = scenario
        assert s.family == self.name, f"family is {s.family!r}, expected {self.name!r}"
        assert len(s.agents) == 2, f"expected 2 agents, got {len(s.agents)}"
        assert s.task.kind == "select" and s.task.answer, "expected a select task with an answer"
        for f in s.facts:
            assert len(f.holders) == 1, f"{f.id}: a friend fact is held by one agent, got {f.holders}"
            name = _full_name(f)
            assert f.mentions and f.mentions[0].literal == name, f"{f.id}: expected the full name as mention"
            for g in s.facts:
                same = _full_name(g) == name
                assert f.mentioned_in(g.text) == same, (
                    f"{f.id}: mention {name!r} {'misses' if same else 'is found in'} fact {g.id}")
        lists = [{_full_name(f): f.id for f in s.facts_of(a)} for a in s.agent_ids]
        for a, names in zip(s.agent_ids, lists, strict=True):
            assert len(names) == len(s.facts_of(a)), f"{a} lists the same person twice"
        common = set(lists[0]) & set(lists[1])
        assert common == {s.task.answer}, f"expected exactly one shared friend {s.task.answer!r}, got {common}"
        needed = {names[s.task.answer] for names in lists}
        assert set(s.task.needed_facts) == needed, f"needed_facts {s.task.needed_facts}, expected {sorted(needed)}"

    def policy(self, inp: PolicyInput) -> str:
        verb = inp.task.commitment.verb
        heard = [m.content for m in inp.messages if m.sender != inp.me]
        spoke = any(m.sender == inp.me for m in inp.messages)
        candidates = [f for f in inp.facts if any(f.mentioned_in(h) for h in heard)]
        if len(candidates) == 1:
            name = _full_name(candidates[0])
            return f"We both know {name}.\n{verb}: {name}"
        if not spoke:
            return "My friends: " + "; ".join(f.text for f in inp.facts) + "\nWhich of them do you know?"
        if heard and not candidates:
            return "None of the friends you named are on my list."
        if candidates:
            return "Several of your friends are on my list too; please give their full names again."
        return "I have not seen your list yet; please share your friends."

    def shortcut(self, scenario: Scenario, me: str) -> str | None:
        """Full state: name a friend only the partner has, and select the shared one at once."""
        verb = scenario.task.commitment.verb
        lists = {a: [_full_name(f) for f in scenario.facts_of(a)] for a in scenario.agent_ids}
        common = set(lists[me]).intersection(*lists.values())
        if len(common) != 1:
            return None
        shared = next(iter(common))
        theirs = [n for a in scenario.agent_ids if a != me for n in lists[a] if n not in lists[me]]
        aside = f"Your list includes {theirs[0]}, and the" if theirs else "The"
        return f"{aside} friend we share is {shared}.\n{verb}: {shared}"

    def withhold(self, scenario: Scenario) -> Scenario:
        """Drop the second agent's entry for the shared friend: no one is on both lists."""
        second = scenario.agent_ids[1]
        drop = {f.id for f in scenario.facts if second in f.holders and _full_name(f) == scenario.task.answer}
        data = scenario.model_dump()
        data["facts"] = [f for f in data["facts"] if f["id"] not in drop]
        data["task"]["needed_facts"] = [i for i in data["task"]["needed_facts"] if i not in drop]
        return Scenario.model_validate(data)


FAMILY = MutualFriends()
