"""``log_posterior_rows`` gives the numbers of ``CompiledEngine.log_posterior_batch`` to the
last bit: on simulated rows of every setting (from no evidence to all of it, impossible
rows included), in batches and as lone rows (which numpy sums in another order)."""

from __future__ import annotations

import numpy as np
import pytest

from model.inference.engine import engine_for, resolve
from model.inference.row_scores import log_posterior_rows
from model.inference.simulate import encode, simulate
from model.network import build_tables
from model.network.evidence_codes import OBSERVABLE
from model.parameters import load_priors

SETTINGS = tuple(load_priors().settings)


@pytest.mark.parametrize("setting", SETTINGS)
def test_equal_to_log_posterior_batch_to_the_last_bit(setting: str) -> None:
    priors, chosen = resolve(None, setting, None)
    engine = engine_for(priors, chosen)
    rng = np.random.default_rng(2)
    codes = np.concatenate(
        [
            encode(simulate(build_tables(priors, chosen), 150, rng, missing), OBSERVABLE)
            for missing in (0.0, 0.2, 0.5, 0.8, 1.0)
        ]
    )
    impossible = codes[:3].copy()  # a part present while its aggregate is absent
    impossible[:, OBSERVABLE.index("hepatomegaly")] = 0
    impossible[:, OBSERVABLE.index("organomegaly")] = 1
    codes = np.concatenate([codes, impossible])
    expected_post, expected_ev = engine.log_posterior_batch(codes)
    assert np.isneginf(expected_ev[-3:]).all()
    for rows in (slice(None), slice(0, 2), slice(-5, None), slice(0, 1)):
        post, ev = log_posterior_rows(engine, codes[rows])
        np.testing.assert_array_equal(post, expected_post[rows])
        np.testing.assert_array_equal(ev, expected_ev[rows])
    for i in range(0, len(codes), 5):  # a lone row, which numpy sums in another order
        lone_post, lone_ev = engine.log_posterior_batch(codes[i : i + 1])
        post, ev = log_posterior_rows(engine, codes[i : i + 1])
        np.testing.assert_array_equal(post, lone_post)
        np.testing.assert_array_equal(ev, lone_ev)
