"""Walk a teaching case step by step: the probability, the criteria and why they moved.

At each step the findings produced so far form a :class:`~model.case.Case`; the network gives
the posterior over every diagnosis (exact, pgmpy variable elimination), the ``seed`` rule set
gives the verdict, and a generated note says what changed and which new finding pushed
hardest. The push of a finding is measured as the change in log-odds of P(POEMS) when that
finding alone is added to the previous step's case: a simple, honest attribution that the
reader can reproduce by toggling the finding in the app.

Each step also carries the 90 % credible interval for P(POEMS) from the priors' parameter
uncertainty (``model.analysis.credible_interval``, the same 2,000 cached draws as the app).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from model.analysis import credible_interval
from model.case import Case
from model.constants import POEMS as POSITIVE
from model.criteria import DEFAULT_RULE_SET, RULE_SETS, evaluate
from model.exceptions import PoemsError
from model.formatting import diagnosis_label, interval_text, probability, state_words
from model.inference.exact import posterior, resolve
from model.network.evidence import evidence_for
from model.parameters import Priors
from model.teaching.library import TeachingCase
from model.vocabulary import UNKNOWN, label

INTERVAL_LEVEL = 0.90
INTERVAL_DRAWS = 2000
"""Parameter draws per step, as everywhere else (the draws are cached per priors and setting,
so a step costs a few milliseconds)."""

IntervalFn = Callable[[Case, str, Priors], tuple[float, float] | None]


@dataclass(frozen=True)
class Contribution:
    """How much one newly added finding moved P(POEMS), in log-odds, on its own."""

    finding: str
    value: Any
    delta_log_odds: float

    def describe(self) -> str:
        direction = "towards" if self.delta_log_odds > 0 else "away from"
        return (
            f"{label(self.finding)} ({_value(self.value)}) pushed {direction} POEMS "
            f"({self.delta_log_odds:+.2f} log-odds, odds x{math.exp(self.delta_log_odds):.2g})"
        )


@dataclass(frozen=True)
class Step:
    """One step of a walked case."""

    index: int
    label: str
    teaching_note: str
    added: Mapping[str, Any]
    case: Case
    setting: str
    posterior: Mapping[str, float]
    p_poems: float
    interval: tuple[float, float] | None
    verdict: str
    verdicts: Mapping[str, str]
    contributions: tuple[Contribution, ...]
    note: str
    could_change_with: tuple[Mapping[str, str], ...] = field(default=())

    @property
    def top_diagnosis(self) -> str:
        return max(self.posterior, key=lambda d: self.posterior[d])

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.index + 1,
            "label": self.label,
            "teaching_note": self.teaching_note,
            "added": {k: _plain(v) for k, v in self.added.items()},
            "setting": self.setting,
            "p_poems": self.p_poems,
            "interval_90": None if self.interval is None else list(self.interval),
            "posterior": dict(self.posterior),
            "verdict": self.verdict,
            "verdicts": dict(self.verdicts),
            "contributions": [
                {"finding": c.finding, "delta_log_odds": c.delta_log_odds}
                for c in self.contributions
            ],
            "note": self.note,
            "case": self.case.to_dict(),
        }


def _plain(v: Any) -> Any:
    return dict(v) if isinstance(v, Mapping) else v


def _value(v: Any) -> str:
    if isinstance(v, Mapping):
        return f"{v.get('value')} {v.get('unit', 'pg/mL')} {v.get('specimen', '')}".strip()
    return str(v)


def _log_odds(p: float) -> float:
    p = min(max(p, 1e-15), 1 - 1e-15)
    return math.log(p / (1 - p))


def default_interval() -> IntervalFn:
    """The 90 % credible interval of P(POEMS) over parameter draws (``model.analysis``)."""

    def interval(case: Case, setting: str, priors: Priors) -> tuple[float, float] | None:
        result = credible_interval(
            priors, setting, evidence_for(case), n_draws=INTERVAL_DRAWS, level=INTERVAL_LEVEL
        )
        return (float(result.low), float(result.high))

    return interval


def walk(
    case_def: TeachingCase,
    setting: str | None = None,
    priors: Priors | None = None,
    *,
    interval: IntervalFn | bool | None = True,
) -> list[Step]:
    """Step through a teaching case; see the module docstring.

    ``setting`` overrides the case's own setting (default: the case's, else
    ``neuropathy_clinic``). ``interval=False`` skips the credible interval (faster);
    ``True`` uses :func:`default_interval` when available.
    """

    priors, chosen = resolve(case_def.final_case(), setting, priors)
    interval_fn: IntervalFn | None
    if interval is True:
        interval_fn = default_interval()
    elif interval is False or interval is None:
        interval_fn = None
    else:
        interval_fn = interval
    steps: list[Step] = []
    previous: Case | None = None
    previous_p: float | None = None
    for i, sdef in enumerate(case_def.steps):
        case = case_def.case_at(i)
        post = posterior(case, setting=chosen, priors=priors)
        p = float(post[POSITIVE])
        results = {name: evaluate(case, name) for name in RULE_SETS}
        seed = results[DEFAULT_RULE_SET]
        contributions = _contributions(previous, sdef.findings, chosen, priors, previous_p)
        band = interval_fn(case, chosen, priors) if interval_fn is not None else None
        step = Step(
            index=i,
            label=sdef.label,
            teaching_note=sdef.note,
            added=dict(sdef.findings),
            case=case,
            setting=chosen,
            posterior=dict(post),
            p_poems=p,
            interval=band,
            verdict=seed.verdict,
            verdicts={k: r.verdict for k, r in results.items()},
            contributions=contributions,
            note="",
            could_change_with=tuple(seed.could_change_with),
        )
        step = replace(step, note=step_note(step, steps[-1] if steps else None))
        steps.append(step)
        previous, previous_p = case, p
    return steps


def _contributions(
    previous: Case | None,
    added: Mapping[str, Any],
    setting: str,
    priors: Priors,
    previous_p: float | None,
) -> tuple[Contribution, ...]:
    """Each added finding on its own, on top of the previous step's case."""

    base_case = previous if previous is not None else Case.from_dict({"findings": {}})
    base_p = (
        previous_p
        if previous_p is not None
        else float(posterior(base_case, setting=setting, priors=priors)[POSITIVE])
    )
    out: list[Contribution] = []
    for finding, value in added.items():
        if value == UNKNOWN:
            continue
        try:
            alone = base_case.with_finding(finding, value)
        except PoemsError:
            continue  # only consistent together with the rest of its step
        p = float(posterior(alone, setting=setting, priors=priors)[POSITIVE])
        out.append(Contribution(finding, value, _log_odds(p) - _log_odds(base_p)))
    out.sort(key=lambda c: abs(c.delta_log_odds), reverse=True)
    return tuple(out)


