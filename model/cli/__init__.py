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


def command_name(module: str) -> str:
    """The command a subcommand module registers (``compare_priors`` -> ``compare-priors``)."""
    return module.replace("_", "-")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that command's module is imported.

    Importing a module can be costly (the network commands load pgmpy and numba), so a run of
    one command loads only its own module; ``poems --help`` loads them all to list them.
    """
    parser = argparse.ArgumentParser(
        prog="poems",
        description=(
            "POEMS syndrome decision support: formal criteria and a cited Bayesian network. "
            "Decision support, not a diagnosis."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        if only is None or command_name(name) == only:
            importlib.import_module(f"model.cli.{name}").register(subparsers)
        else:
            subparsers.add_parser(command_name(name), add_help=False)
    return parser


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The command named on the command line, if it is a known one (else ``None``)."""
    known = {command_name(n) for n in SUBCOMMANDS}
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in known else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=_chosen_command(arguments))
    args = parser.parse_args(arguments)
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
