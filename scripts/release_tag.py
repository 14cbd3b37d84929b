"""Resolve a release tag `<package>-v<version>` to its workspace folder, or fail.

Used by the release workflow (and exercised by the nox `wheels` session): a tag builds only its
own package, and only when the tag's version equals the version in that package's pyproject.
Standard library only, Python >= 3.10.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = re.compile(r"^(?P<package>[a-z0-9][a-z0-9-]*?)-v(?P<version>\d+\.\d+\.\d+(?:[.-]?(?:a|b|rc|post|dev)\d+)?)$")
PROJECT_FIELD = re.compile(r'^(name|version)\s*=\s*"([^"]+)"\s*$', re.MULTILINE)


def read_project(pyproject: Path) -> dict[str, str]:
    """Return the static `name` and `version` of a pyproject's [project] table."""
    text = pyproject.read_text(encoding="utf-8")
    table = text.split("[project]", 1)[1].split("\n[", 1)[0]
    return dict(PROJECT_FIELD.findall(table))


def find_package(name: str) -> tuple[Path, str]:
    """Return (folder, version) of the workspace member called `name`."""
    for pyproject in sorted([*ROOT.glob("packages/*/pyproject.toml"), *ROOT.glob("apps/*/pyproject.toml")]):
        project = read_project(pyproject)
        if project.get("name") == name:
            return pyproject.parent, project["version"]
    raise SystemExit(f"release tag names package {name!r}, which is not a workspace member")


def main(argv: list[str] | None = None) -> int:
    """Print the folder of the tagged package; exit 1 when tag and version disagree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", metavar="TAG", required=True, help="a tag such as cir-eval-v0.1.0")
    args = parser.parse_args(argv)
    match = TAG.match(args.check)
    if match is None:
        print(f"tag {args.check!r} is not of the form <package>-v<version>", file=sys.stderr)
        return 1
    folder, version = find_package(match["package"])
    if version != match["version"]:
        print(f"tag {args.check!r} says {match['version']} but {folder.name} is at {version}", file=sys.stderr)
        return 1
    print(folder.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
