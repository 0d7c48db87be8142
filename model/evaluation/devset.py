"""The development set of published patients: loading, validation and evaluation.

Each file in :data:`DEVSET_DIRECTORY` is one published patient (see the README there): a case
in the ordinary case format plus the authors' final diagnosis (``label``), a mimic ``group``,
its ``source`` and ``notes``. Findings may use the agreed network-v2 ids; the loader keeps
those the running vocabulary knows and drops the others, counting them, so the same set
scores on network v1 now and on v2 once its vocabulary has the ids.

The evaluation scores P(POEMS) for every patient with the compiled engine (each patient in
its own setting unless one is forced), then reports the AUC with a stratified bootstrap
95 % interval, the Brier score, a reliability table, per-group results, and each criteria rule
set's sensitivity and specificity on the same patients. Every number is computed by
:func:`summarise` from plain arrays, so it can be checked by hand.

References
----------
.. [ET93] Efron B, Tibshirani RJ. An Introduction to the Bootstrap. Chapman & Hall 1993
   (percentile interval; resampling within each class keeps both classes in every draw).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from model.case import Case
from model.criteria.engine import evaluate as criteria_evaluate
from model.criteria.rulesets import RULE_SETS
from model.evaluation.evaluate import DEFAULT_SETTING, score_cases
from model.evaluation.metrics import (
    CalibrationBin,
    RulePerformance,
    bootstrap_metrics,
    brier_score,
    calibration_bins,
    calibration_rows,
    expected_calibration_error,
    metric_text,
    roc_auc,
    rule_performance,
)
from model.exceptions import InputError
from model.inputs import strict_json
from model.network.structure import DIAGNOSIS_STATES
from model.parameters import Priors, load_priors
from model.vocabulary import FINDINGS, suggest

DEVSET_DIRECTORY = Path(__file__).with_name("devset")
"""Where the published patients live, one JSON file each."""

POSITIVE_LABEL = "poems"
"""The positive class: every other label (the Castleman variant included) is 'not POEMS'."""

DEVSET_LABELS: tuple[str, ...] = DIAGNOSIS_STATES
"""The labels a patient may carry: the network's diagnosis states."""
"""Allowed labels: the agreed network-v2 diagnosis ids (a superset of v1's states)."""

_BINARY = ("present", "absent")
V2_FINDINGS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "neuropathic_pain": _BINARY,
        "distal_weakness_atrophy": _BINARY,
        "conduction_block": _BINARY,
        "high_terminal_latency_index": _BINARY,
        "lesion_imaging": ("plain_film", "ct", "pet_ct"),
        "abnormal_flc_ratio": _BINARY,
        "mprotein_visible_on_spep": _BINARY,
        "clonal_plasma_cells_on_biopsy": _BINARY,
        "thrombocytopenia": _BINARY,
        "fever": _BINARY,
        "raised_crp": _BINARY,
        "telangiectasia": _BINARY,
        "perinephric_fluid": _BINARY,
        "urticarial_rash": _BINARY,
        "waxy_papules": _BINARY,
        "jak2_mutation": _BINARY,
        "macroglossia": _BINARY,
        "proteinuria": _BINARY,
        "raised_nt_probnp": _BINARY,
    }
)
"""Findings agreed for network v2 (id -> allowed states), accepted before v1 knows them."""

_TOP_KEYS = ("label", "group", "source", "notes", "case")
_SOURCE_KEYS = ("citation", "url", "doi", "pmcid", "pmid")
_LOCATORS = ("url", "doi", "pmcid", "pmid")
_GROUP_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DEFAULT_BOOTSTRAP = 2000
DEFAULT_BINS = 5
DEFAULT_SEED = 20261202


# --------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class DevsetPatient:
    """One published patient: the case as the running vocabulary reads it, and its source.

    ``dropped`` lists the finding ids the running vocabulary does not know (v2 ids), which
    were left out of ``case``; ``findings`` keeps every finding exactly as recorded.
    """

    file: str
    label: str
    group: str
    case: Case
    source: Mapping[str, str]
    notes: str
    findings: Mapping[str, Any]
    dropped: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.case.id or Path(self.file).stem

    @property
    def is_poems(self) -> bool:
        return self.label == POSITIVE_LABEL


