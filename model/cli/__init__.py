"""The ``poems`` command line: one module per subcommand, wired here.

Each module in :data:`SUBCOMMANDS` defines ``register(subparsers)`` which adds its parser and
sets ``handler``. Errors a user can cause (:class:`model.exceptions.PoemsError`) become one
line on stderr and exit code 2; no traceback reaches the user (set ``POEMS_DEBUG=1`` to see
one for an internal error).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from model.exceptions import PoemsError

SUBCOMMANDS: tuple[str, ...] = (
    "vocabulary",
    "criteria",
    "assess",
    "export",
    "priors",
    "evaluate",
    "compare_priors",
    "batch",
    "simulate",
    "bench",
)
"""Subcommand modules under ``model.cli``, in the order ``poems --help`` lists them."""

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="poems",
        description=(
            "POEMS syndrome decision support: formal criteria and a cited Bayesian network. "
            "Decision support, not a diagnosis."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"model.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except PoemsError as err:
        print(f"poems {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("poems: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # the outermost layer: no traceback for users
        if os.environ.get("POEMS_DEBUG"):
            raise
        print(
            f"poems {args.command}: internal error ({type(err).__name__}: {err}). "
            "Rerun with POEMS_DEBUG=1 for details and please report it.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
