"""cir-data: data for conditional image similarity, without torch.

Modules: ``cir_data.synth`` (the synthetic world, its shards and benchmark exports), ``cir_data.scene_graph``
(captions -> scene graphs), ``cir_data.mining`` and ``cir_data.attribute_mining`` (triplet mining),
``cir_data.shards`` (webdataset shards), ``cir_data.download`` (img2dataset downloads), ``cir_data.masking``
(LinCIR keyword masking), ``cir_data.cli`` (the ``cir-data`` command).

The names below are the supported API. They are resolved lazily (PEP 562), so ``import cir_data`` stays
cheap and loads neither spaCy nor pyarrow until a name that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "shards": ["ShardWriter", "ReadStats", "iter_samples", "iter_split_samples", "split_shards", "list_shards",
               "count_samples", "write_sizes", "read_sizes"],
    "scene_graph": ["SceneGraph", "Entity", "Relation", "load_spacy", "parse_caption", "parse_captions",
                    "graph_from_doc"],
    "graph_files": ["parse_file", "read_captions", "iter_graph_records"],
    "mining": ["RelationRows", "RelationMiner", "mine_shards", "combine_shards", "write_triplets"],
    "attribute_mining": ["AttributeMiner"],
    "concreteness": ["load_concreteness"],
    "download": ["download_images", "DownloadStats"],
    "masking": ["mask_captions", "clean_caption", "keyword_runs", "replace_keywords"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = ["__version__", *sorted(_MODULE_OF)]


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'cir_data' has no attribute {name!r}")
    return getattr(importlib.import_module(f"cir_data.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