def shown_p(step: Step) -> str:
    """The step's P(POEMS) as the app writes it: with no more digits than its interval
    supports (:func:`model.formatting.probability`)."""
    return probability(step.p_poems, step.interval)


def shown_interval(step: Step) -> str | None:
    """The step's interval as the app writes it ("4.2 % to 13 %"), ``None`` without one."""
    return None if step.interval is None else interval_text(*step.interval)


def step_note(step: Step, previous: Step | None) -> str:
    """The computed note of ``step`` after ``previous`` (numbers as :func:`shown_p`); call it
    again after adding an interval to a step, so the note and the metric read the same."""
    top = diagnosis_label(step.top_diagnosis)
    if previous is None:
        text = f"P(POEMS) starts at {shown_p(step)}; the most likely diagnosis is {top}."
    else:
        before, after = previous.p_poems, step.p_poems
        ratio = math.exp(_log_odds(after) - _log_odds(before))
        verb = "rose" if after > before else "fell" if after < before else "stayed"
        text = (
            f"P(POEMS) {verb} from {shown_p(previous)} to {shown_p(step)} "
            f"(odds x{ratio:.3g}); most likely now: {top}."
        )
    if step.contributions:
        text += f" Largest single push: {step.contributions[0].describe()}."
    verdict = state_words(step.verdict)
    if previous is None:
        text += f" Seed criteria: {verdict}."
    elif previous.verdict != step.verdict:
        text += f" Seed criteria changed from {state_words(previous.verdict)} to {verdict}."
    else:
        text += f" Seed criteria still {verdict}."
    if step.verdict == "indeterminate" and step.could_change_with:
        deciders = ", ".join(label(c["finding"]) for c in step.could_change_with[:4])
        text += f" The criteria would be decided by: {deciders}."
    return text