@dataclass(frozen=True)
class Devset:
    """Every patient of the development set, in file-name order."""

    patients: tuple[DevsetPatient, ...]
    directory: str

    @property
    def n(self) -> int:
        return len(self.patients)

    @property
    def n_poems(self) -> int:
        return sum(p.is_poems for p in self.patients)

    def dropped_counts(self) -> dict[str, int]:
        """How many patients had each unknown (v2) finding dropped."""
        counts = Counter(f for p in self.patients for f in p.dropped)
        return dict(sorted(counts.items()))


def load_devset(directory: str | Path | None = None) -> Devset:
    """Read and validate every ``*.json`` patient file in ``directory``.

    Findings the running vocabulary (:data:`FINDINGS`) knows are kept; agreed v2 ids it does
    not know yet are dropped and listed per patient (once the vocabulary has them they are
    kept, with no change to the files). Any other problem (unknown key or label, missing
    citation, a finding id neither vocabulary knows, an invalid case) raises
    :class:`InputError` naming the file.
    """
    folder = Path(directory) if directory is not None else DEVSET_DIRECTORY
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise InputError(
            "--devset",
            str(folder),
            "a folder of development-set patient files (*.json)",
            "Leave the folder out to use the built-in set.",
        )
    patients = tuple(_load_patient(path) for path in files)
    ids = Counter(p.id for p in patients)
    twice = sorted(i for i, c in ids.items() if c > 1)
    if twice:
        raise InputError("case.id", twice[0], "unique across the set", "Rename one of the files.")
    return Devset(patients, str(folder))


def _load_patient(path: Path) -> DevsetPatient:
    where = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(
            "patient file", path.name, "readable JSON", str(err), where=where
        ) from None
    if not isinstance(data, Mapping):
        raise InputError("patient file", type(data).__name__, "a JSON object", where=where)
    _known_keys(data, _TOP_KEYS, "key", where)
    for key in _TOP_KEYS:
        if key not in data:
            raise InputError(
                key, None, "present", f"Every patient file needs {key!r}.", where=where
            )
    label, group, notes = data["label"], data["group"], data["notes"]
    if label not in DEVSET_LABELS:
        raise InputError(
            "label", label, "a v2 diagnosis id", suggest(str(label), DEVSET_LABELS), where=where
        )
    if not isinstance(group, str) or not _GROUP_PATTERN.match(group):
        raise InputError("group", group, "a lower-case id such as 'tempi'", where=where)
    if not isinstance(notes, str):
        raise InputError("notes", notes, "a string (may be empty)", where=where)
    source = _check_source(data["source"], where)
    raw_case = data["case"]
    if not isinstance(raw_case, Mapping) or not isinstance(raw_case.get("findings"), Mapping):
        raise InputError("case", raw_case, "a case object with 'findings'", where=where)
    if raw_case.get("id") != path.stem:
        raise InputError(
            "case.id",
            raw_case.get("id"),
            f"the file name without .json ({path.stem!r})",
            where=where,
        )
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for fid, value in raw_case["findings"].items():
        if fid in FINDINGS:
            kept[fid] = value
        elif fid in V2_FINDINGS:
            if value not in V2_FINDINGS[fid] and value != "unknown":
                raise InputError(
                    f"findings.{fid}",
                    value,
                    "one of " + ", ".join(map(repr, V2_FINDINGS[fid])),
                    where=where,
                )
            dropped.append(fid)
        else:
            hint = suggest(fid, [*FINDINGS, *V2_FINDINGS])
            raise InputError("finding id", fid, "a v1 or agreed v2 finding id", hint, where=where)
    case = Case.from_dict({**raw_case, "findings": kept}, where=where)
    return DevsetPatient(
        file=path.name,
        label=label,
        group=group,
        case=case,
        source=MappingProxyType(source),
        notes=notes,
        findings=MappingProxyType(dict(raw_case["findings"])),
        dropped=tuple(dropped),
    )


