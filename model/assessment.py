"""One call that answers for a case: posterior, differential, criteria, and how they compare.

:func:`assess` returns a frozen :class:`Assessment` that renders itself (``to_dict``,
``to_markdown``); the CLI and the app only display it. Optional fields (``contributions``,
``next_tests``, ``credible_interval``, ``sensitivity``) default to ``None`` so analyses can be
attached later with :func:`dataclasses.replace` without changing this module's callers.

The agreement text compares the default rule set's verdict with P(POEMS). The probability
bands it uses (:data:`LOW_PROBABILITY`, :data:`HIGH_PROBABILITY`) are reading aids chosen by
the team, not published decision thresholds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from model import analysis
from model.analysis.settle import settle
from model.analysis.workup import admissible_nodes, workup
from model.case import Case
from model.constants import DISCLAIMER
from model.criteria import DEFAULT_RULE_SET, FLAG_TEXT, CriteriaResult, evaluate_all
from model.exceptions import InputError
from model.inference.engine import engine_for, resolve
from model.inference.exact import posterior as exact_posterior
from model.network.evidence import NOT_IN_NETWORK, evidence_for
from model.network.structure import DIAGNOSIS_STATES
from model.parameters import Priors
from model.vocabulary import label

LOW_PROBABILITY = 0.10
HIGH_PROBABILITY = 0.50

DIAGNOSIS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "poems": "POEMS syndrome",
        "cidp": "CIDP",
        "mgus_neuropathy": "MGUS neuropathy (incl. anti-MAG)",
        "al_amyloidosis": "AL amyloidosis",
        "multiple_myeloma": "Multiple myeloma",
        "castleman_disease": "Castleman disease",
        "other_neuropathy": "Other neuropathy",
    }
)


@dataclass(frozen=True)
class Assessment:
    """Everything the tool says about one case, in one immutable object.

    Attributes
    ----------
    case : the case assessed.
    setting, setting_label : the clinical setting whose base rates were used.
    prior : base rate of every diagnosis state in that setting.
    posterior : P(diagnosis | findings) for every diagnosis state (exact: the compiled
        engine, which agrees with pgmpy's variable elimination to 1e-9; ``engine`` says which).
    evidence : the network evidence used (node -> state).
    criteria : every rule set's result (``model.criteria.evaluate_all``), default first.
    agreement : plain words: do the criteria and the probability agree, and why.
    notes : caveats about how the case was read.
    contributions, next_tests, credible_interval, sensitivity : the analyses of
        :mod:`model.analysis` (``None`` when ``assess(..., analyses=False)``).
        ``next_tests`` scores single findings (never one the case format would reject).
    workup : :class:`model.analysis.workup.Workup`, the orderable tests in the order an
        expert orders them (tier, then value), or a plain "settled".
    engine : ``"compiled"`` or ``"pgmpy"`` (the reference), the engine behind ``posterior``.
    """

    case: Case
    setting: str
    setting_label: str
    prior: Mapping[str, float]
    posterior: Mapping[str, float]
    evidence: Mapping[str, str]
    criteria: Mapping[str, CriteriaResult]
    agreement: str
    notes: tuple[str, ...] = ()
    contributions: Any = None
    next_tests: Any = None
    credible_interval: Any = None
    sensitivity: Any = None
    engine: str = "compiled"
    workup: Any = None

    @property
    def posterior_poems(self) -> float:
        return self.posterior["poems"]

    @property
    def prior_poems(self) -> float:
        return self.prior["poems"]

    @property
    def differential(self) -> list[tuple[str, float]]:
        """Diagnosis states by decreasing posterior."""
        return sorted(self.posterior.items(), key=lambda kv: -kv[1])

    @property
    def verdict(self) -> str:
        """The default rule set's verdict."""
        return self.criteria[DEFAULT_RULE_SET].verdict

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; ``criteria`` is the same object ``poems criteria --json`` prints."""
        out: dict[str, Any] = {
            "case": self.case.to_dict(),
            "setting": self.setting,
            "setting_label": self.setting_label,
            "prior": dict(self.prior),
            "posterior": dict(self.posterior),
            "posterior_poems": self.posterior_poems,
            "differential": [{"diagnosis": d, "probability": p} for d, p in self.differential],
            "evidence": dict(self.evidence),
            "criteria": {k: r.to_dict() for k, r in self.criteria.items()},
            "agreement": self.agreement,
            "notes": list(self.notes),
            "engine": self.engine,
            "disclaimer": DISCLAIMER,
        }
        for name in ("contributions", "next_tests", "credible_interval", "sensitivity", "workup"):
            value = getattr(self, name)
            if value is not None:
                out[name] = _plain(value)
        return out

    def to_markdown(self) -> str:
        title = self.case.id or "case"
        lines = [
            f"## POEMS assessment: {title}",
            "",
            f"**P(POEMS) {equals(self.posterior_poems)}** (base rate {_pct(self.prior_poems)} "
            f"in the setting *{self.setting_label}*).",
            "",
            "| diagnosis | before findings | after findings |",
            "|---|---|---|",
        ]
        for d, p in self.differential:
            lines.append(f"| {DIAGNOSIS_LABELS[d]} | {_pct(self.prior[d])} | {_pct(p)} |")
        lines += ["", "### Formal criteria", "", "| rule set | verdict |", "|---|---|"]
        for rule_id, result in self.criteria.items():
            lines.append(f"| {result.title} (`{rule_id}`) | {result.verdict.replace('_', ' ')} |")
        lines += ["", "### Criteria and probability", "", self.agreement]
        if self.credible_interval is not None:
            ci = self.credible_interval
            lines += ["", f"{interval_text(ci)}. {ci.meaning}"]
        if self.workup is not None:
            lines += ["", "### Next tests (work-up)", "", self.workup.to_markdown()]
        if self.notes:
            lines += ["", "### Notes", "", *[f"- {n}" for n in self.notes]]
        lines += ["", f"*{DISCLAIMER}*"]
        return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    """An analysis result (object with ``to_dict``, or a tuple of them) as plain JSON data."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _pct(p: float) -> str:
    """A probability as a percentage, never claiming more than the model can say.

    Near certainty is written as a bound ("> 99.9 %"), never "100.0 %"; tiny probabilities
    keep two significant figures (the base-rate lesson needs "0.0003 %", not "0 %").
    """
    if p <= 0.0:
        return "0 %"
    if p >= 1.0:
        return "100 %"
    if p < 1e-6:
        return "< 0.0001 %"
    if p < 0.01:
        return f"{100 * p:.2g} %"
    if p < 0.1 or p > 0.9:
        text = f"{100 * p:.1f}"
        if text == "100.0":
            return "> 99.99 %" if p > 0.9999 else "> 99.9 %"
        return f"{text} %"
    return f"{100 * p:.0f} %"


def _band(p: float) -> str:
    if p >= HIGH_PROBABILITY:
        return "high"
    if p < LOW_PROBABILITY:
        return "low"
    return "intermediate"


def equals(p: float) -> str:
    """``"= 42 %"``, or ``"> 99.9 %"`` when the percentage is a bound (no ``"= > 99.9 %"``)."""
    text = _pct(p)
    return text if text[0] in "<>" else f"= {text}"


def interval_text(ci: Any) -> str:
    """``90 % credible interval 12 % to 40 % (uncertainty in the parameters, ...)``."""
    return (
        f"{round(100 * ci.level)} % credible interval {_pct(ci.low)} to {_pct(ci.high)} "
        f"({ci.label}; {ci.n_draws} parameter draws)"
    )


def percent(p: float) -> str:
    """Public alias of the percentage formatting used in reports."""
    return _pct(p)


def strongest_findings(
    priors: Priors, setting: str, evidence: Mapping[str, str], k: int = 2
) -> tuple[list[str], list[str]]:
    """The ``k`` observed findings pushing P(POEMS) up most and down most.

    Each finding's push is the change in log-odds of POEMS when it alone is left out
    (exact: all leave-one-out patterns in one compiled-engine batch). Findings whose
    removal changes nothing (an aggregate implied by a part that stays) are skipped.
    """
    engine = engine_for(priors, setting)
    nodes = list(evidence)
    patterns = [dict(evidence)] + [{n: s for n, s in evidence.items() if n != x} for x in nodes]
    k_poems = engine.query_states.index("poems")
    p = engine.posterior_batch(engine.encode(patterns))[:, k_poems]
    full = float(p[0])
    pushes: list[tuple[float, str]] = []
    for node, without in zip(nodes, p[1:], strict=True):
        push = _logit(full) - _logit(float(without))
        if abs(push) > 1e-6:
            pushes.append((push, f"{label(node)} {evidence[node].replace('_', ' ')}"))
    up = [name for push, name in sorted(pushes, reverse=True) if push > 0][:k]
    down = [name for push, name in sorted(pushes) if push < 0][:k]
    return up, down


def _logit(p: float) -> float:
    p = min(max(p, 1e-300), 1 - 1e-16)
    return math.log(p / (1 - p))


def agreement_text(
    result: CriteriaResult,
    posterior: Mapping[str, float],
    prior: Mapping[str, float],
    drivers: tuple[list[str], list[str]] | None = None,
) -> str:
    """Plain words comparing the criteria verdict with P(POEMS).

    ``drivers`` (findings pushing P(POEMS) up, down; see :func:`strongest_findings`) are
    named when the two answers disagree.
    """
    text = _agreement(result, posterior, prior)
    if drivers is not None and not text.startswith("Agree"):
        up, down = drivers
        if up:
            text += " Strongest for POEMS: " + ", ".join(up) + "."
        if down:
            text += " Strongest against: " + ", ".join(down) + "."
    return text


def _agreement(
    result: CriteriaResult, posterior: Mapping[str, float], prior: Mapping[str, float]
) -> str:
    p = posterior["poems"]
    band = _band(p)
    rival, rival_p = max(
        ((d, q) for d, q in posterior.items() if d != "poems"), key=lambda kv: kv[1]
    )
    rival_text = f"{DIAGNOSIS_LABELS[rival]} ({_pct(rival_p)})"
    prob = f"the network gives P(POEMS) {equals(p)}"
    missing = [c.label for c in result.criteria if c.role == "mandatory" and c.status == "not_met"]
    unknown = [c.label for c in result.criteria if c.status == "indeterminate"]
    verdict = result.verdict
    if verdict == "met" and band == "high":
        return f"Agree: the criteria ({result.rule_set}) are met and {prob}."
    if verdict == "not_met" and band == "low":
        why = f" (not met: {'; '.join(missing)})" if missing else ""
        return f"Agree: the criteria are not met{why} and {prob}; most likely is {rival_text}."
    if verdict == "met":
        return (
            f"Disagree: the criteria are met, but {prob}. The criteria count features; the "
            f"network also weighs how often each feature occurs in the mimics and the base "
            f"rate of the setting ({_pct(prior['poems'])}), and here it favours {rival_text}. "
            "Check the findings that the mimic explains as well."
        )
    if verdict == "not_met":
        if band == "high":
            why = "; ".join(missing) if missing else "a required combination"
            return (
                f"Disagree: the criteria are not met (missing: {why}), yet {prob}. The "
                "criteria demand specific findings, while the network adds up every finding; "
                "the missing one may be a test not done well (for example an M-protein too "
                "small for electrophoresis) or an atypical presentation."
            )
        return (
            f"Partly agree: the criteria are not met and {prob}, which is not negligible; "
            f"most likely is {rival_text}."
        )
    # indeterminate
    open_items = "; ".join(unknown[:4]) if unknown else "findings not assessed"
    return (
        f"Undecided: the criteria depend on findings not assessed ({open_items}); with what is "
        f"known {prob}."
    )


CRITERIA_NOTES: tuple[str, ...] = (
    "castleman_variant",
    "castleman_without_clone",
    "vegf_reading_applied",
    "vegf_specimen_not_read",
)
"""Criteria flags repeated as assessment notes (with the rule sets that raised them)."""


def _notes(
    case: Case,
    evidence: Mapping[str, str],
    criteria: Mapping[str, CriteriaResult],
    setting: str,
    setting_from_case: bool,
) -> tuple[str, ...]:
    notes: list[str] = []
    if not evidence:
        notes.append("No findings entered: the probabilities are the setting's base rates.")
    vegf = case.vegf
    if vegf is not None:
        notes.append(f"VEGF read as {vegf.describe()}.")
        if vegf.uln_is_default:
            notes.append(
                "No ULN was given with the VEGF value: the documented default ULN for the "
                "specimen was used. Enter your lab's ULN for a firmer reading."
            )
        if case.entered("vegf_elevated") is not None:
            notes.append("The network reads the measured VEGF; 'vegf_elevated' was not used.")
    for fid in NOT_IN_NETWORK:
        if case.entered(fid) is not None:
            notes.append(
                f"'{fid}' is used by the criteria only; the network does not read lesion size."
            )
    for flag in CRITERIA_NOTES:
        raised_by = [rule_id for rule_id, r in criteria.items() if flag in r.flags]
        if raised_by:
            notes.append(f"{FLAG_TEXT[flag]} ({', '.join(raised_by)})")
    if not setting_from_case:
        notes.append(f"Setting '{setting}' used (the case names none).")
    return tuple(notes)


def assess(
    case: Case,
    *,
    setting: str | None = None,
    priors: Priors | None = None,
    analyses: bool = True,
    sensitivity: bool = True,
    engine: str = "compiled",
) -> Assessment:
    """Assess a case: exact posterior, every rule set, how they compare, and why.

    Parameters
    ----------
    case : a validated case.
    setting : clinical setting id (default: the case's, else ``neuropathy_clinic``).
    priors : priors to use (default: the repository's ``priors/``).
    analyses : also compute contributions, next-best tests, the 90 % credible interval
        (2,000 parameter draws) and the one-way sensitivity (:mod:`model.analysis`).
    sensitivity : with ``analyses``, also the one-way sensitivity (False skips it).
    engine : ``"compiled"`` (default; agrees with pgmpy to 1e-9, see
        ``tests/test_compiled_real_network.py``) or ``"pgmpy"`` (variable elimination, the
        reference).

    Raises
    ------
    ImpossibleEvidenceError : the findings have probability zero under the network.
    """
    if engine not in ENGINES:
        raise InputError("engine", engine, "one of " + ", ".join(ENGINES), "Use 'compiled'.")
    priors, chosen = resolve(case, setting, priors)
    evidence = evidence_for(case)
    compiled = engine_for(priors, chosen)
    if engine == "pgmpy":
        post = exact_posterior(case, setting=chosen, priors=priors)
    else:
        post = compiled.posterior(evidence)
    base = dict(priors.setting(chosen).base_rates)
    criteria = evaluate_all(case)
    agreement = agreement_text(criteria[DEFAULT_RULE_SET], post, base)
    if evidence and not agreement.startswith("Agree"):  # name the drivers only when it helps
        drivers = strongest_findings(priors, chosen, evidence)
        agreement = agreement_text(criteria[DEFAULT_RULE_SET], post, base, drivers)
    notes = _notes(
        case, evidence, criteria, chosen, setting is not None or case.setting is not None
    )
    extra: dict[str, Any] = {}
    if analyses:
        candidates = admissible_nodes(case, compiled, evidence)
        extra = {
            "contributions": analysis.contributions(compiled, evidence),
            "next_tests": settle(
                analysis.next_tests(compiled, evidence, candidates), criteria[DEFAULT_RULE_SET]
            ),
            "workup": workup(case, compiled, evidence, criteria[DEFAULT_RULE_SET]),
            "credible_interval": analysis.credible_interval(priors, chosen, evidence),
            "sensitivity": (
                analysis.sensitivity(priors, chosen, evidence) if sensitivity else None
            ),
        }
    return Assessment(
        case=case,
        setting=chosen,
        setting_label=priors.setting(chosen).label,
        prior=MappingProxyType({d: base[d] for d in DIAGNOSIS_STATES}),
        posterior=MappingProxyType(dict(post)),
        evidence=MappingProxyType(dict(evidence)),
        criteria=MappingProxyType(dict(criteria)),
        agreement=agreement,
        notes=notes,
        engine=engine,
        **extra,
    )


ENGINES: tuple[str, ...] = ("compiled", "pgmpy")
