"""Shared test settings.

Hypothesis: no per-example deadline (pgmpy calls vary with machine load on 2 shared cores),
and a derandomised profile in CI so a red run reproduces.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from model.parameters.draws_cache import CACHE_ENV

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=100,
    derandomize=True,
    print_blob=True,
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(autouse=True, scope="session")
def _draws_cache_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Parameter draws saved on disk (``model.parameters.draws_cache``) go to a temporary
    folder, never the user's cache; subprocesses (CLI, app server) inherit it."""
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("draws-cache"))
