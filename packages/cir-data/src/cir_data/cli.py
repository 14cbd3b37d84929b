"""Command line entry point ``cir-data``: subcommands come from a small registry."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NamedTuple

from cir_data import data_commands


class Command(NamedTuple):
    """One subcommand: a help line, a function adding its options, and a function running it."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _synth_add_arguments(parser: argparse.ArgumentParser) -> None:
    from cir_data.synth.cli import add_arguments

    add_arguments(parser)


def _synth_run(args: argparse.Namespace) -> int:
    from cir_data.synth.cli import run

    return run(args)


# name -> Command; other subcommands (parse, mine, download) are added here by one line each.
COMMANDS: dict[str, Command] = {
    "synth": Command("generate the synthetic world: shards and benchmark exports", _synth_add_arguments, _synth_run),
    "parse": Command(
        "parse captions into scene graphs (spaCy)", data_commands.add_parse_arguments, data_commands.run_parse
    ),
    "mine": Command(
        "mine training triplets from scene graphs", data_commands.add_mine_arguments, data_commands.run_mine
    ),
    "download": Command(
        "download URL + caption lists into webdataset shards (img2dataset)",
        data_commands.add_download_arguments,
        data_commands.run_download,
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one subparser per registered command."""
    parser = argparse.ArgumentParser(prog="cir-data", description="Data tools for conditional image retrieval.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.add_arguments(sub.add_parser(name, help=command.help, description=command.help))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns its exit status."""
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    raise SystemExit(main())
