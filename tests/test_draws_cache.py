"""Parameter draws kept on disk (``model.parameters.draws_cache``): a hit gives exactly the
draws the sampler gives, and a missing, corrupt, foreign or unwritable file only costs time.
Every test points ``POEMS_CACHE_DIR`` at its own temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from model.parameters import Priors, draws_cache, load_priors
from model.parameters.draws_cache import CACHE_ENV, cache_path, cached_draws
from model.parameters.sampling import sample_priors
from model.parameters.schema import Parameter

N_DRAWS = 40
SEED = 7
KEY = "findings.thrombocytosis.cause.diagnosis.mpn"
"""A parameter drawn from a Beta (not held fixed), moved to make other priors."""


@pytest.fixture(scope="module")
def priors() -> Priors:
    return load_priors()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _fresh(priors: Priors, n_draws: int = N_DRAWS, seed: int = SEED) -> dict[str, np.ndarray]:
    return sample_priors(priors, n_draws, np.random.default_rng(seed))


def _other(priors: Priors) -> Priors:
    param = next(e for e in priors.entries() if e.key == KEY)
    assert isinstance(param, Parameter)
    return priors.with_overrides({KEY: param.p * 0.8})


def _same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return list(a) == list(b) and all(np.array_equal(a[k], b[k]) for k in a)


def _no_sampling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("the draws were made again instead of read from the cache")

    monkeypatch.setattr(draws_cache, "sample_priors", refuse)


def test_a_miss_draws_and_saves_then_a_hit_reads_the_same_draws(
    priors: Priors, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = cache_path(priors, N_DRAWS, SEED)
    assert path is not None and path.parent == folder and not path.exists()
    first = cached_draws(priors, N_DRAWS, SEED)
    assert path.is_file()
    assert _same(first, _fresh(priors))
    _no_sampling(monkeypatch)
    again = cached_draws(priors, N_DRAWS, SEED)
    assert _same(again, first)
    with np.load(path, allow_pickle=False) as data:  # plain arrays, no pickled objects
        assert data["values"].shape == (len(first), N_DRAWS)


def test_a_corrupt_file_is_drawn_again_and_replaced(priors: Priors, folder: Path) -> None:
    path = cache_path(priors, N_DRAWS, SEED)
    assert path is not None
    folder.mkdir(parents=True)
    for garbage in (b"", b"not a zip file", b"PK\x03\x04" + b"\x00" * 40):
        path.write_bytes(garbage)
        assert _same(cached_draws(priors, N_DRAWS, SEED), _fresh(priors))
        assert path.stat().st_size > 1000  # rewritten whole


def test_a_file_with_bad_values_is_not_trusted(
    priors: Priors, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = cached_draws(priors, N_DRAWS, SEED)
    path = cache_path(priors, N_DRAWS, SEED)
    assert path is not None
    with np.load(path, allow_pickle=False) as data:
        key, names, values = data["key"], data["names"], data["values"].copy()
    values[0, 0] = 1.5  # not a probability
    np.savez(path, key=key, names=names, values=values)
    assert _same(cached_draws(priors, N_DRAWS, SEED), draws)
    np.savez(path, key=key, names=names[:-1], values=values[:-1])  # a parameter missing
    assert _same(cached_draws(priors, N_DRAWS, SEED), draws)


def test_a_file_saved_for_other_priors_is_ignored(priors: Priors, folder: Path) -> None:
    other = _other(priors)
    assert other.fingerprint != priors.fingerprint
    mine, theirs = cache_path(priors, N_DRAWS, SEED), cache_path(other, N_DRAWS, SEED)
    assert mine is not None and theirs is not None and mine != theirs
    cached_draws(other, N_DRAWS, SEED)
    theirs.replace(mine)  # their file under my name: its stored key does not match
    assert _same(cached_draws(priors, N_DRAWS, SEED), _fresh(priors))


def test_other_priors_seed_or_size_give_other_draws(priors: Priors, folder: Path) -> None:
    other = _other(priors)
    base = cached_draws(priors, N_DRAWS, SEED)
    changed = cached_draws(other, N_DRAWS, SEED)
    assert not np.array_equal(base[KEY], changed[KEY])
    assert _same(changed, _fresh(other))
    assert _same(cached_draws(priors, N_DRAWS, SEED + 1), _fresh(priors, seed=SEED + 1))
    assert _same(cached_draws(priors, N_DRAWS + 1, SEED), _fresh(priors, N_DRAWS + 1))
    assert len(list(folder.glob("draws-*.npz"))) == 4


def test_an_unwritable_or_disabled_cache_still_gives_the_draws(
    priors: Priors, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("x")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    assert _same(cached_draws(priors, N_DRAWS, SEED), _fresh(priors))
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache_path(priors, N_DRAWS, SEED) is None
    assert _same(cached_draws(priors, N_DRAWS, SEED), _fresh(priors))
    assert not list(tmp_path.rglob("draws-*"))


def test_only_the_most_recently_used_files_are_kept(
    priors: Priors, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(draws_cache, "MAX_FILES", 3)
    for seed in range(5):
        cached_draws(priors, N_DRAWS, seed)
        path = cache_path(priors, N_DRAWS, seed)
        assert path is not None
        os.utime(path, (1000.0 + seed, 1000.0 + seed))  # an order the clock cannot tie
    kept = {p.name for p in folder.glob("draws-*.npz")}
    expected = {cache_path(priors, N_DRAWS, seed) for seed in (2, 3, 4)}
    assert kept == {p.name for p in expected if p is not None}
