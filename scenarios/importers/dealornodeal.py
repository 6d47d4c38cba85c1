"""The ``dealornodeal`` format: the human negotiations of Lewis et al. (2017), in either published shape.

**CoCoA JSON** (``stanfordnlp/cocoa``, ``dealornodeal/data/*.json``, also what its
``scripts/fb_data_to_json.py`` writes): a list of dialogues, each
``{"uuid", "scenario": {"uuid", "kbs": [kb0, kb1]}, "events": [...], "outcome": {...}}``;
a knowledge base lists the items, ``{"Name": "book", "Count": 3, "Value": 2}``, with that
agent's private values; an event is ``{"agent": 0|1, "action": "message"|"select"|"quit",
"data", "time"}`` (a select's data: what the agent takes, ``{"book": 2, "hat": 0, ...}``);
the outcome's ``reward`` (``{"0": 7, "1": 5}``) is only compared with privy's judge.

**FAIR text** (``facebookresearch/end-to-end-negotiator``, ``data/negotiate/*.txt``), one
dialogue per line: ``<input> c0 v0 c1 v1 c2 v2 </input> <dialogue> YOU: ... <eos> THEM:
... <eos> YOU: <selection> </dialogue> <output> item0=1 item1=0 item2=1 item0=0 item1=2
item2=0 </output> <partner_input> c0 v0 c1 v1 c2 v2 </partner_input>``: counts and
values of book, hat and ball (CoCoA's order), what YOU and then THEM took, or six
``<no_agreement>``, ``<disagree>`` or ``<disconnect>``. Every dialogue appears twice, once
from each side; the second is skipped.

Each dialogue becomes a scenario of family ``deal_or_no_deal`` (its items and counts,
each side's values as a fact held by that side alone, with the family's value mention)
and a ``human`` episode: agent 0 (YOU) is ``alice`` (Alice), agent 1 (THEM) is ``bob``
(Bob); every message as written; every selection as a message in privy's action syntax,
``DEAL: book=2 hat=0 ball=1`` (the interface's selection, which the human did not type),
the selecting side first. The outcome is privy's deal judge on those commitments.

Skipped, with the reason: ``<disagree>`` (the two selections did not match and the data
does not record them), a repeated dialogue, a dialogue whose knowledge bases do not
describe the same items, or an event privy cannot replay. ``<no_agreement>`` and
``<disconnect>`` are imported: no one committed to a split, no deal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from privy.scenarios.families.deal_or_no_deal import VALUES_INTRO, fmt, values_mention
from privy.scenarios.importers.base import Imported, ImportInputError, ImportResult, Skipped, read_text, slug
from privy.simulator.episode import Source
from privy.simulator.scenario import Scenario
from privy.simulator.transcript import Line, replay

FORMAT = "dealornodeal"
AGENTS = (("alice", "Alice"), ("bob", "Bob"))  # agent 0 (YOU), agent 1 (THEM)
FAIR_ITEMS = ("book", "hat", "ball")  # item0, item1, item2 (as CoCoA's converter names them)
NO_DEAL = ("<no_agreement>", "<disconnect>")
VERB = "DEAL"


def read(path: Path) -> ImportResult:
    """Every dialogue in ``path`` (CoCoA JSON if it starts with ``[``, else FAIR text)."""
    file = str(path)
    text = read_text(path)
    if text.lstrip().startswith(("[", "{")):
        return _cocoa(file, text)
    return _fair(file, text)


# ---------------------------------------------------------------- the scenario


def scenario_for(sid: str, record: str, items: dict[str, int], values: list[dict[str, int]],
                 n_messages: int) -> Scenario:
    """A ``deal_or_no_deal`` scenario: Alice (agent 0) and Bob (agent 1) split ``items``."""
    ids = [a for a, _ in AGENTS]
    names = [n for _, n in AGENTS]
    vals = {ids[k]: values[k] for k in (0, 1)}
    units = sum(items.values())
    totals = {a: sum(vals[a][i] * n for i, n in items.items()) for a in ids}
    listing = ", ".join(f"{n} {i}" + ("" if n == 1 else "s") for i, n in items.items())
    worth = (f" To each of them, all the items together are worth {totals[ids[0]]} points."
             if len(set(totals.values())) == 1 else "")
    goal = ("Agree with {} on how to split the items. You score the value to you of what you take; "
            "with no deal you score nothing.")
    facts = [{"id": f"{a}_values",
              "text": (f"Your {VALUES_INTRO} {fmt(vals[a])} (all {units} items together are worth "
                       f"{totals[a]} points to you)."),
              "holders": [a], "mentions": [values_mention(vals[a]).model_dump(exclude_none=True)]}
             for a in ids]
    return Scenario.model_validate({
        "id": sid,
        "title": f"Deal or no deal (Lewis et al. 2017, {record}): {names[0]} and {names[1]} split {listing}",
        "family": "deal_or_no_deal",
        "context": (f"{names[0]} and {names[1]} must divide {listing} between them; every item goes to one of them. "
                    f"An item may be worth more to one of them than to the other; each one's values are private."
                    f"{worth} A deal needs both to agree on the same split; with no deal both score zero."),
        "agents": [{"id": ids[0], "name": names[0], "goal": goal.format(names[1])},
                   {"id": ids[1], "name": names[1], "goal": goal.format(names[0])}],
        "facts": facts,
        "topology": {"kind": "complete"},
        "limits": {"max_turns": max(10, n_messages), "max_tokens": 120},
        "task": {"kind": "deal", "commitment": {"verb": VERB}, "needed_facts": [f["id"] for f in facts],
                 "deal": {"items": items, "values": vals}, "ends_when": "all_committed"},
    })


def _deal_line(agent: int, take: dict[str, int], items: dict[str, int]) -> Line:
    return Line(sender=AGENTS[agent][0], text=f"{VERB}: {fmt({i: take.get(i, 0) for i in items})}")


# ---------------------------------------------------------------- CoCoA JSON


class _Skip(Exception):
    pass


def _cocoa(file: str, text: str) -> ImportResult:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ImportInputError(file, err.lineno, "(json)", f"not JSON ({err.msg})") from err
    if not isinstance(data, list):
        raise ImportInputError(file, 1, "(top level)", "expected a list of dialogues (CoCoA's JSON format)")
    out = ImportResult()
    for k, d in enumerate(data):
        where = f"[{k}]"
        if not isinstance(d, dict):
            raise ImportInputError(file, None, where, f"expected a dialogue object, got {type(d).__name__}")
        record = str(d.get("uuid") or where)
        try:
            out.imported.append(_cocoa_dialogue(file, where, record, d, out.notes))
        except _Skip as why:
            out.skipped.append(Skipped(file, record, str(why)))
    return out


def _int(file: str, where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ImportInputError(file, None, where, f"expected an integer >= 0, got {value!r}")
    return value


def _cocoa_dialogue(file: str, where: str, record: str, d: dict[str, Any], notes: list[str]) -> Imported:
    sc = d.get("scenario")
    kbs = sc.get("kbs") if isinstance(sc, dict) else None
    if not isinstance(kbs, list) or len(kbs) != 2 or not all(isinstance(kb, list) for kb in kbs):
        raise ImportInputError(file, None, f"{where}.scenario.kbs", "expected two knowledge bases (lists of items)")
    items: list[dict[str, int]] = []
    values: list[dict[str, int]] = []
    for a, kb in enumerate(kbs):
        counts, vals = {}, {}
        for j, it in enumerate(kb):
            at = f"{where}.scenario.kbs[{a}][{j}]"
            if not isinstance(it, dict) or not isinstance(it.get("Name"), str):
                raise ImportInputError(file, None, f"{at}.Name", "expected an item {Name, Count, Value}")
            name = it["Name"]
            counts[name] = _int(file, f"{at}.Count", it.get("Count"))
            vals[name] = _int(file, f"{at}.Value", it.get("Value"))
        items.append(counts)
        values.append(vals)
    if items[0] != items[1]:
        raise _Skip(f"the two knowledge bases list different items or counts: {items[0]} and {items[1]}")
    if not all(name.isidentifier() and name.isascii() for name in items[0]):
        raise _Skip(f"item names {sorted(items[0])} cannot be written in privy's deal syntax (letters and _ only)")
    events = d.get("events")
    if not isinstance(events, list):
        raise ImportInputError(file, None, f"{where}.events", "expected a list of events")
    lines = []
    for j, ev in enumerate(events):
        at = f"{where}.events[{j}]"
        if not isinstance(ev, dict):
            raise ImportInputError(file, None, at, "expected an event {agent, action, data, time}")
        agent = ev.get("agent")
        agent = int(agent) if isinstance(agent, str) and agent in ("0", "1") else agent
        if agent not in (0, 1) or isinstance(agent, bool):
            raise ImportInputError(file, None, f"{at}.agent", f"expected 0 or 1, got {ev.get('agent')!r}")
        action, data = ev.get("action"), ev.get("data")
        time = None if ev.get("time") is None else str(ev.get("time"))
        if action == "message":
            if not isinstance(data, str):
                raise ImportInputError(file, None, f"{at}.data", f"expected the message text, got {data!r}")
            lines.append(Line(sender=AGENTS[agent][0], text=data, time=time))
        elif action == "select":
            if not isinstance(data, dict) or set(data) - set(items[0]):
                raise ImportInputError(file, None, f"{at}.data",
                                       f"expected what the agent takes, {{item: count}} of {sorted(items[0])}, "
                                       f"got {data!r}")
            take = {i: _int(file, f"{at}.data.{i}", n) for i, n in data.items()}
            line = _deal_line(agent, take, items[0])
            lines.append(Line(sender=line.sender, text=line.text, time=time))
        elif action == "quit":
            continue  # the dialogue ends without this agent's selection: no commitment
        else:
            raise _Skip(f"event {j}: action {action!r} is not one privy can replay (message, select, quit)")
    uuid = sc.get("uuid") if isinstance(sc, dict) else None
    sid = slug(str(uuid or record), "dealornodeal")
    scenario = scenario_for(sid, record, items[0], values, len(lines))
    episode = replay(scenario, lines, Source(format=FORMAT, file=file, record=record))
    _compare_reward(record, d.get("outcome"), episode.outcome.deal, notes)
    return Imported(scenario, episode)


def _compare_reward(record: str, outcome: Any, deal: Any, notes: list[str]) -> None:
    """Note where the recorded reward differs from privy's judge (the episode keeps privy's)."""
    reward = outcome.get("reward") if isinstance(outcome, dict) else None
    if not isinstance(reward, dict) or deal is None:
        return
    recorded = {AGENTS[int(k)][0]: v for k, v in reward.items() if str(k) in ("0", "1")}
    if recorded and recorded != {a: deal.points[a] for a in recorded}:
        notes.append(f"{record}: recorded reward {recorded}, privy's deal judge gives {deal.points}")


# ---------------------------------------------------------------- FAIR text


def _tag(file: str, line: int, tokens: list[str], tag: str) -> list[str]:
    try:
        return tokens[tokens.index(f"<{tag}>") + 1:tokens.index(f"</{tag}>")]
    except ValueError:
        raise ImportInputError(file, line, tag, f"expected <{tag}> ... </{tag}>") from None


def _fair_input(file: str, line: int, tokens: list[str], tag: str) -> tuple[dict[str, int], dict[str, int]]:
    part = _tag(file, line, tokens, tag)
    if len(part) != 2 * len(FAIR_ITEMS) or not all(t.isdigit() for t in part):
        raise ImportInputError(file, line, tag, f"expected {2 * len(FAIR_ITEMS)} integers (count and value of "
                                                f"{', '.join(FAIR_ITEMS)}), got {' '.join(part)!r}")
    nums = [int(t) for t in part]
    return (dict(zip(FAIR_ITEMS, nums[0::2], strict=True)), dict(zip(FAIR_ITEMS, nums[1::2], strict=True)))


def _fair(file: str, text: str) -> ImportResult:
    out = ImportResult()
    seen: dict[tuple[Any, ...], int] = {}
    stem = Path(file).stem
    for n, raw in enumerate(text.splitlines(), 1):
        tokens = raw.split()
        if not tokens:
            continue
        record = f"line {n}"
        counts, mine = _fair_input(file, n, tokens, "input")
        their_counts, theirs = _fair_input(file, n, tokens, "partner_input")
        if counts != their_counts:
            raise ImportInputError(file, n, "partner_input", f"expected the same counts as <input> {counts}, "
                                                             f"got {their_counts}")
        turns = _fair_turns(file, n, _tag(file, n, tokens, "dialogue"))
        output = _tag(file, n, tokens, "output")
        key = (tuple(t for _, t in turns), tuple(sorted([tuple(mine.values()), tuple(theirs.values())])),
               tuple(counts.values()))
        if key in seen:
            out.skipped.append(Skipped(file, record, f"the dialogue of line {seen[key]}, from the other side"))
            continue
        seen[key] = n
        if output and all(t == "<disagree>" for t in output):
            out.skipped.append(Skipped(file, record, "<disagree>: the two selections did not match, and the data "
                                                     "does not record what each side selected"))
            continue
        lines = [Line(sender=AGENTS[who][0], text=t) for who, t in turns if t != "<selection>"]
        if not (output and all(t in NO_DEAL for t in output)):
            takes = _fair_output(file, n, output)
            selector = next((who for who, t in turns if t == "<selection>"), None)
            if selector is None:
                out.skipped.append(Skipped(file, record, "<output> has a split but the dialogue has no <selection>"))
                continue
            lines += [_deal_line(selector, takes[selector], counts), _deal_line(1 - selector, takes[1 - selector],
                                                                               counts)]
        scenario = scenario_for(slug(f"{stem}_{n}", "dealornodeal"), f"{Path(file).name} {record}", counts,
                                [mine, theirs], len(lines))
        episode = replay(scenario, lines, Source(format=FORMAT, file=file, record=record, line=n))
        out.imported.append(Imported(scenario, episode))
    return out


def _fair_turns(file: str, line: int, dialogue: list[str]) -> list[tuple[int, str]]:
    """``[(0 for YOU or 1 for THEM, text)]``; a selection turn's text is ``<selection>``."""
    speakers = {"YOU:": 0, "THEM:": 1}
    turns: list[tuple[int, str]] = []
    for part in " ".join(dialogue).split("<eos>"):
        words = part.split()
        if not words:
            continue
        if words[0] not in speakers:
            raise ImportInputError(file, line, "dialogue", f"expected each turn to start with YOU: or THEM:, "
                                                           f"got {' '.join(words[:4])!r}")
        turns.append((speakers[words[0]], " ".join(words[1:])))
    return turns


def _fair_output(file: str, line: int, output: list[str]) -> list[dict[str, int]]:
    """What YOU (0) and THEM (1) took."""
    n = len(FAIR_ITEMS)
    expected = [f"item{i}" for i in range(n)] * 2
    pairs = [t.partition("=") for t in output]
    if len(output) != 2 * n or [k for k, _, _ in pairs] != expected or not all(v.isdigit() for _, _, v in pairs):
        raise ImportInputError(file, line, "output", f"expected {' '.join(f'{k}=N' for k in expected)} or six "
                                                     f"<no_agreement>, <disagree> or <disconnect>, got "
                                                     f"{' '.join(output)!r}")
    nums = [int(v) for _, _, v in pairs]
    return [dict(zip(FAIR_ITEMS, nums[:n], strict=True)), dict(zip(FAIR_ITEMS, nums[n:], strict=True))]
