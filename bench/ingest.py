"""Imported ``human`` episodes into a result store, scored as ``privy bench`` scores its own.

``privy import ... --db results.db`` calls :func:`ingest`: each episode goes in under the
cell key of its scenario instance, mode ``human``, backend label ``human`` and its seed
(its number among the imported dialogues of that scenario), with the scores of the
evaluators. ``privy report`` then shows ``human`` beside the modes, and ``privy view``
shows the transcripts. An episode whose key the store holds already is refused, unless
``force``: then it is replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from privy import evaluators
from privy.bench.store import ResultStore, StoreError, canonical_json, cell_key, instance_key
from privy.simulator.episode import Episode
from privy.simulator.modes import Mode

HUMAN_LABEL = "human"
SUITE = "import"


def human_key(episode: Episode) -> str:
    """The cell key of an imported episode."""
    s = episode.scenario
    return cell_key(instance_key(s.id, canonical_json(s)), Mode.HUMAN, HUMAN_LABEL, episode.seed)


async def ingest(db: str | Path, episodes: Sequence[Episode], *, force: bool = False,
                 evaluator_names: Sequence[str] | None = None) -> list[str]:
    """Store ``episodes`` (mode ``human``) with their scores; their keys.

    Raises:
        StoreError: not a store, an episode is not ``human``, or a key is taken and ``force`` is False
            (then nothing is written).
    """
    wrong = [e.id for e in episodes if e.mode is not Mode.HUMAN]
    if wrong:
        raise StoreError(f"{db}: only imported (human) episodes can be ingested; {wrong[0]} is not one")
    keys = [human_key(e) for e in episodes]
    names = list(evaluator_names or evaluators.DETERMINISTIC)
    scored = [await evaluators.evaluate(e, names) for e in episodes]  # before opening: a failure writes nothing
    with ResultStore(db) as store:
        taken = sorted(store.done_keys() & set(keys))
        if taken and not force:
            raise StoreError(f"{db}: holds {len(taken)} of these episodes already (first: {taken[0]}); "
                             "expected --force to replace them")
        for key, ep, scores in zip(keys, episodes, scored, strict=True):
            source = ep.source.file if ep.source is not None else ""
            store.put(key, SUITE, source, HUMAN_LABEL, ep, scores)
    return keys
