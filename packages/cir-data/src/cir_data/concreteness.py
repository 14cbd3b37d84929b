"""Word concreteness from a Brysbaert et al. (2014) style TSV, read the way GeneCIS reads it.

``specs/genecis.md`` §8.2 step 6: the file is tab-separated with a header; the key is column 0
(``Word``) lower-cased, the value column 2 (``Conc.M``, 1-5). GeneCIS reads it with pandas, whose
default missing-value strings turn words such as "null" or "nan" into NaN, which the reference then
stores under the key "null"; :data:`PANDAS_NA_STRINGS` reproduces that. Afterwards every key's plural
from ``inflect`` receives that key's score, overwriting an existing entry for that plural, in file order.
The user supplies the file (it is not redistributed here).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from tqdm import tqdm

# pandas.read_csv's default na_values (pandas 2.x); these cells are read as NaN, mapped to "null".
PANDAS_NA_STRINGS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
UNKNOWN_SCORE = -1.0


def read_concreteness_table(path: str | Path) -> dict[str, float]:
    """Lower-cased word -> concreteness from the TSV, without plural expansion; later rows win."""
    path = Path(path)
    scores: dict[str, float] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if header is None or len(header) < 3:
            raise ValueError(f"{path}: expected a tab-separated header with at least 3 columns (Word, Bigram, Conc.M)")
        for number, row in enumerate(reader, 2):
            if not row:
                continue
            if len(row) < 3:
                raise ValueError(f"{path}:{number}: expected at least 3 columns, got {len(row)}")
            word = "null" if row[0] in PANDAS_NA_STRINGS else row[0].lower()
            try:
                value = float(row[2]) if row[2] not in PANDAS_NA_STRINGS else math.nan
            except ValueError as err:
                raise ValueError(f"{path}:{number}: concreteness {row[2]!r} of {row[0]!r} is not a number") from err
            scores[word] = value
    return scores


def add_plurals(scores: dict[str, float], *, progress: bool = False) -> dict[str, float]:
    """A copy of ``scores`` where inflect's plural of each key gets the key's score (overwriting)."""
    import inflect

    engine = inflect.engine()
    expanded = dict(scores)
    for word in tqdm(list(scores), desc="plurals", disable=not progress):
        if word.strip():
            expanded[engine.plural(word)] = scores[word]
    return expanded


def load_concreteness(path: str | Path, *, progress: bool = False) -> dict[str, float]:
    """The GeneCIS concreteness lexicon: the table plus plural expansion (§8.2 step 6)."""
    return add_plurals(read_concreteness_table(path), progress=progress)
