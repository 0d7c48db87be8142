"""Parameter draws saved on disk, so a new process does not draw them again.

The credible interval of P(POEMS) needs every parameter drawn 2,000 times
(:func:`model.parameters.sampling.sample_priors`); the draws depend only on the priors, the
sampler, the number of draws and the seed, never on the patient. :func:`cached_draws` keeps
them in a user cache folder, one NumPy ``.npz`` file per (priors fingerprint, sampler
version, number of draws, seed), and reads them back instead of drawing again.

The cache is only ever a shortcut, never a source of truth:

* the file is read with ``allow_pickle=False`` and checked (its key, the parameter names, the
  shape, every value finite and in [0, 1]); anything else is ignored and the draws are made
  afresh;
* a missing, unreadable, corrupt or unwritable cache gives the same draws, only slower; it
  never stops an assessment;
* files are written to a temporary name and renamed, so a reader never sees half a file;
* at most :data:`MAX_FILES` files are kept (about 11 MB each for the default priors); the
  least recently used go first, so editing priors many times does not fill the disk.

The folder is ``$POEMS_CACHE_DIR`` when set (``off`` turns the cache off), else
``$XDG_CACHE_HOME/poems-dx`` or ``~/.cache/poems-dx``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from model.parameters.sampling import SAMPLER_VERSION, sample_priors

if TYPE_CHECKING:  # annotations only (Priors imports this package)
    from model.parameters.priors import Priors

CACHE_ENV = "POEMS_CACHE_DIR"
"""Environment variable naming the cache folder (``off`` turns the cache off)."""
CACHE_OFF = "off"
FOLDER_NAME = "poems-dx"
FILE_PREFIX = "draws-"
MAX_FILES = 8
"""Files kept in the cache folder; older ones (by last use) are deleted after a write."""


def cache_directory() -> Path | None:
    """The folder draws are kept in, or ``None`` when the cache is turned off."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env.lower() == CACHE_OFF:
        return None
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / FOLDER_NAME


def cache_key(priors: Priors, n_draws: int, seed: int) -> str:
    """What the draws depend on, as one string (stored in the file and checked on reading)."""
    return f"{priors.fingerprint}|sampler-{SAMPLER_VERSION}|n-{n_draws}|seed-{seed}"


def cache_path(priors: Priors, n_draws: int, seed: int) -> Path | None:
    """The file for these draws (``None`` when the cache is off)."""
    folder = cache_directory()
    if folder is None:
        return None
    digest = hashlib.sha256(cache_key(priors, n_draws, seed).encode()).hexdigest()[:32]
    return folder / f"{FILE_PREFIX}{digest}.npz"


def cached_draws(priors: Priors, n_draws: int, seed: int) -> dict[str, np.ndarray]:
    """``sample_priors(priors, n_draws, default_rng(seed))``, read from disk when saved there.

    The result is the same whether it comes from the file or is drawn afresh (the file holds
    exactly what the sampler returned).
    """
    path = cache_path(priors, n_draws, seed)
    key = cache_key(priors, n_draws, seed)
    if path is not None:
        saved = _read(path, key, n_draws)
        if saved is not None:
            with contextlib.suppress(OSError):
                os.utime(path)  # last used now: pruning keeps it
            return saved
    draws = sample_priors(priors, n_draws, np.random.default_rng(seed))
    if path is not None:
        _write(path, key, draws)
    return draws


def _read(path: Path, key: str, n_draws: int) -> dict[str, np.ndarray] | None:
    """The draws in ``path`` if it is a sound file for ``key``; ``None`` otherwise."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            names = [str(n) for n in data["names"]]
            values = np.asarray(data["values"], dtype=float)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if values.shape != (len(names), n_draws) or len(set(names)) != len(names):
        return None
    if not np.all(np.isfinite(values)) or values.min(initial=0.0) < 0 or values.max() > 1:
        return None
    return {name: values[i] for i, name in enumerate(names)}


def _write(path: Path, key: str, draws: dict[str, np.ndarray]) -> None:
    """Save the draws (best effort: a folder that cannot be written is skipped silently)."""
    names = list(draws)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=FILE_PREFIX, suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            np.savez(
                out,
                key=np.array(key),
                names=np.array(names),
                values=np.stack([np.asarray(draws[n], dtype=float) for n in names]),
            )
        os.replace(temporary, path)
        temporary = None
        _prune(path.parent)
    except (OSError, ValueError):
        return
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _prune(folder: Path) -> None:
    """Delete all but the :data:`MAX_FILES` most recently used draws files."""
    files = []
    for file in folder.glob(f"{FILE_PREFIX}*.npz"):
        with contextlib.suppress(OSError):
            files.append((file.stat().st_mtime, file))
    for _, old in sorted(files, reverse=True)[MAX_FILES:]:
        with contextlib.suppress(OSError):
            old.unlink()
