"""Cached calls into the core, keyed by the case's JSON so a rerun with the same case is
free. Cached results are shared and never mutated (they are frozen objects)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from model.case import Case
from ui import core

CACHE_ENTRIES = 512


def criteria_available() -> bool:
    return core.has("criteria", "evaluate_all")


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def criteria_all(case_json: str) -> Mapping[str, Any]:
    """Every rule set's result for the case (``model.criteria.evaluate_all``)."""
    criteria = core.module("criteria")
    assert criteria is not None
    return criteria.evaluate_all(Case.from_json(case_json))


def default_rule_set() -> str:
    criteria = core.module("criteria")
    return str(getattr(criteria, "DEFAULT_RULE_SET", "seed"))


def setting_labels() -> Mapping[str, str]:
    """Setting id -> label from the default priors (empty until the priors land)."""
    return {}
