"""Cached calls into the core, keyed by the case's JSON so a rerun with the same case is
free. Cached results are shared and never mutated (they are frozen objects); a what-if or a
priors override makes a new object."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import streamlit as st

from model.case import Case
from ui import core

CACHE_ENTRIES = 512


def criteria_available() -> bool:
    return core.has("criteria", "evaluate_all")


def assessment_available() -> bool:
    return core.has("assessment", "assess")


def network_warm() -> bool:
    """True once the assessment's heavy imports (pgmpy) are loaded in this process."""
    return "model.assessment" in sys.modules and assessment_available()


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def criteria_all(case_json: str) -> Mapping[str, Any]:
    """Every rule set's result for the case (``model.criteria.evaluate_all``)."""
    criteria = core.module("criteria")
    assert criteria is not None
    return criteria.evaluate_all(Case.from_json(case_json))


def default_rule_set() -> str:
    criteria = core.module("criteria")
    return str(getattr(criteria, "DEFAULT_RULE_SET", "seed"))


@st.cache_resource(show_spinner=False)
def default_priors() -> Any:
    """The repository's priors, loaded once per process and never mutated."""
    parameters = core.module("parameters")
    assert parameters is not None
    return parameters.load_priors()


def priors_available() -> bool:
    return core.has("parameters", "load_priors")


def setting_labels() -> Mapping[str, str]:
    """Setting id -> label from the default priors (empty until the priors land)."""
    if not priors_available():
        return {}
    try:
        priors = default_priors()
    except Exception:  # the outermost layer: a broken priors file disables the selector
        core.LOG.exception("default priors failed to load")
        return {}
    return {sid: setting.label for sid, setting in priors.settings.items()}


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def assessment(case_json: str) -> Any:
    """``model.assessment.assess`` on the default priors."""
    assessment_mod = core.module("assessment")
    assert assessment_mod is not None
    return assessment_mod.assess(Case.from_json(case_json), priors=default_priors())


@st.cache_resource(max_entries=64, show_spinner=False)
def assessment_with(case_json: str, priors_fingerprint: str, _priors: Any) -> Any:
    """The assessment under other priors; keyed by their content fingerprint."""
    assessment_mod = core.module("assessment")
    assert assessment_mod is not None
    return assessment_mod.assess(Case.from_json(case_json), priors=_priors)


def network_available() -> bool:
    return core.has("inference.exact", "marginals") and core.has("network.structure", "NODES")


@st.cache_resource(max_entries=128, show_spinner=False)
def marginals(case_json: str) -> Mapping[str, Mapping[str, float]]:
    """Posterior marginal of every network node (``model.inference.exact.marginals``)."""
    exact = core.module("inference.exact")
    assert exact is not None
    return exact.marginals(Case.from_json(case_json), priors=default_priors())


def evidence(case_json: str) -> Mapping[str, str]:
    """The network evidence the case gives (``model.network.evidence.evidence_for``)."""
    evidence_mod = core.module("network.evidence")
    assert evidence_mod is not None
    return evidence_mod.evidence_for(Case.from_json(case_json))


@st.cache_resource(max_entries=32, show_spinner=False)
def priors_with(overrides: tuple[tuple[str, float], ...]) -> Any:
    """A new Priors with ``overrides`` (the cached default is never changed)."""
    return default_priors().with_overrides(dict(overrides))


@st.cache_resource(max_entries=16, show_spinner=False)
def priors_zip(priors_fingerprint: str, _priors: Any) -> bytes:
    """The priors' TOML files as a zip (``ui.priors_io.priors_zip``), keyed by content."""
    from ui.priors_io import priors_zip as make_zip

    return make_zip(_priors)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def what_if(case_json: str, setting: str) -> Any:
    """Each unassessed finding's effect if present / absent (``ui.whatif.what_if``)."""
    from ui.whatif import what_if as compute_what_if

    return compute_what_if(Case.from_json(case_json), default_priors(), setting)


# ---------------------------------------------------------------- analyses
from ui.complete import INTERVAL_DRAWS, INTERVAL_LEVEL  # noqa: E402  (one place for both)

# INTERVAL_DRAWS: parameter draws for the credible interval when the assessment carries none
# (the teaching page uses the same number: the 5th and 95th percentiles move by about a
# percentage point between runs of 400).
SENSITIVITY_TOP = 10


def analysis_available() -> bool:
    return core.has("analysis", "next_tests") and core.has("inference.batch", "engine_for")


def _engine(setting: str) -> Any:
    batch = core.module("inference.batch")
    assert batch is not None
    return batch.engine_for(default_priors(), setting)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def contributions(case_json: str, setting: str) -> Any:
    """``model.analysis.contributions`` on the compiled engine of the setting."""
    analysis = core.module("analysis")
    assert analysis is not None
    return analysis.contributions(_engine(setting), evidence(case_json))


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def next_tests(case_json: str, setting: str) -> Any:
    """``model.analysis.next_tests``: unassessed findings by expected information gain."""
    analysis = core.module("analysis")
    assert analysis is not None
    return analysis.next_tests(_engine(setting), evidence(case_json))


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def credible_interval(case_json: str, setting: str) -> Any:
    """``model.analysis.credible_interval`` over parameter draws (fixed seed: repeatable)."""
    import numpy as np

    analysis = core.module("analysis")
    assert analysis is not None
    return analysis.credible_interval(
        default_priors(),
        setting,
        evidence(case_json),
        n_draws=INTERVAL_DRAWS,
        level=INTERVAL_LEVEL,
        rng=np.random.default_rng(0),
    )


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def sensitivity(case_json: str, setting: str) -> Any:
    """``model.analysis.sensitivity``: the parameters whose range moves P(POEMS) most."""
    analysis = core.module("analysis")
    assert analysis is not None
    return analysis.sensitivity(
        default_priors(), setting, evidence(case_json), top_k=SENSITIVITY_TOP
    )
