"""What every subcommand shares: ``-`` for stdin/stdout, ``--quiet`` status lines, JSON output.

Conventions (documented for users in ``docs/formats.md``):

* data goes to standard output, status ("Wrote ...", summaries, notices) to standard error,
  and ``--quiet`` silences status;
* ``-`` names standard input wherever a file is read and standard output wherever one is
  written; a command that needs a real file (Parquet, a streamed CSV) spools through a
  temporary file, so the core never sees ``-``;
* ``--json`` prints one strict JSON object (no ``NaN``/``Infinity``) that carries an
  ``about`` block: the tool version, the output schema version and, for the commands that use
  the network, the priors' folder and content fingerprint.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.inputs import STDIO, strict_json, terminal_safe

if TYPE_CHECKING:
    from model.parameters import Priors

DISTRIBUTION = "poems-dx"
OUTPUT_SCHEMA_VERSION = 1
"""Version of the JSON the CLI prints; raised when a field is renamed or removed."""


def version() -> str:
    """The installed version of poems-dx (from the package metadata; no model import)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


def quiet(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "quiet", False))


def status(args: argparse.Namespace, message: str) -> None:
    """A status line on standard error, unless ``--quiet``."""
    if not quiet(args):
        print(message, file=sys.stderr)


def about(priors: Priors | None = None) -> dict[str, Any]:
    """The provenance block of every JSON output."""
    out: dict[str, Any] = {
        "tool": DISTRIBUTION,
        "version": version(),
        "schema_version": OUTPUT_SCHEMA_VERSION,
    }
    if priors is not None:
        out["priors"] = {"directory": priors.directory, "fingerprint": priors.fingerprint}
    return out


def print_json(data: Any, priors: Priors | None = None) -> None:
    """One strict JSON object on standard output, with the ``about`` block first.

    A list (``priors report --json``) is wrapped as ``{"about": ..., "rows": [...]}``.
    """
    body = {"rows": data} if isinstance(data, list) else dict(data)
    out = {"about": about(priors), **body}
    print(json.dumps(strict_json(out), indent=2, allow_nan=False))


def notices(args: argparse.Namespace, lines: tuple[str, ...]) -> None:
    """Notices about how the input was read (a unit assumed), on stderr unless ``--quiet``."""
    for line in lines:
        status(args, f"note: {safe(line)}")


def safe(text: object) -> str:
    """User text (a case id, a file name) made safe for the terminal."""
    return terminal_safe(str(text))


@contextlib.contextmanager
def readable(path: str, suffix: str = ".csv") -> Iterator[str]:
    """A real file path for ``path``; ``-`` spools standard input to a temporary file."""
    if path != STDIO:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="poems-stdin-") as folder:
        spooled = Path(folder) / f"stdin{suffix}"
        with spooled.open("wb") as handle:
            shutil.copyfileobj(sys.stdin.buffer, handle)
        yield str(spooled)


@contextlib.contextmanager
def writable(path: str, suffix: str = ".csv") -> Iterator[str]:
    """A real file path for ``path``; for ``-`` the file is copied to standard output after
    the block succeeds (nothing is written to stdout if it fails)."""
    if path != STDIO:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="poems-stdout-") as folder:
        spooled = Path(folder) / f"stdout{suffix}"
        yield str(spooled)
        sys.stdout.flush()
        with spooled.open("rb") as handle:
            shutil.copyfileobj(handle, sys.stdout.buffer)
        sys.stdout.buffer.flush()


def shown_path(path: str) -> str:
    """How a path is named in a status line (``-`` is standard output)."""
    return "standard output" if path == STDIO else safe(path)


def add_reading_arguments(parser: argparse.ArgumentParser) -> None:
    """``--delimiter`` and ``--encoding`` of the commands that read a cohort CSV."""
    parser.add_argument(
        "--delimiter",
        default=None,
        metavar="D",
        help="CSV delimiter: comma, semicolon or tab (default: detected from the header)",
    )
    parser.add_argument(
        "--encoding",
        default=None,
        metavar="E",
        help="CSV text encoding (default utf-8; Excel on Windows writes cp1252)",
    )
