"""cir-data: data for conditional image similarity, without torch.

Modules: ``cir_data.synth`` (the synthetic world, its shards and benchmark exports), ``cir_data.scene_graph``
(captions -> scene graphs), ``cir_data.mining`` (triplet mining), ``cir_data.shards`` (webdataset shards),
``cir_data.cli`` (the ``cir-data`` command). Import the one you need; this package imports none of them eagerly,
so ``import cir_data`` stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
