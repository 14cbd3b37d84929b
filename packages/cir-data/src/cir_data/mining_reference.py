"""The spec's mining algorithm written directly, one ``RandomState.choice`` per draw: slow, for checking.

This is ``specs/genecis.md`` §8.2-8.4 as stated (dicts of Python lists, ``choice`` over lists and
the weighted candidate list on every draw, ``np.mean`` of six lookups), with the global
``np.random`` replaced by an explicit ``RandomState`` (same stream). :mod:`cir_data.mining` must give
identical triplets; ``benchmarks/bench_mining.py`` measures the speed-up against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from cir_data.concreteness import UNKNOWN_SCORE
from cir_data.mining import MAX_TARGET_ATTEMPTS


class ReferenceMiner:
    """Per-draw implementation of GeneCIS mining over flattened relation rows."""

    def __init__(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        min_images: int = 5,
        concreteness: Mapping[str, float] | None = None,
        threshold: float | None = 4.8,
    ) -> None:
        self.rows = [
            {"image_id": r["key"], "subject": rel["subject"], "relation": rel["relation"], "object": rel["object"]}
            for r in records
            for rel in r["relations"]
        ]
        self.subjects: dict[str, dict[str, Any]] = {}
        self.objects: dict[str, list[int]] = {}
        for idx, row in enumerate(self.rows):
            entry = self.subjects.setdefault(row["subject"], {"image_ids": set(), "rows": [], "objects": {}})
            entry["image_ids"].add(row["image_id"])
            entry["rows"].append(idx)
            entry["objects"].setdefault(row["object"], []).append(idx)
            self.objects.setdefault(row["object"], []).append(idx)
        self.candidates = [
            k for k, v in self.subjects.items() if len(v["image_ids"]) >= min_images and len(v["objects"]) >= 2
        ]
        weights = np.array([len(self.subjects[k]["image_ids"]) for k in self.candidates], dtype=float)
        self.p = weights / weights.sum()
        self.concreteness = concreteness
        self.threshold = threshold

    def draw(self, rs: np.random.RandomState) -> tuple[int, int, int]:
        """One triplet of row indices, as ``get_random_sample`` draws it."""
        subject = rs.choice(self.candidates, p=self.p)
        ref = int(rs.choice(self.subjects[subject]["rows"]))
        target = ref
        attempts = 0
        while (self.rows[target]["object"] == self.rows[ref]["object"]
               or self.rows[target]["image_id"] == self.rows[ref]["image_id"]):
            obj = rs.choice(list(self.subjects[subject]["objects"].keys()))
            target = int(rs.choice(self.subjects[subject]["objects"][obj]))
            attempts += 1
            if attempts > MAX_TARGET_ATTEMPTS:
                break
        distractor = int(rs.choice(self.objects[self.rows[target]["object"]]))
        return ref, target, distractor

    def score(self, triplet: tuple[int, int, int]) -> float:
        """Mean concreteness of the six subject/object strings (unknown = -1)."""
        assert self.concreteness is not None
        lookup = self.concreteness.get
        values = [lookup(self.rows[i][part], UNKNOWN_SCORE) for i in triplet for part in ("subject", "object")]
        return float(np.mean(values))

    def mine_seed(self, seed: int) -> tuple[int, int, int]:
        """Triplet ``seed``: reseed, draw, redraw while not concrete enough."""
        rs = np.random.RandomState(seed)
        triplet = self.draw(rs)
        if self.concreteness is not None and self.threshold is not None:
            while self.score(triplet) <= self.threshold:
                triplet = self.draw(rs)
        return triplet
