"""Attribute triplets (change / focus an attribute) from our richer scene graphs.

GeneCIS's released graphs drop attributes (``specs/genecis.md`` §7.2), so this is our extension,
shaped after its attribute tasks (§1.4):

- ``change_attribute``: reference = an entity (head h, attribute a); target = an entity with the same
  head h and another attribute b, from another image; condition = b; distractor = any entity with
  attribute b (a text-only shortcut would pick it);
- ``focus_attribute``: reference = an entity with attribute a on an axis X of :data:`ATTRIBUTE_AXES`;
  target = another head with the same attribute a, from another image; condition = X ("color");
  distractor = the reference's head with another value on axis X (an image-only shortcut picks it).

An instance is one (image, entity, attribute). Draws use ``np.random.default_rng(seed)`` per
triplet over CSR tables; rejection loops are capped and a failed reference is redrawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from tqdm import tqdm

from cir_data.mining import MAX_TARGET_ATTEMPTS, TRIPLET_COLUMNS, _csr

ATTRIBUTE_AXES: dict[str, tuple[str, ...]] = {
    "color": ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white",
              "gray", "grey", "silver", "golden"),
    "material": ("wooden", "metal", "metallic", "plastic", "glass", "stone", "leather", "brick", "paper"),
    "size": ("small", "large", "big", "tiny", "huge", "little", "tall", "short", "long"),
    "age": ("old", "young", "new", "ancient", "modern"),
}
ATTRIBUTE_KINDS = ("change_attribute", "focus_attribute")


class AttributeMiner:
    """Mines attribute triplets from graph records carrying our ``graph`` form (see module docstring)."""

    def __init__(
        self, records: Iterable[Mapping[str, Any]], axes: Mapping[str, Sequence[str]] = ATTRIBUTE_AXES
    ) -> None:
        keys: dict[str, int] = {}
        heads: dict[str, int] = {}
        values: dict[str, int] = {}
        columns: list[list[int]] = [[], [], []]
        for record in records:
            image = keys.setdefault(str(record["key"]), len(keys))
            for entity in record["graph"]["entities"]:
                for attribute in entity["attributes"]:
                    columns[0].append(image)
                    columns[1].append(heads.setdefault(entity["head"], len(heads)))
                    columns[2].append(values.setdefault(attribute.lower(), len(values)))
        self.image, self.head, self.value = (np.asarray(c, dtype=np.int64) for c in columns)
        self.image_keys, self.heads, self.values = list(keys), list(heads), list(values)
        axis_of_value = {v: axis for axis, vs in axes.items() for v in vs}
        self.axis_names = list(axes)
        self.value_axis = np.array([self.axis_names.index(axis_of_value[v]) if v in axis_of_value else -1
                                    for v in self.values], dtype=np.int64)
        self.head_offsets, self.head_rows = _csr(self.head, len(self.heads))
        self.value_offsets, self.value_rows = _csr(self.value, len(self.values))
        head_value_pairs = np.unique(self.head * max(len(self.values), 1) + self.value)
        values_per_head = np.bincount(head_value_pairs // max(len(self.values), 1), minlength=len(self.heads))
        heads_per_value = np.bincount(head_value_pairs % max(len(self.values), 1), minlength=len(self.values))
        self.eligible = {
            "change_attribute": np.flatnonzero(values_per_head[self.head] >= 2),
            "focus_attribute": np.flatnonzero((self.value_axis[self.value] >= 0) & (heads_per_value[self.value] >= 2)),
        }

    def _pick(
        self, rng: np.random.Generator, offsets: np.ndarray, rows: np.ndarray, group: int, accept: Any
    ) -> int | None:
        """A uniform row of ``group`` satisfying ``accept``, or None after the attempt cap."""
        first, last = offsets[group], offsets[group + 1]
        for _ in range(MAX_TARGET_ATTEMPTS):
            row = int(rows[first + rng.integers(last - first)])
            if accept(row):
                return row
        return None

    def _draw(self, kind: str, rng: np.random.Generator) -> tuple[int, int, int, str] | None:
        pool = self.eligible[kind]
        ref = int(pool[rng.integers(len(pool))])
        head, value, image = self.head[ref], self.value[ref], self.image[ref]
        if kind == "change_attribute":
            target = self._pick(rng, self.head_offsets, self.head_rows, head,
                                lambda r: self.value[r] != value and self.image[r] != image)
            if target is None:
                return None
            new_value = self.value[target]
            distractor = self._pick(rng, self.value_offsets, self.value_rows, new_value, lambda r: True)
            return (ref, target, distractor, self.values[new_value]) if distractor is not None else None
        axis = self.value_axis[value]
        target = self._pick(rng, self.value_offsets, self.value_rows, value,
                            lambda r: self.head[r] != head and self.image[r] != image)
        distractor = self._pick(rng, self.head_offsets, self.head_rows, head,
                                lambda r: self.value_axis[self.value[r]] == axis and self.value[r] != value)
        if target is None or distractor is None:
            return None
        return ref, target, distractor, self.axis_names[axis]

    def mine(self, seeds: Iterable[int], kind: str, *, progress: bool = False) -> dict[str, list[Any]]:
        """Triplet table columns (:data:`cir_data.mining.TRIPLET_COLUMNS`) of ``kind`` for ``seeds``."""
        if kind not in ATTRIBUTE_KINDS:
            raise ValueError(f"unknown attribute triplet kind {kind!r}; choose from {ATTRIBUTE_KINDS}")
        if len(self.eligible[kind]) == 0:
            raise ValueError(f"no entity qualifies as a {kind} reference in these scene graphs")
        table: dict[str, list[Any]] = {name: [] for name in TRIPLET_COLUMNS}
        for seed in tqdm(list(seeds), desc=kind, disable=not progress):
            rng = np.random.default_rng(int(seed))
            drawn = None
            for _ in range(MAX_TARGET_ATTEMPTS):
                drawn = self._draw(kind, rng)
                if drawn is not None:
                    break
            if drawn is None:
                continue  # no valid triplet near this seed; skipping keeps the others deterministic
            ref, target, distractor, condition = drawn
            table["seed"].append(int(seed))
            for name, row in (("reference", ref), ("target", target), ("distractor", distractor)):
                table[f"{name}_key"].append(self.image_keys[self.image[row]])
                table[f"{name}_row"].append(row)
            table["condition"].append(condition)
            table["kind"].append(kind)
        return table
