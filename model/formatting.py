"""How numbers and ids are written for people: one precision policy and one word list.

Precision
---------
:func:`percent` writes a probability with the digits the number itself can carry (two
significant figures below 1 %, one decimal near 0 and 1, whole percentages between), never
"0 %" or "100 %" for a computed probability (a bound such as "< 0.0001 %" or "> 99.9 %"
instead). :func:`probability` does the same for a point estimate that has a credible
interval, and keeps no more digits than the interval supports: a 90 % interval of 78 % to
99 % leaves "92 %", not "92.2 %". The app, the report, the CLI and the teaching pages all call
these two functions, so the same number is written the same way everywhere.

Words
-----
:func:`clinical_text` turns the ids that core messages quote (``castleman_disease``,
``not_met``, ``lt_10_pct``) into the vocabulary's labels, and :func:`state_words`,
:func:`diagnosis_label` and :func:`rule_set_name` name single ids.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from types import MappingProxyType

from model.constants import POEMS
from model.vocabulary import FINDINGS

TINY = 1e-6
"""Below this a probability is written as the bound "< 0.0001 %"."""

DIAGNOSIS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "poems": "POEMS syndrome",
        "castleman_variant_poems": "Castleman-disease variant of POEMS",
        "cidp": "CIDP",
        "mgus_neuropathy": "MGUS neuropathy (incl. anti-MAG)",
        "al_amyloidosis": "AL amyloidosis",
        "multiple_myeloma": "Multiple myeloma",
        "castleman_disease": "Castleman disease (iMCD, TAFRO, unicentric)",
        "diabetic_neuropathy": "Diabetic neuropathy",
        "other_neuropathy": "Other neuropathy",
        "mgus_without_neuropathy": "MGUS or smouldering myeloma without neuropathy",
        "solitary_plasmacytoma": "Solitary or osteosclerotic plasmacytoma (not POEMS)",
        "mpn": "Myeloproliferative neoplasm",
        "tempi": "TEMPI syndrome",
        "scleromyxedema": "Scleromyxoedema",
        "schnitzler_syndrome": "Schnitzler syndrome",
    }
)
"""Diagnosis state -> the name a clinician uses (a state not listed is written from its id)."""

RULE_SET_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "seed": "Mayo/IMWG",
        "mayo_2019": "Mayo 2019",
        "dispenzieri_2003": "Dispenzieri 2003",
        "suichi_2019": "Suichi 2019",
    }
)
"""Rule-set id -> its short name on tabs and in verdict lines."""

STATE_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "present": "present",
        "absent": "absent",
        "unknown": "not assessed",
        "met": "met",
        "not_met": "not met",
        "indeterminate": "indeterminate",
        "inconsistent": "contradicts the case",
        # VEGF bands of the network, as multiples of the specimen's upper limit of normal
        "up_to_1x": "up to the ULN",
        "from_1x_to_2x": "1-2 x ULN",
        "from_2x_to_4x": "2-4 x ULN",
        "from_4x_to_10x": "4-10 x ULN",
        "above_10x": "above 10 x ULN",
        # clonal marrow plasma cells
        "lt_10_pct": "below 10 %",
        "ge_10_pct": "10 % or more",
        # latent nodes
        "markedly_raised": "markedly raised",
        "none": "none",
    }
)
"""State id -> words (finding, criterion and network states)."""

_WORD_FIXES: Mapping[str, str] = MappingProxyType(
    {
        "[UNVERIFIED]": "(cut-off not confirmed in the source)",
        "wording of the seed page": "as restated for patients",
        "as restated by the project's seed patient page": "as restated for patients",
    }
)


# ---------------------------------------------------------------- precision
def percent(p: float) -> str:
    """A probability as a percentage, never claiming more than the number can say.

    Near certainty is a bound ("> 99.9 %"), never "100.0 %"; tiny probabilities keep two
    significant figures ("0.0003 %") and below :data:`TINY` become "< 0.0001 %". Exactly 0
    or 1 (impossible or certain by the rules, not by rounding) stay "0 %" and "100 %".
    """
    if p <= 0.0:
        return "0 %"
    if p >= 1.0:
        return "100 %"
    if p < TINY:
        return "< 0.0001 %"
    if p < 0.01:
        return f"{100 * p:.2g} %"
    if p < 0.1 or p > 0.9:
        text = f"{100 * p:.1f}"
        if text == "100.0":
            return "> 99.99 %" if p > 0.9999 else "> 99.9 %"
        return f"{text} %"
    return f"{100 * p:.0f} %"


def bound_percent(p: float) -> str:
    """An interval end: like :func:`percent`, but a draw that rounded to 0 or 1 is a bound."""
    if p <= TINY:
        return "< 0.0001 %"
    if p >= 1.0:
        return "> 99.99 %"
    return percent(p)


def probability(p: float, interval: tuple[float, float] | None = None) -> str:
    """``p`` as a percentage with no more digits than its credible interval supports.

    Without an interval this is :func:`percent`. With one, the last digit shown is no finer
    than a tenth of the interval's width (on the scale of the smaller tail, so "99.9 %" stays
    when the interval is 99.4 % to 99.99 %), and never finer than :func:`percent` would give.

    Examples
    --------
    >>> probability(0.922, (0.78, 0.989))
    '92 %'
    >>> probability(0.999, (0.994, 0.99995))
    '99.9 %'
    >>> probability(0.00012, (0.00001, 0.004))
    '0.01 %'
    """
    plain = percent(p)
    if interval is None or not 0.0 < p < 1.0 or plain[0] in "<>":
        return plain
    low, high = sorted((float(interval[0]), float(interval[1])))
    if not (math.isfinite(low) and math.isfinite(high)):
        return plain
    if p < 0.01:  # significant figures: one when the interval spans more than a factor 3
        wide = low <= TINY or high / low > 3
        return _significant(100 * p, 1 if wide else 2)
    width = (high - low) * 100  # percentage points
    decimals = 0 if width >= 2 else 1 if width >= 0.2 else 2
    shown = plain.split(" ")[0]
    decimals = min(decimals, len(shown.split(".")[1]) if "." in shown else 0)
    text = f"{100 * p:.{decimals}f}"
    if float(text) >= 100:
        return f"> {100 - 10**-decimals:g} %"
    return f"{text} %"


def posterior_text(
    diagnosis: str, p: float, poems_interval: tuple[float, float] | None = None
) -> str:
    """A diagnosis's posterior in a differential: P(POEMS) exactly as its headline writes it
    (rounded to what its interval supports), every other diagnosis by :func:`percent`."""
    if diagnosis == POEMS:
        return probability(p, poems_interval)
    return percent(p)


def _significant(value: float, figures: int) -> str:
    text = f"{value:.{figures}g}"
    if "e" in text:
        text = f"{value:.{figures + 6}f}".rstrip("0").rstrip(".")
    return f"{text} %"


def interval_text(low: float, high: float) -> str:
    """ "4.2 % to 13 %": a credible interval's two ends, written as bounds when they round."""
    return f"{bound_percent(low)} to {bound_percent(high)}"