def _known_keys(data: Mapping[Any, Any], allowed: Sequence[str], field: str, where: str) -> None:
    """Refuse a key that is not ``allowed``, with a "did you mean"."""
    for key in data:
        if key not in allowed:
            raise InputError(
                field, key, "one of " + ", ".join(allowed), suggest(str(key), allowed), where=where
            )


def _check_source(source: Any, where: str) -> dict[str, str]:
    if not isinstance(source, Mapping):
        raise InputError("source", source, "an object with 'citation' and a locator", where=where)
    _known_keys(source, _SOURCE_KEYS, "source key", where)
    for key, value in source.items():
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"source.{key}", value, "a non-empty string", where=where)
    if "citation" not in source:
        raise InputError("source.citation", None, "present", "Cite the report.", where=where)
    if not any(k in source for k in _LOCATORS):
        raise InputError(
            "source",
            sorted(source),
            "a url, doi, pmcid or pmid as well as the citation",
            where=where,
        )
    return {str(k): str(v) for k, v in source.items()}


# --------------------------------------------------------------------------- exclusion
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"'<>]+", re.IGNORECASE)
_PMC = re.compile(r"PMC\d+", re.IGNORECASE)


def source_keys(text: str) -> set[str]:
    """Normalised identities of a source address or id: DOI, PMC id and the bare address.

    Two sources are the same when any key matches: ``doi:10.1002/mus.21561``,
    ``pmc:PMC2947379`` or ``url:pmc.ncbi.nlm.nih.gov/articles/pmc2947379``.
    """
    keys: set[str] = set()
    value = text.strip()
    for doi in _DOI.findall(value):
        keys.add("doi:" + doi.rstrip(".,;)/").lower())
    for pmc in _PMC.findall(value):
        keys.add("pmc:" + pmc.upper())
    if "/" in value or "." in value:
        bare = re.sub(r"^[a-z]+://", "", value.lower())
        bare = re.sub(r"^(www\.|deploy\.|test\.)", "", bare).rstrip("/")
        keys.add("url:" + bare)
    return keys


def patient_source_keys(patient: DevsetPatient) -> set[str]:
    """Every identity of a patient's source (see :func:`source_keys`; a PMID as ``pmid:N``)."""
    keys: set[str] = set()
    for key in ("url", "doi", "pmcid"):
        if key in patient.source:
            keys |= source_keys(patient.source[key])
    if "pmid" in patient.source:
        keys.add("pmid:" + patient.source["pmid"].strip())
    return keys


# --------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class GroupResult:
    """Per-group figures: how P(POEMS) and the differential fall for one mimic group."""

    group: str
    labels: tuple[str, ...]
    n: int
    mean_p_poems: float
    share_above_half: float
    top_diagnosis: str
    top_diagnosis_mean: float

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class DevsetSummary:
    """Every figure of a development-set evaluation, computed from plain arrays."""

    n: int
    n_positive: int
    auc: float | None
    auc_low: float | None
    auc_high: float | None
    n_bootstrap: int
    brier: float
    ece: float
    calibration: tuple[CalibrationBin, ...]
    groups: tuple[GroupResult, ...]
    rules: Mapping[str, RulePerformance]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "n_poems": self.n_positive,
            "n_not_poems": self.n - self.n_positive,
            "auc": self.auc,
            "auc_95ci": [self.auc_low, self.auc_high],
            "n_bootstrap": self.n_bootstrap,
            "brier": self.brier,
            "ece": self.ece,
            "calibration": [b.to_dict() for b in self.calibration],
            "groups": [g.to_dict() for g in self.groups],
            "rules": {k: strict_json(v.to_dict()) for k, v in self.rules.items()},
        }


