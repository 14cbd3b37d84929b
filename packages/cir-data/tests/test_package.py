"""The package's public names resolve lazily, and importing it loads no heavy dependency."""

from __future__ import annotations

import subprocess
import sys

import cir_data


def test_every_public_name_resolves() -> None:
    for name in cir_data.__all__:
        assert getattr(cir_data, name) is not None, name


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        cir_data.not_a_thing  # noqa: B018
    except AttributeError as err:
        assert "not_a_thing" in str(err)
    else:
        raise AssertionError("an unknown name resolved")


def test_import_is_cheap() -> None:
    code = "import sys, cir_data; sys.exit(int(bool({'spacy', 'pyarrow', 'torch'} & set(sys.modules))))"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