# ---------------------------------------------------------------- words
def diagnosis_label(diagnosis: str) -> str:
    """The name of a diagnosis state ("AL amyloidosis" for ``al_amyloidosis``)."""
    return DIAGNOSIS_LABELS.get(diagnosis) or _words_of(diagnosis).capitalize()


def rule_set_name(rule_set: str) -> str:
    """A rule set's short name ("Mayo 2019" for ``mayo_2019``)."""
    return RULE_SET_NAMES.get(rule_set) or _words_of(rule_set).capitalize()


def node_title(node: str) -> str:
    """A network node or finding by its name ("Age band" for ``age_band``)."""
    if node in FINDINGS:
        return FINDINGS[node].label
    return NODE_TITLES.get(node) or _words_of(node).capitalize()


def state_words(state: object) -> str:
    """A state id in words ("not met", "1-2 x ULN", "below 10 %")."""
    text = str(state)
    return STATE_WORDS.get(text, _words_of(text))


def _words_of(identifier: str) -> str:
    return identifier.replace("_", " ").strip()


_ID_PATTERN = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def clinical_text(text: object, extra: Mapping[str, str] | None = None) -> str:
    """``text`` with every quoted id replaced by its label.

    Finding ids become their vocabulary label, diagnosis states their name, rule sets their
    short name, known states their words and ``extra`` (for example setting id -> label) its
    value; any other ``word_word`` id loses its underscores. Project shorthand that is not
    clinical language ("[UNVERIFIED]") is written out.
    """
    out = str(text)
    for raw, fixed in _WORD_FIXES.items():
        out = out.replace(raw, fixed)
    names = dict(extra or {})

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in names:
            return names[token]
        if token in FINDINGS:
            return FINDINGS[token].label
        if token in DIAGNOSIS_LABELS:
            return DIAGNOSIS_LABELS[token]
        if token in RULE_SET_NAMES:
            return RULE_SET_NAMES[token]
        if token in STATE_WORDS:
            return STATE_WORDS[token]
        return _words_of(token)

    out = _ID_PATTERN.sub(replace, out)
    return re.sub(r"\bcidp\b", "CIDP", out)