def summarise(
    labels: Sequence[str],
    groups: Sequence[str],
    p_poems: Sequence[float] | np.ndarray,
    posteriors: np.ndarray,
    diagnoses: Sequence[str],
    verdicts: Mapping[str, Sequence[str]],
    *,
    n_bins: int = DEFAULT_BINS,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> DevsetSummary:
    """All figures from one row per patient (pure; checked by hand in the tests).

    ``posteriors`` is (n, len(diagnoses)); the positive class is ``label == 'poems'``.
    A group's top diagnosis is the state with the highest mean posterior over its patients.
    """
    y = np.array([lab == POSITIVE_LABEL for lab in labels], dtype=bool)
    p = np.clip(np.asarray(p_poems, dtype=float), 0.0, 1.0)
    post = np.asarray(posteriors, dtype=float)
    has_both = 0 < int(y.sum()) < y.size
    auc = roc_auc(y, p) if has_both else None
    low, high = math.nan, math.nan
    if has_both and n_bootstrap > 0:  # the one AUC bootstrap: stratified, seeded [ET93]
        interval = bootstrap_metrics(y, p, n_boot=n_bootstrap, seed=seed)["auc"]
        low, high = interval.low, interval.high
    bins = calibration_bins(y, p, n_bins)
    group_rows: list[GroupResult] = []
    order = list(dict.fromkeys(groups))
    for g in sorted(
        order, key=lambda name: (name != POSITIVE_LABEL, not name.startswith("poems"), name)
    ):
        idx = [i for i, name in enumerate(groups) if name == g]
        means = post[idx].mean(axis=0)
        top = int(np.argmax(means))
        group_rows.append(
            GroupResult(
                group=g,
                labels=tuple(sorted({labels[i] for i in idx})),
                n=len(idx),
                mean_p_poems=float(p[idx].mean()),
                share_above_half=float((p[idx] > 0.5).mean()),
                top_diagnosis=str(diagnoses[top]),
                top_diagnosis_mean=float(means[top]),
            )
        )
    return DevsetSummary(
        n=int(y.size),
        n_positive=int(y.sum()),
        auc=auc,
        auc_low=None if math.isnan(low) else low,
        auc_high=None if math.isnan(high) else high,
        n_bootstrap=n_bootstrap,
        brier=brier_score(y, p),
        ece=expected_calibration_error(bins),
        calibration=tuple(bins),
        groups=tuple(group_rows),
        rules={name: rule_performance(y, calls) for name, calls in verdicts.items()},
    )


@dataclass(frozen=True)
class DevsetEvaluation:
    """The scored development set: the summary, and one row per patient."""

    devset: Devset
    summary: DevsetSummary
    diagnoses: tuple[str, ...]
    settings: tuple[str, ...]
    setting_forced: str | None
    priors_directory: str | None
    scored: tuple[DevsetPatient, ...]
    p_poems: np.ndarray = field(repr=False)
    posteriors: np.ndarray = field(repr=False)
    verdicts: Mapping[str, tuple[str, ...]] = field(repr=False)
    left_out: tuple[tuple[str, str], ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for i, patient in enumerate(self.scored):
            top = int(np.argmax(self.posteriors[i]))
            out.append(
                {
                    "id": patient.id,
                    "label": patient.label,
                    "group": patient.group,
                    "setting": self.settings[i],
                    "p_poems": float(self.p_poems[i]),
                    "top_diagnosis": self.diagnoses[top],
                    **{name: calls[i] for name, calls in self.verdicts.items()},
                }
            )
        return out

    def to_dict(self, with_rows: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "devset": self.devset.directory,
            "priors": self.priors_directory,
            "setting": self.setting_forced or "each patient's own",
            "settings_used": dict(Counter(self.settings)),
            "findings_dropped": self.devset.dropped_counts(),
            "left_out": [{"id": i, "reason": r} for i, r in self.left_out],
            **self.summary.to_dict(),
            "label_counts": dict(Counter(p.label for p in self.scored)),
        }
        if with_rows:
            out["rows"] = self.rows()
        return out

    def to_markdown(self) -> str:
        f = metric_text
        s = self.summary
        dropped = self.devset.dropped_counts()
        lines = [
            f"Development set: {s.n} published patients scored ({s.n_positive} POEMS, "
            f"{s.n - s.n_positive} not POEMS); positive = `poems`.",
            "Settings: "
            + (
                f"forced to {self.setting_forced}"
                if self.setting_forced
                else ", ".join(f"{k} ({v})" for k, v in Counter(self.settings).items())
            )
            + ".",
            "Findings not in the running vocabulary, dropped: "
            + (
                ", ".join(f"{k} ({v})" for k, v in dropped.items())
                + f" - {sum(dropped.values())} in all."
                if dropped
                else "none."
            ),
            "",
            "| network metric | value |",
            "|---|---|",
            f"| AUC of P(POEMS) | {f(s.auc)} (95% CI {f(s.auc_low)}-{f(s.auc_high)}, "
            f"stratified bootstrap, {s.n_bootstrap} draws) |",
            f"| Brier score | {f(s.brier)} |",
            f"| expected calibration error ({len(s.calibration)} bins) | {f(s.ece)} |",
            "",
            "| P(POEMS) bin | n | mean P(POEMS) | observed POEMS share | 95% CI |",
            "|---|---|---|---|---|",
        ]
        lines += calibration_rows(s.calibration, edge_decimals=1)
        lines += [
            "",
            "| group | label | n | mean P(POEMS) | share P(POEMS) > 0.5 "
            "| top diagnosis (mean posterior) |",
            "|---|---|---|---|---|---|",
        ]
        for g in s.groups:
            lines.append(
                f"| {g.group} | {', '.join(g.labels)} | {g.n} | {g.mean_p_poems:.3f} | "
                f"{g.share_above_half:.2f} | {g.top_diagnosis} ({g.top_diagnosis_mean:.2f}) |"
            )
        lines += [
            "",
            "| rule set | sensitivity | specificity | indeterminate (all patients) |",
            "|---|---|---|---|",
        ]
        for name, r in s.rules.items():
            lines.append(
                f"| {name} | {r.sensitivity.describe()} | {r.specificity.describe()} | "
                f"{r.indeterminate.describe()} |"
            )
        lines += [
            "",
            "Rule sets: 'met' is a positive call; indeterminate counts as negative.",
        ]
        if self.left_out:
            lines += ["", f"Left out ({len(self.left_out)}):"]
            lines += [f"- {i}: {r}" for i, r in self.left_out]
        return "\n".join(lines) + "\n"


def evaluate_devset(
    devset: Devset | None = None,
    priors: Priors | None = None,
    *,
    setting: str | None = None,
    n_bins: int = DEFAULT_BINS,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
) -> DevsetEvaluation:
    """Score every patient with the network and every rule set, and summarise."""

    devset = devset if devset is not None else load_devset()
    priors = priors if priors is not None else load_priors()
    cases = [p.case for p in devset.patients]
    scores = score_cases(cases, priors, setting, POSITIVE_LABEL)
    failed = dict(scores.failed)
    keep = [i for i in range(len(cases)) if i not in failed]
    scored = tuple(devset.patients[i] for i in keep)
    if not scored:
        raise InputError("devset", "no patient could be scored", "at least one scorable patient")
    verdicts = {
        name: tuple(str(criteria_evaluate(devset.patients[i].case, name).verdict) for i in keep)
        for name in RULE_SETS
    }
    p = np.clip(scores.p_positive[keep], 0.0, 1.0)
    post = scores.posteriors[keep]
    summary = summarise(
        [pt.label for pt in scored],
        [pt.group for pt in scored],
        p,
        post,
        scores.diagnoses,
        verdicts,
        n_bins=n_bins,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    return DevsetEvaluation(
        devset=devset,
        summary=summary,
        diagnoses=tuple(scores.diagnoses),
        settings=tuple(scores.settings[i] or DEFAULT_SETTING for i in keep),
        setting_forced=setting,
        priors_directory=priors.directory,
        scored=scored,
        p_poems=p,
        posteriors=post,
        verdicts=verdicts,
        left_out=tuple((devset.patients[i].id, msg) for i, msg in sorted(failed.items())),
    )


def write_citations(devset: Devset, path: str | Path) -> None:
    """The citation list of every patient as CSV (id, label, group, citation, locators)."""
    columns = ["id", "label", "group", "citation", "url", "doi", "pmcid", "pmid"]
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for p in devset.patients:
            writer.writerow(
                {
                    "id": p.id,
                    "label": p.label,
                    "group": p.group,
                    **{k: p.source.get(k, "") for k in columns[3:]},
                }
            )
