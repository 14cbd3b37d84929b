"""Exports of the synthetic world into official benchmark layouts, by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cir_data.synth.exports.circo import export_circo
from cir_data.synth.exports.cirr import export_cirr
from cir_data.synth.exports.common import ExportSettings
from cir_data.synth.exports.fashioniq import export_fashioniq
from cir_data.synth.exports.genecis import export_genecis
from cir_data.synth.exports.lrvsf import export_lrvsf
from cir_data.synth.exports.uned import export_uned

EXPORTS: dict[str, Callable[[ExportSettings], Path]] = {
    "genecis": export_genecis,
    "cirr": export_cirr,
    "fashioniq": export_fashioniq,
    "circo": export_circo,
    "lrvsf": export_lrvsf,
    "uned": export_uned,
}


def list_exports() -> list[str]:
    """Names accepted by ``run_export`` and ``cir-data synth --export``."""
    return sorted(EXPORTS)


def run_export(name: str, settings: ExportSettings) -> Path:
    """Write export ``name`` under ``settings.out_dir``; returns its folder."""
    if name not in EXPORTS:
        raise KeyError(f"unknown export {name!r}; known: {', '.join(list_exports())}")
    return EXPORTS[name](settings)


__all__ = ["EXPORTS", "ExportSettings", "list_exports", "run_export"]
