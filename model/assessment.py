"""One call that answers for a case: posterior, differential, criteria, and how they compare.

:func:`assess` returns a frozen :class:`Assessment` that renders itself (``to_dict``,
the report of :func:`model.report.render_report`, the one renderer); the CLI and the app only
display it. Optional fields (``contributions``,
``next_tests``, ``credible_interval``, ``sensitivity``) default to ``None`` so analyses can be
attached later with :func:`dataclasses.replace` without changing this module's callers.

The agreement text compares the default rule set's verdict with P(POEMS). The probability
bands it uses (:data:`LOW_PROBABILITY`, :data:`HIGH_PROBABILITY`) are reading aids chosen by
the team, not published decision thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from model import analysis
from model.analysis.settle import Settling
from model.analysis.workup import admissible_nodes, workup
from model.case import Case
from model.constants import DISCLAIMER
from model.criteria import DEFAULT_RULE_SET, FLAG_TEXT, CriteriaResult, evaluate_all
from model.exceptions import InputError
from model.formatting import (
    DIAGNOSIS_LABELS,
    diagnosis_label,
    percent,
    probability,
    rule_set_name,
    state_words,
)
from model.inference.engine import engine_for, resolve
from model.inference.exact import posterior as exact_posterior
from model.network.evidence import NOT_IN_NETWORK, evidence_for, setting_conflicts
from model.network.structure import DIAGNOSIS_STATES
from model.parameters import Priors
from model.plausibility import check_notes
from model.vocabulary import label

LOW_PROBABILITY = 0.10
HIGH_PROBABILITY = 0.50

__all__ = ["DIAGNOSIS_LABELS", "Assessment", "assess", "equals", "percent"]
"""``DIAGNOSIS_LABELS`` and ``percent`` live in :mod:`model.formatting`; re-exported here."""


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
    setting_conflicts : the setting's defining findings that the case contradicts, as
        ``{"finding", "setting_state", "case_state"}`` (e.g. no neuropathy in a neuropathy
        clinic); each also has a sentence in ``notes``.
    checks : ``Check:`` notes on findings that are possible together but suspicious
        (:mod:`model.plausibility`: an entry error is as likely as the clinical reason);
        each is also the first of ``notes``. They change no number.
    contributions, next_tests, credible_interval, sensitivity : the analyses of
        :mod:`model.analysis` (``None`` when ``assess(..., analyses=False)``).
        ``next_tests`` scores single findings (never one the case format would reject).
    workup : :class:`model.analysis.workup.Workup`, the orderable tests in the order an
        expert orders them (tier, then value), or a plain "settled".
    engine : ``"compiled"`` or ``"pgmpy"`` (the reference), the engine behind ``posterior``.
    priors_fingerprint : content fingerprint of the priors used (printed on the report).
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
    setting_conflicts: tuple[Mapping[str, str], ...] = ()
    checks: tuple[str, ...] = ()
    contributions: Any = None
    next_tests: Any = None
    credible_interval: Any = None
    sensitivity: Any = None
    engine: str = "compiled"
    priors_fingerprint: str = ""
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
            "setting_conflicts": [dict(c) for c in self.setting_conflicts],
            "checks": list(self.checks),
            "engine": self.engine,
            "priors_fingerprint": self.priors_fingerprint,
            "disclaimer": DISCLAIMER,
        }
        for name in ("contributions", "next_tests", "credible_interval", "sensitivity", "workup"):
            value = getattr(self, name)
            if value is not None:
                out[name] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    """An analysis result (object with ``to_dict``, or a tuple of them) as plain JSON data."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _pct(p: float) -> str:
    return percent(p)


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


def strongest_findings(contributions: Any, k: int = 2) -> tuple[list[str], list[str]]:
    """The ``k`` observed findings pushing P(POEMS) up most and down most.

    Read from the assessment's contributions (:func:`model.analysis.contributions`, the
    ordered chain drawn in the app's *Why* chart), so the text and the chart always name
    the same findings. Pushes smaller than 1e-6 in log-odds are skipped.
    """
    pushes = [
        (float(c.log_odds_change), f"{c.label} {state_words(c.state)}")
        for c in getattr(contributions, "items", ())
        if abs(c.log_odds_change) > 1e-6
    ]
    up = [name for push, name in sorted(pushes, reverse=True) if push > 0][:k]
    down = [name for push, name in sorted(pushes) if push < 0][:k]
    return up, down


def agreement_text(
    result: CriteriaResult,
    posterior: Mapping[str, float],
    prior: Mapping[str, float],
    drivers: tuple[list[str], list[str]] | None = None,
    interval: tuple[float, float] | None = None,
) -> str:
    """Plain words comparing the criteria verdict with P(POEMS).

    ``drivers`` (findings pushing P(POEMS) up, down; see :func:`strongest_findings`) are
    named when the two answers disagree; ``interval`` (the credible interval) sets how many
    digits P(POEMS) is written with (:func:`model.formatting.probability`).
    """
    return _with_drivers(_agreement(result, posterior, prior, interval), drivers)


