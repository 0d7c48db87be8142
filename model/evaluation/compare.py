"""Compare two prior sets: which numbers differ, and what that does to a patient or a cohort.

The parameter comparison walks :meth:`Priors.parameters` of both sets by key path (the same
keys as the files, e.g. ``findings.hepatomegaly.leak``) and reports every key whose point
value differs by more than ``tolerance``, every key present in only one set (a user-added
setting, say), and every key whose value is equal but whose provenance (kind, source, range
or n) changed. The effect is then measured where it matters: the posterior over every
diagnosis for one case, or the metrics of a labelled cohort, under each set.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from model.case import Case
from model.constants import DEFAULT_SETTING
from model.exceptions import InputError
from model.formatting import percent
from model.inference.exact import posterior
from model.parameters import Parameter, Priors, default_directory, load_priors
from model.parameters.loader import FILES
from model.vocabulary import suggest

Change = Literal["value", "provenance", "only_in_a", "only_in_b"]

DEFAULT_TOLERANCE = 1e-12
"""Two point values closer than this are equal (TOML round trips are exact to ~1e-16)."""


@dataclass(frozen=True)
class ParameterDiff:
    """One parameter that differs between set A and set B."""

    key: str
    change: Change
    value_a: float | None
    value_b: float | None
    source_a: str | None
    source_b: str | None
    kind_a: str | None
    kind_b: str | None
    range_a: tuple[float | None, float | None] | None
    range_b: tuple[float | None, float | None] | None

    @property
    def delta(self) -> float | None:
        if self.value_a is None or self.value_b is None:
            return None
        return self.value_b - self.value_a

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["delta"] = self.delta
        return out


def _provenance(p: Parameter) -> tuple[Any, ...]:
    return (p.kind, p.source, p.low, p.high, p.n)


def diff_parameters(
    a: Priors, b: Priors, tolerance: float = DEFAULT_TOLERANCE
) -> list[ParameterDiff]:
    """Every parameter whose value or provenance differs, in A's file order then B-only keys."""
    if not (isinstance(tolerance, int | float) and 0 <= tolerance < 1):
        raise InputError("tolerance", tolerance, "a number in [0, 1)", "1e-12 is the default.")
    params_a = {p.key: p for p in a.parameters()}
    params_b = {p.key: p for p in b.parameters()}
    out: list[ParameterDiff] = []
    for key, pa in params_a.items():
        pb = params_b.get(key)
        if pb is None:
            out.append(_diff(key, "only_in_a", pa, None))
        elif abs(pa.p - pb.p) > tolerance:
            out.append(_diff(key, "value", pa, pb))
        elif _provenance(pa) != _provenance(pb):
            out.append(_diff(key, "provenance", pa, pb))
    out.extend(
        _diff(key, "only_in_b", None, pb) for key, pb in params_b.items() if key not in params_a
    )
    return out


def _diff(key: str, change: Change, pa: Parameter | None, pb: Parameter | None) -> ParameterDiff:
    return ParameterDiff(
        key=key,
        change=change,
        value_a=None if pa is None else pa.p,
        value_b=None if pb is None else pb.p,
        source_a=None if pa is None else pa.source,
        source_b=None if pb is None else pb.source,
        kind_a=None if pa is None else pa.kind,
        kind_b=None if pb is None else pb.kind,
        range_a=None if pa is None else (pa.low, pa.high),
        range_b=None if pb is None else (pb.low, pb.high),
    )


@dataclass(frozen=True)
class PosteriorShift:
    """P(diagnosis | case) under A and under B, for every diagnosis state."""

    setting: str
    posterior_a: Mapping[str, float]
    posterior_b: Mapping[str, float]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "diagnosis": d,
                "a": self.posterior_a[d],
                "b": self.posterior_b[d],
                "delta": self.posterior_b[d] - self.posterior_a[d],
            }
            for d in self.posterior_a
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"setting": self.setting, "posterior": self.rows()}


def compare_case(case: Case, a: Priors, b: Priors, setting: str | None = None) -> PosteriorShift:
    """The posterior over all diagnoses for one case under both prior sets.

    ``setting`` defaults to the case's own setting, then to ``neuropathy_clinic``; it must
    exist in both sets.
    """

    chosen = setting or case.setting or DEFAULT_SETTING
    a.setting(chosen)  # raises with a suggestion if missing
    b.setting(chosen)
    post_a = posterior(case, setting=chosen, priors=a)
    post_b = posterior(case, setting=chosen, priors=b)
    return PosteriorShift(chosen, dict(post_a), dict(post_b))