NODE_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "diagnosis": "Diagnosis",
        "plasma_cell_clone": "Plasma cell clone",
        "poems_activity": "POEMS disease activity",
        "incidental_mgus": "Incidental MGUS",
        "vegf_other_cause": "Other cause of raised VEGF",
        "age_band": "Age band",
        "sex": "Sex",
        "sclerotic_lesion_size": "Largest sclerotic lesion",
        "vegf_serum": "Serum VEGF (x ULN)",
        "vegf_plasma": "Plasma VEGF (x ULN)",
        "bone_marrow_plasma_cells": "Bone-marrow plasma cells",
    }
)
"""Network node -> its name, for nodes that are not a vocabulary finding (one table for the
parameter labels, the priors editor and the Network page)."""


def parameter_label(key: str, diagnosis_labels: Mapping[str, str] | None = None) -> str:
    """A priors parameter's key path in clinical words (finding and diagnosis labels, not ids).

    ``findings.hepatomegaly.given.poems`` -> "Hepatomegaly | POEMS syndrome";
    ``settings.neuropathy_clinic.probs.poems`` -> "Base rate of POEMS syndrome (neuropathy
    clinic)"; ``findings.thrombocytosis.leak`` -> "Thrombocytosis: background rate (no
    modelled cause)". Diagnoses are named by ``diagnosis_labels`` (default
    :data:`DIAGNOSIS_LABELS`). Unknown shapes fall back to the key with spaces, never fail.
    """
    names = dict(DIAGNOSIS_LABELS if diagnosis_labels is None else diagnosis_labels)

    def state(s: str) -> str:
        return names.get(s, s.replace("_", " "))

    def node(n: str) -> str:
        if n in NODE_TITLES:
            return NODE_TITLES[n]
        return FINDINGS[n].label if n in FINDINGS else n.replace("_", " ").capitalize()

    parts = key.split(".")
    try:
        stem, name, *rest = parts
        if stem == "settings" and rest[:1] == ["probs"]:
            return f"Base rate of {state(rest[1])} ({name.replace('_', ' ')})"
        title = node(name)
        if rest == ["leak"]:
            return f"{title}: background rate (no modelled cause)"
        if rest[:2] == ["cause", "poems_activity"]:
            return f"{title}: caused by {rest[2].replace('_', ' ')} POEMS activity"
        if rest[:2] == ["cause", "diagnosis"]:
            return f"{title}: caused by {state(rest[2])}"
        if rest[:1] == ["given"] and "probs" in rest:
            at = rest.index("probs")
            given = ", ".join(state(s) for s in rest[1:at])
            return f"{title} = {rest[at + 1].replace('_', ' ')} | {given}"
        if rest[:1] == ["given"] and len(rest) >= 2:
            return f"{title} | " + ", ".join(state(s) for s in rest[1:])
    except (ValueError, IndexError):
        pass
    return key.replace(".", " ").replace("_", " ")
