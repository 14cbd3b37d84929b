"""LinCIR keyword masking: runs of NOUN/PROPN/ADJ/DET in a caption become a placeholder.

Follows ``specs/lincir.md`` §1.4 (navervision/lincir ``CaptionDataset``):

1. clean the caption: None -> "", ``<PERSON>`` -> "person", lower-case, drop every ``$``, strip;
2. a keyword is a maximal run of consecutive tokens whose POS is NOUN, PROPN, ADJ or **DET**,
   joined by single spaces ("a red car" is one keyword, article included);
3. each keyword is replaced with ``str.replace`` -- every occurrence, substrings inside other words
   included, as the reference does; if a keyword is empty or not found verbatim in the cleaned caption
   (spaCy splits "man's" into "man 's"), one random space-separated word is replaced instead (again
   with ``str.replace``) and the loop stops. No keyword at all behaves like one empty keyword.

The reference also truncates captions longer than 77 CLIP tokens and falls back to "a photo of [$]"
when the placeholder is lost to truncation; both need the CLIP tokenizer, which lives with the model,
so :func:`clean_caption` takes an optional ``truncate`` callable and the token check is left to the caller.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

KEYWORD_POS = frozenset({"NOUN", "PROPN", "ADJ", "DET"})
PLACEHOLDER = "[$]"
# The parser, lemmatizer and NER are not needed for POS tags; disabling them makes pipe() ~2x faster.
UNUSED_COMPONENTS = ("parser", "lemmatizer", "ner")


def clean_caption(caption: str | None, truncate: Callable[[str], str] | None = None) -> str:
    """Return the caption as LinCIR's loader sees it before tagging (see module docstring, step 1)."""
    text = "" if caption is None else caption
    text = text.replace("<PERSON>", "person").lower().replace("$", "").strip()
    return truncate(text) if truncate is not None else text


def keyword_runs(tokens: Iterable[Any]) -> list[str]:
    """Maximal runs of tokens with POS in NOUN/PROPN/ADJ/DET, each joined by single spaces."""
    runs: list[str] = []
    current: list[str] = []
    for token in tokens:
        if token.pos_ in KEYWORD_POS:
            current.append(token.text)
        elif current:
            runs.append(" ".join(current))
            current = []
    if current:
        runs.append(" ".join(current))
    return runs


def replace_keywords(
    caption: str, keywords: Sequence[str], rng: random.Random, placeholder: str = PLACEHOLDER
) -> str:
    """Replace every keyword in ``caption`` by ``placeholder`` (see module docstring, step 3)."""
    masked = caption
    for keyword in keywords or [""]:
        if keyword and keyword in caption:
            masked = masked.replace(keyword, placeholder)
            continue
        word = rng.choice(caption.split(" "))
        masked = masked.replace(word, placeholder)
        break
    return masked


def mask_captions(
    captions: Iterable[str | None],
    nlp: Any,
    *,
    seed: int = 0,
    placeholder: str = PLACEHOLDER,
    batch_size: int = 256,
    truncate: Callable[[str], str] | None = None,
) -> list[tuple[str, str]]:
    """(cleaned caption, masked caption) for each caption, tagging in batches with ``nlp.pipe``.

    ``seed`` drives the random-word fallback, so the same captions and seed give the same masks.
    """
    rng = random.Random(seed)
    cleaned = [clean_caption(c, truncate) for c in captions]
    disabled = [name for name in UNUSED_COMPONENTS if name in nlp.pipe_names]
    out = []
    for text, doc in zip(cleaned, nlp.pipe(cleaned, batch_size=batch_size, disable=disabled), strict=True):
        out.append((text, replace_keywords(text, keyword_runs(doc), rng, placeholder)))
    return out