@dataclass(frozen=True)
class PriorComparison:
    """Everything ``poems compare-priors`` reports."""

    directory_a: str
    directory_b: str
    differences: tuple[ParameterDiff, ...]
    case: PosteriorShift | None = None
    cohort_a: Mapping[str, Any] | None = None
    cohort_b: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.directory_a,
            "b": self.directory_b,
            "n_differences": len(self.differences),
            "differences": [d.to_dict() for d in self.differences],
            "case": None if self.case is None else self.case.to_dict(),
            "cohort": None
            if self.cohort_a is None
            else {"a": dict(self.cohort_a), "b": dict(self.cohort_b or {})},
        }

    def to_markdown(self) -> str:
        lines = [
            f"# Prior sets compared\n\nA: `{self.directory_a}`  \nB: `{self.directory_b}`\n",
            f"{len(self.differences)} parameter(s) differ.\n",
        ]
        if self.differences:
            lines.append("| key | change | A | B | source A | source B |")
            lines.append("|---|---|---|---|---|---|")
            for d in self.differences:
                lines.append(
                    f"| `{d.key}` | {d.change} | {_fmt(d.value_a)} | {_fmt(d.value_b)} | "
                    f"{d.source_a or ''} | {d.source_b or ''} |"
                )
        if self.case is not None:
            lines.append(f"\n## Posterior of the case (setting `{self.case.setting}`)\n")
            lines.append("| diagnosis | A | B | B - A (percentage points) |")
            lines.append("|---|---|---|---|")
            for r in self.case.rows():
                lines.append(
                    f"| {r['diagnosis']} | {percent(r['a'])} | {percent(r['b'])} | "
                    f"{_points(r['delta'])} |"
                )
        if self.cohort_a is not None and self.cohort_b is not None:
            lines.append("\n## Cohort metrics (network)\n")
            lines.append("| metric | A | B |")
            lines.append("|---|---|---|")
            for key in ("auc", "brier", "log_loss", "ece"):
                lines.append(
                    f"| {key} | {_fmt(self.cohort_a.get(key))} | {_fmt(self.cohort_b.get(key))} |"
                )
        return "\n".join(lines) + "\n"


def _points(delta: float) -> str:
    """A change of probability in percentage points, two significant figures (the A and B
    columns are written by :func:`model.formatting.percent`)."""
    points = 100 * delta
    if abs(points) < 1e-6:
        return "0"
    if abs(points) >= 0.1:
        return f"{points:+.1f}"
    return f"{points:+.2g}" if abs(points) >= 1e-4 else f"{points:+.1e}"


def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.4g}"
    return str(x)


def compare_priors(
    a: Priors,
    b: Priors,
    *,
    case: Case | None = None,
    setting: str | None = None,
    cohort_metrics: Sequence[Mapping[str, Any]] | None = None,
) -> PriorComparison:
    """Bundle the parameter differences with the effect on a case and/or cohort metrics.

    ``cohort_metrics`` is the pair (metrics under A, metrics under B) computed by the caller
    (see :func:`model.evaluation.evaluate.evaluate_table`), so this module stays free of I/O.
    """
    shift = None if case is None else compare_case(case, a, b, setting)
    cohort_a = cohort_b = None
    if cohort_metrics is not None:
        if len(cohort_metrics) != 2:
            raise InputError("cohort_metrics", len(cohort_metrics), "a pair (A, B)")
        cohort_a, cohort_b = cohort_metrics
    return PriorComparison(
        directory_a=a.directory or "(in memory)",
        directory_b=b.directory or "(in memory)",
        differences=tuple(diff_parameters(a, b)),
        case=shift,
        cohort_a=cohort_a,
        cohort_b=cohort_b,
    )


MAX_PRIORS_FILE_BYTES = 2 * 1024 * 1024


def priors_from_files(files: Mapping[str, bytes], base: str | None = None) -> Priors:
    """A prior set made of uploaded files, the missing ones taken from ``base`` (default:
    the repository's priors). Only the four priors file names are accepted."""

    for name, data in files.items():
        if name not in FILES:
            raise InputError(
                "priors file", name, "one of " + ", ".join(FILES), suggest(name, FILES)
            )
        if len(data) > MAX_PRIORS_FILE_BYTES:
            raise InputError(
                "priors file", f"{name}: {len(data)} bytes", f"at most {MAX_PRIORS_FILE_BYTES}"
            )
    source = Path(base) if base else default_directory()
    with tempfile.TemporaryDirectory(prefix="poems-priors-") as tmp:
        for name in FILES:
            if name in files:
                (Path(tmp) / name).write_bytes(files[name])
            else:
                shutil.copyfile(source / name, Path(tmp) / name)
        loaded = load_priors(tmp)
    label = "uploaded: " + ", ".join(sorted(files)) if files else str(source)
    return replace(loaded, directory=label)


@dataclass(frozen=True)
class EntryEffect:
    """P(POEMS | case) under A, and under A with one entry (a parameter or a whole
    distribution row) taken from B."""

    key: str
    p_a: float
    p_with_b: float


def effect_of_each(
    case: Case, a: Priors, b: Priors, setting: str, limit: int = 40
) -> list[EntryEffect]:
    """What each differing entry alone does to the case's P(POEMS), largest change first.

    States of one distribution row change together (a row is one entry of the files); keys
    present in only one set are skipped. At most ``limit`` entries are measured.
    """

    groups: dict[str, dict[str, float]] = {}
    for d in diff_parameters(a, b):
        if d.change != "value" or d.value_b is None:
            continue
        entry = d.key.split(".probs.", 1)[0] if ".probs." in d.key else d.key
        groups.setdefault(entry, {})
    values_b = b.point_values()
    values_a = a.point_values()
    for entry, overrides in groups.items():
        prefix = entry + ".probs."
        keys = [k for k in values_a if k.startswith(prefix)] if entry not in values_a else [entry]
        overrides.update({k: values_b[k] for k in keys if k in values_b})
    p_a = float(posterior(case, setting=setting, priors=a)["poems"])
    out = []
    for entry, overrides in list(groups.items())[:limit]:
        p = float(posterior(case, setting=setting, priors=a.with_overrides(overrides))["poems"])
        out.append(EntryEffect(entry, p_a, p))
    out.sort(key=lambda e: abs(e.p_with_b - e.p_a), reverse=True)
    return out
