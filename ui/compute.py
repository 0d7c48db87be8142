"""Cached calls into the core, keyed by the case's JSON so a rerun with the same case is
free. Cached results are shared and never mutated (they are frozen objects); a what-if or a
priors override makes a new object.

The first assessment in a server process builds the network's compiled engine (about a
second); until one has been answered (:func:`network_warm`) the page draws the criteria, which
need no network, and marks P(POEMS) as being computed.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import streamlit as st

from model.assessment import assess
from model.case import Case
from model.criteria import DEFAULT_RULE_SET, evaluate_all
from model.inference.exact import marginals as node_marginals
from model.inference.runtime import freeze_loaded
from model.network.evidence import evidence_for
from model.parameters import Priors
from ui.active_priors import current, default_priors
from ui.priors_io import priors_zip as make_zip

CACHE_ENTRIES = 512


_network_used = threading.Event()


def network_warm() -> bool:
    """True once this process has answered a case (the network and its engine are built)."""
    return _network_used.is_set()


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def criteria_all(case_json: str) -> Mapping[str, Any]:
    """Every rule set's result for the case (``model.criteria.evaluate_all``)."""
    return evaluate_all(Case.from_json(case_json))


def default_rule_set() -> str:
    return DEFAULT_RULE_SET


def active_priors() -> Priors:
    """The session's prior set (``ui.active_priors``: the defaults until the user loads or
    edits one); the case-level calls below use it."""
    return current()


def setting_labels() -> Mapping[str, str]:
    """Setting id -> label from the session's priors."""
    return {sid: setting.label for sid, setting in active_priors().settings.items()}


READY_ENTRIES = 4 * CACHE_ENTRIES
_ready: OrderedDict[tuple[str, str], None] = OrderedDict()
_ready_lock = threading.Lock()


def assessment(case_json: str) -> Any:
    """``model.assessment.assess`` on the session's priors, with every analysis."""
    priors = active_priors()
    result = _assessment(case_json, priors.fingerprint, priors)
    with _ready_lock:
        _ready[(case_json, priors.fingerprint)] = None
        _ready.move_to_end((case_json, priors.fingerprint))
        while len(_ready) > READY_ENTRIES:
            _ready.popitem(last=False)
    return result


def assessment_ready(case_json: str) -> bool:
    """True when :func:`assessment` has answered this case (on the session's priors) in this
    process, so it is served from the cache at once; the page then skips drawing the point
    estimate first. (Should the cache have dropped it since, it is computed again.)"""
    key = (case_json, active_priors().fingerprint)
    with _ready_lock:
        return key in _ready


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def _assessment(case_json: str, priors_fingerprint: str, _priors: Priors) -> Any:
    result = assess(Case.from_json(case_json), priors=_priors)
    _network_used.set()
    return result


def point_assessment(case_json: str) -> Any:
    """The assessment without its analyses (``assess(..., analyses=False)``): P(POEMS), the
    differential, the verdicts and the agreement by exact inference, no parameter draws. The
    cold start shows it while the interval and the analyses are computed."""
    priors = active_priors()
    return _point_assessment(case_json, priors.fingerprint, priors)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def _point_assessment(case_json: str, priors_fingerprint: str, _priors: Priors) -> Any:
    result = assess(Case.from_json(case_json), priors=_priors, analyses=False)
    _network_used.set()
    return result


@st.cache_resource(max_entries=64, show_spinner=False)
def assessment_with(case_json: str, priors_fingerprint: str, _priors: Any) -> Any:
    """The assessment under other priors; keyed by their content fingerprint."""

    return assess(Case.from_json(case_json), priors=_priors)


def marginals(case_json: str) -> Mapping[str, Mapping[str, float]]:
    """Posterior marginal of every network node (``model.inference.exact.marginals``)."""
    priors = active_priors()
    return _marginals(case_json, priors.fingerprint, priors)


@st.cache_resource(max_entries=128, show_spinner=False)
def _marginals(
    case_json: str, priors_fingerprint: str, _priors: Priors
) -> Mapping[str, Mapping[str, float]]:
    return node_marginals(Case.from_json(case_json), priors=_priors)


def evidence(case_json: str) -> Mapping[str, str]:
    """The network evidence the case gives (``model.network.evidence.evidence_for``)."""

    return evidence_for(Case.from_json(case_json))


@st.cache_resource(max_entries=32, show_spinner=False)
def priors_with(overrides: tuple[tuple[str, float], ...]) -> Any:
    """A new Priors with ``overrides`` (the cached default is never changed)."""
    return default_priors().with_overrides(dict(overrides))


@st.cache_resource(max_entries=16, show_spinner=False)
def priors_zip(priors_fingerprint: str, _priors: Any) -> bytes:
    """The priors' TOML files as a zip (``ui.priors_io.priors_zip``), keyed by content."""

    return make_zip(_priors)


@st.cache_resource(show_spinner=False)
def prepare_ahead() -> threading.Thread:
    """Once per server process, in the background: every setting's engine, parameter draws
    and sensitivity tables for the default priors (the model caches them by priors and
    setting), so a new session or a change of setting does not pay for them.

    Started after the first answer is on screen, so it never delays that answer.
    """

    def work() -> None:
        # Linux: the lowest CPU priority for this thread only, so sessions come first
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)

        priors = default_priors()
        for setting in priors.settings:
            try:
                assess(Case(), setting=setting, priors=priors)
            except Exception:  # warming is best effort; a real call reports its own error
                continue
        # what was just loaded lives as long as the server: keep it out of full garbage
        # collections, which otherwise cost 50-110 ms on some patient's answer
        freeze_loaded()

    thread = threading.Thread(target=work, name="poems-prepare-ahead", daemon=True)
    thread.start()
    return thread