def _with_drivers(text: str, drivers: tuple[list[str], list[str]] | None) -> str:
    """The agreement text with the strongest findings named, unless the answers agree."""
    if drivers is not None and not text.startswith("Agree"):
        up, down = drivers
        if up:
            text += " Strongest for POEMS: " + ", ".join(up) + "."
        if down:
            text += " Strongest against: " + ", ".join(down) + "."
    return text


def _agreement(
    result: CriteriaResult,
    posterior: Mapping[str, float],
    prior: Mapping[str, float],
    interval: tuple[float, float] | None = None,
) -> str:
    p = posterior["poems"]
    band = _band(p)
    rival, rival_p = max(
        ((d, q) for d, q in posterior.items() if d != "poems"), key=lambda kv: kv[1]
    )
    rival_text = f"{diagnosis_label(rival)} ({_pct(rival_p)})"
    shown = probability(p, interval)
    prob = f"the network gives P(POEMS) {shown if shown[0] in '<>' else '= ' + shown}"
    missing = [c.label for c in result.criteria if c.role == "mandatory" and c.status == "not_met"]
    unknown = [c.label for c in result.criteria if c.status == "indeterminate"]
    verdict = result.verdict
    if verdict == "met" and band == "high":
        return f"Agree: the criteria ({rule_set_name(result.rule_set)}) are met and {prob}."
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


def conflict_text(conflict: Mapping[str, str], setting_label: str) -> str:
    """One sentence for a finding that contradicts the setting's definition."""
    finding = label(conflict["finding"])
    return (
        f"The setting '{setting_label}' is defined by {finding} {conflict['setting_state']}, "
        f"but this case has it {conflict['case_state']}: the patient is not one of the patients "
        "its base rates describe. The probabilities come from the setting's population before "
        "that selection; check the finding, or choose another setting."
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
    setting_label: str,
    setting_from_case: bool,
    conflicts: tuple[Mapping[str, str], ...] = (),
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
            notes.append(
                f"The network reads the measured VEGF; '{label('vegf_elevated')}' was not used."
            )
    for fid in NOT_IN_NETWORK:
        if case.entered(fid) is not None:
            notes.append(
                f"'{label(fid)}' is used by the criteria only; the network does not read "
                "lesion size."
            )
    notes.extend(conflict_text(c, setting_label) for c in conflicts)
    for flag in CRITERIA_NOTES:
        raised_by = [rule_id for rule_id, r in criteria.items() if flag in r.flags]
        if raised_by:
            notes.append(f"{FLAG_TEXT[flag]} ({', '.join(raised_by)})")
    if not setting_from_case:
        notes.append(f"Setting '{setting_label}' used (the case names none).")
    return tuple(notes)


def assess(
    case: Case,
    *,
    setting: str | None = None,
    priors: Priors | None = None,
    analyses: bool = True,
    sensitivity: bool = True,
    plan: bool = True,
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
    plan : with ``analyses``, also the work-up (False skips it; the benchmark times the
        assessment with and without it).
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
    chosen_setting = priors.setting(chosen)
    setting_label = chosen_setting.label
    conflicts = tuple(
        MappingProxyType({"finding": node, "setting_state": wanted, "case_state": got})
        for node, (wanted, got) in setting_conflicts(evidence, chosen_setting.implies).items()
    )
    checks = check_notes(case)
    notes = checks + _notes(
        case,
        evidence,
        criteria,
        setting_label,
        setting is not None or case.setting is not None,
        conflicts,
    )
    extra: dict[str, Any] = {}
    chain: analysis.Contributions | None = None
    if analyses:
        candidates = admissible_nodes(case, compiled, evidence)
        chain, tests = analysis.contributions_and_next_tests(
            compiled, evidence, candidates, settling=Settling(criteria[DEFAULT_RULE_SET])
        )
        extra = {
            "contributions": chain,
            "next_tests": tests,
            "workup": (
                workup(case, compiled, evidence, criteria[DEFAULT_RULE_SET]) if plan else None
            ),
            "credible_interval": analysis.credible_interval(priors, chosen, evidence),
            "sensitivity": (
                analysis.sensitivity(priors, chosen, evidence) if sensitivity else None
            ),
        }
    if evidence and chain is None:
        chain = analysis.contributions(compiled, evidence)
    ci = extra.get("credible_interval")
    bounds = None if ci is None else (float(ci.low), float(ci.high))
    agreement = _agreement(criteria[DEFAULT_RULE_SET], post, base, bounds)
    if evidence and chain is not None and not agreement.startswith("Agree"):
        # the strongest findings are named only when the answers do not agree
        agreement = _with_drivers(agreement, strongest_findings(chain))
    return Assessment(
        case=case,
        setting=chosen,
        setting_label=setting_label,
        prior=MappingProxyType({d: base[d] for d in DIAGNOSIS_STATES}),
        posterior=MappingProxyType(dict(post)),
        evidence=MappingProxyType(dict(evidence)),
        criteria=MappingProxyType(dict(criteria)),
        agreement=agreement,
        notes=notes,
        setting_conflicts=conflicts,
        checks=checks,
        engine=engine,
        priors_fingerprint=priors.fingerprint,
        **extra,
    )


ENGINES: tuple[str, ...] = ("compiled", "pgmpy")
