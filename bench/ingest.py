"""Imported ``human`` episodes into a result store, scored as ``privy bench`` scores its own.

``privy import ... --db results.db`` calls :func:`ingest`: each episode goes in under the
cell key of its scenario instance, mode ``human``, backend label ``human`` and its seed
(its number among the imported dialogues of that scenario), with the scores of the
evaluators. ``privy report`` then shows ``human`` beside the modes, and ``privy view``
shows the transcripts.

A dialogue is known by its source (format, file name, record id). A seed the store
already gives to *another* dialogue of the same scenario is moved to the next free one,
so dialogues imported at different times never replace each other; the same dialogue
imported again is refused, unless ``force``: then it is replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from privy import evaluators
from privy.bench.store import ResultStore, StoreError, canonical_json, cell_key, instance_key, open_reader, parse_key
from privy.simulator.episode import Episode
from privy.simulator.modes import Mode

HUMAN_LABEL = "human"
SUITE = "import"

Identity = tuple[str, str, str]


def identity(episode: Episode) -> Identity:
    """Which dialogue an imported episode is: its source's format, file name and record id."""
    s = episode.source
    return ("", "", episode.id) if s is None else (s.format, Path(s.file).name, s.record)


def human_key(episode: Episode) -> str:
    """The cell key of an imported episode."""
    s = episode.scenario
    return cell_key(instance_key(s.id, canonical_json(s)), Mode.HUMAN, HUMAN_LABEL, episode.seed)


def _stored(db: Path) -> dict[str, Identity]:
    """The human episodes a store holds: key -> dialogue."""
    if not db.exists():
        return {}
    out = {}
    with open_reader(db) as reader:
        for row in reader.episodes():
            try:
                human = parse_key(row.key).mode == Mode.HUMAN.value
            except ValueError:
                continue
            if human and row.episode_json:
                out[row.key] = identity(Episode.model_validate_json(row.episode_json))
    return out


async def ingest(db: str | Path, episodes: Sequence[Episode], *, force: bool = False,
                 evaluator_names: Sequence[str] | None = None) -> list[Episode]:
    """Store ``episodes`` (mode ``human``) with their scores; the episodes as stored (a seed may have moved).

    Raises:
        StoreError: not a store, an episode is not ``human``, or a dialogue is stored already and
            ``force`` is False (then nothing is written).
    """
    path = Path(db)
    wrong = [e.id for e in episodes if e.mode is not Mode.HUMAN]
    if wrong:
        raise StoreError(f"{db}: only imported (human) episodes can be ingested; {wrong[0]} is not one")
    stored = _stored(path)
    placed: list[Episode] = []
    again: list[str] = []
    for ep in episodes:
        me = identity(ep)
        while (who := stored.get(human_key(ep))) is not None and who != me:
            ep = ep.model_copy(update={"seed": ep.seed + 1})  # another dialogue has this seed: the next one
        if who == me:
            again.append(human_key(ep))
        stored[human_key(ep)] = me
        placed.append(ep)
    if again and not force:
        raise StoreError(f"{db}: holds {len(again)} of these dialogues already (first: {again[0]}); "
                         "expected --force to replace them")
    names = list(evaluator_names or evaluators.DETERMINISTIC)
    scored = [await evaluators.evaluate(e, names) for e in placed]  # before opening: a failure writes nothing
    with ResultStore(path) as store:
        for ep, scores in zip(placed, scored, strict=True):
            store.put(human_key(ep), SUITE, ep.source.file if ep.source else "", HUMAN_LABEL, ep, scores)
    return placed
