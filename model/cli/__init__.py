"""The ``poems`` command line: one module per subcommand, wired here.

Each module in :data:`SUBCOMMANDS` defines ``register(subparsers)`` which adds its parser and
sets ``handler``. Errors a user can cause (:class:`model.exceptions.PoemsError`) become one
line on stderr and exit code 2; no traceback reaches the user (set ``POEMS_DEBUG=1`` to see
one for an internal error). Warnings from the libraries underneath (pgmpy, pandas, numba)
never reach the user either. ``poems --version`` answers without importing any subcommand.
Shared conventions (``-``, ``--quiet``, JSON provenance) live in :mod:`model.cli.common`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Sequence

from model.cli.common import version
from model.exceptions import PoemsError
from model.inputs import terminal_safe

SUBCOMMANDS: tuple[str, ...] = (
    "vocabulary",
    "fhir",
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
    parser.add_argument("--version", action="version", version=f"poems {version()}")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no status lines or progress on stderr"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        if only is None or command_name(name) == only:
            importlib.import_module(f"model.cli.{name}").register(subparsers)
        else:
            subparsers.add_parser(command_name(name), add_help=False)
    for sub in subparsers.choices.values():
        _add_quiet(sub)
    return parser


def _add_quiet(parser: argparse.ArgumentParser) -> None:
    """``-q/--quiet`` after the command too (``poems batch -q ...``), and on nested actions."""
    if "--quiet" not in parser._option_string_actions:
        parser.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            default=argparse.SUPPRESS,
            help="no status lines or progress on stderr",
        )
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for nested in getattr(action, "choices", {}).values():
            _add_quiet(nested)


def _silence_libraries() -> None:
    """Library warnings (pgmpy's FutureWarning, pandas/numba deprecations) are for developers
    of this package, not for its users; POEMS_DEBUG=1 keeps them."""
    if os.environ.get("POEMS_DEBUG"):
        return
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", module=r"^(?!model(\.|$))")
    for name in ("pgmpy", "numba", "matplotlib"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The command named on the command line, if it is a known one (else ``None``)."""
    known = {command_name(n) for n in SUBCOMMANDS}
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in known else None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--version"]:
        print(f"poems {version()}")  # without importing any subcommand
        return 0
    _silence_libraries()
    parser = build_parser(only=_chosen_command(arguments))
    args = parser.parse_args(arguments)
    try:
        return int(args.handler(args) or 0)
    except PoemsError as err:
        # messages quote user text (a key, a file name): no escape sequence reaches the terminal
        print(f"poems {args.command}: error: {terminal_safe(str(err))}", file=sys.stderr)
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
            f"poems {args.command}: internal error ({type(err).__name__}: "
            f"{terminal_safe(str(err))[:300]}). "
            "Rerun with POEMS_DEBUG=1 for details and please report it.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
