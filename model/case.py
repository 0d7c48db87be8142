"""One patient's findings: the JSON case format (``docs/formats.md``), validated and immutable.

A :class:`Case` keeps exactly what the user entered (so it round-trips through its file) and
derives, on demand, the tri-state of every finding: ``"present"``, ``"absent"`` or ``None``
(not assessed). Measurements (platelets, hemoglobin, VEGF) are turned into states by
:mod:`model.measurements`; aggregates and their parts must agree.

A what-if never mutates a case: :meth:`Case.with_finding` returns a new one.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

from model import measurements as m
from model import units
from model.constants import SETTING_ID_PATTERN
from model.exceptions import CaseError
from model.inputs import STDIO, parse_json, read_bounded
from model.vocabulary import (
    ABSENT,
    AGE_RANGE,
    AGGREGATES,
    CASE_FIELDS,
    FINDINGS,
    PRESENT,
    SEXES,
    UNKNOWN,
    Kind,
    suggest,
)

NUMBER_FIELDS: tuple[str, ...] = ("value", "unit")
"""A numeric finding is a bare number in the vocabulary's unit, or ``{"value", "unit"}``."""

MAX_CASE_BYTES = 256 * 1024
"""A case file is a few hundred bytes; anything near this is not a case."""
_CASE_SIZE_HINT = "A case file holds one patient; use a cohort CSV for many."

SETTING_PATTERN = re.compile(SETTING_ID_PATTERN)
"""What a setting id looks like (the priors decide which ids exist)."""
_SETTING_PATTERN = SETTING_PATTERN
_BINARY_SYNONYMS = {
    True: PRESENT,
    False: ABSENT,
    "yes": PRESENT,
    "no": ABSENT,
    "true": PRESENT,
    "false": ABSENT,
    "positive": PRESENT,
    "negative": ABSENT,
    "+": PRESENT,
    "-": ABSENT,
    PRESENT: PRESENT,
    ABSENT: ABSENT,
    UNKNOWN: UNKNOWN,
    "": UNKNOWN,
    "not assessed": UNKNOWN,
    "na": UNKNOWN,
    "n/a": UNKNOWN,
}


CONSISTENCY_GROUPS: tuple[frozenset[str], ...] = (
    *(
        frozenset({agg, *parts, *(("platelets",) if "thrombocytosis" in parts else ())})
        for agg, parts in AGGREGATES.items()
    ),
    frozenset({"platelets", "thrombocytosis"}),
    frozenset({"hemoglobin", "hematocrit", "polycythemia", "anemia"}),
    frozenset({"vegf", "vegf_elevated"}),
    frozenset({"sclerotic_lesion_size_cm", "sclerotic_bone_lesion"}),
    frozenset({"monoclonal_protein", "light_chain", "heavy_chain"}),
)
"""The findings each consistency rule of :meth:`Case._check_consistency` reads together
(the case-level sex is fixed for a case). Whether a finding can be added to a valid case
depends only on the entered findings that share a group with it; analyses that try many
results of a test rely on this (``tests/test_workup_fast.py`` checks it by brute force).
Keep it in step with ``_check_consistency``."""


def consistency_partners(finding_id: str) -> frozenset[str]:
    """The findings sharing a consistency rule with ``finding_id`` (itself included)."""
    return frozenset().union(*(g for g in CONSISTENCY_GROUPS if finding_id in g), {finding_id})


_PARTNERS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {fid: tuple(sorted(consistency_partners(fid) - {fid})) for fid in FINDINGS}
)
"""Each finding's consistency partners, itself left out (for :meth:`Case.with_state`)."""
_AGGREGATES_OVER: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        fid: tuple(a for a, parts in AGGREGATES.items() if fid in parts and a != "vegf_elevated")
        for fid in FINDINGS
    }
)
"""The aggregates derived from each finding (``vegf_elevated`` is never derived)."""
_STATED_KINDS = (Kind.BINARY, Kind.AGGREGATE)
_ENTERED_STATES: tuple[str, ...] = tuple(
    fid for fid, spec in FINDINGS.items() if spec.kind in (Kind.BINARY, Kind.CATEGORY)
)
"""Findings whose state is what was entered (unless a measurement decides it)."""
_STATED_IN_RULES = frozenset(
    {
        *AGGREGATES,
        "thrombocytosis",
        "polycythemia",
        "anemia",
        "sclerotic_lesion_size_cm",
        "monoclonal_protein",
    }
)
"""What :meth:`Case._check_consistency` needs entered before any of its rules can refuse a
case (an aggregate, a state against its measurement, a lesion size, the M-protein)."""


@dataclass(frozen=True)
class Case:
    """A validated case. Build one with :meth:`from_dict`, :meth:`from_json` or :meth:`load`.

    Attributes
    ----------
    findings : the findings exactly as entered (``"unknown"`` kept), keyed by finding id.
    id, age, sex, setting : optional case-level fields.
    """

    findings: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    age: float | int | None = None
    sex: str | None = None
    setting: str | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, data: Any, *, where: str = "") -> Case:
        """Validate a parsed case object; errors name ``where`` (a file or row)."""
        try:
            return cls._from_dict(data)
        except CaseError as err:
            raise (err.located(where) if where else err) from None

    @classmethod
    def _from_dict(cls, data: Any) -> Case:
        if not isinstance(data, Mapping):
            raise CaseError(
                "case", type(data).__name__, "a JSON object", 'Start from {"findings": {}}.'
            )
        for key in data:
            if key not in CASE_FIELDS:
                hint = suggest(str(key), CASE_FIELDS)
                if key in FINDINGS:
                    hint = f"Findings go inside the 'findings' object: move {key!r} there."
                raise CaseError("case key", key, "one of " + ", ".join(CASE_FIELDS), hint)
        case_id = data.get("id")
        if case_id is not None and not isinstance(case_id, str):
            raise CaseError("id", case_id, "a string", "Put the id in quotes.")
        age = data.get("age")
        if age is not None:
            m.check_number("age", age, "years", AGE_RANGE)
        sex = data.get("sex")
        if sex is not None and sex not in SEXES:
            short = {"m": "male", "f": "female", "man": "male", "woman": "female"}
            guess = short.get(str(sex).strip().lower())
            hint = f"Write {guess!r}." if guess else suggest(str(sex), SEXES)
            raise CaseError("sex", sex, "'male' or 'female'", hint)
        setting = data.get("setting")
        if setting is not None and (
            not isinstance(setting, str) or not _SETTING_PATTERN.match(setting)
        ):
            raise CaseError(
                "setting",
                setting,
                "a setting id such as 'neuropathy_clinic'",
                "Setting ids are lower-case words joined by '_'.",
            )
        raw_findings = data.get("findings", {})
        if not isinstance(raw_findings, Mapping):
            raise CaseError(
                "findings",
                raw_findings,
                "an object of finding id -> value",
                'For example {"polyneuropathy": "present"}.',
            )
        findings = {key: _check_finding(key, value) for key, value in raw_findings.items()}
        case = cls(MappingProxyType(findings), case_id, age, sex, setting)
        case._check_consistency()
        return case

    @classmethod
    def from_json(cls, text: str | bytes, *, where: str = "") -> Case:
        """Parse and validate JSON text (no eval, no pickle; bounded size and depth)."""
        if len(text) > MAX_CASE_BYTES:
            raise CaseError(
                "case file",
                f"{len(text)} bytes",
                f"at most {MAX_CASE_BYTES} bytes",
                _CASE_SIZE_HINT,
                where=where,
            )
        data = parse_json(text, what="case file", where=where, error=CaseError)
        return cls.from_dict(data, where=where)

    @classmethod
    def load(cls, path: str | Path) -> Case:
        """Read a case file from disk (``-`` reads standard input), bounded before reading."""
        raw = read_bounded(
            path,
            MAX_CASE_BYTES,
            what="case file",
            allowed="a readable JSON file",
            hint=_CASE_SIZE_HINT,
            error=CaseError,
        )
        return cls.from_json(raw, where="<stdin>" if str(path) == STDIO else str(path))

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """The case as entered, in the JSON shape of ``docs/case.schema.json``."""
        out: dict[str, Any] = {}
        for key in ("id", "age", "sex", "setting"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["findings"] = {k: _plain(v) for k, v in self.findings.items()}
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    # ------------------------------------------------------------------ what-if
    def with_finding(self, finding_id: str, value: Any) -> Case:
        """A new case with one finding set (``None`` or ``"unknown"`` removes it)."""
        findings = {k: _plain(v) for k, v in self.findings.items()}
        if value is None or value == UNKNOWN:
            findings.pop(finding_id, None)
        else:
            findings[finding_id] = _plain(value)
        data = self.to_dict()
        data["findings"] = findings
        return Case.from_dict(data)

    def with_findings(self, findings: Mapping[str, Any]) -> Case:
        """A new case with these findings set (added after, or replacing, the entered ones).

        Accepts and refuses exactly what ``Case.from_dict`` of the merged case would, but
        checks only the new values and the consistency of the whole: the entered values were
        checked when this case was made. For analyses that try many results of a test.
        """
        merged = dict(self.findings)
        for key, value in findings.items():
            merged[key] = _check_finding(key, value)
        case = Case(MappingProxyType(merged), self.id, self.age, self.sex, self.setting)
        if "vegf" not in findings and "vegf" in self.__dict__:
            case.__dict__["vegf"] = self.__dict__["vegf"]  # the same entered value, read once
        case._check_consistency()
        return case

    def accepts(self, finding_id: str, state: str) -> bool:
        """Whether :meth:`with_finding` accepts ``finding_id`` set to ``state`` (no error).

        Immediate for a binary finding or aggregate not entered when no finding sharing a
        consistency rule with it is entered (:data:`CONSISTENCY_GROUPS`: no rule can then
        reach it, and this case passed them all); otherwise :meth:`with_finding` decides.
        """
        spec = FINDINGS.get(finding_id)
        if (
            spec is not None
            and spec.kind in _STATED_KINDS
            and state in spec.states
            and self.entered(finding_id) is None
        ):
            entered = self.findings
            if not any(p in entered and entered[p] != UNKNOWN for p in _PARTNERS[finding_id]):
                return True
        try:
            self.with_finding(finding_id, state)
        except CaseError:
            return False
        return True

    def supposing(self, finding_id: str, state: str) -> Supposed:
        """How this case reads with one more binary finding or aggregate entered
        (:class:`Supposed`); whether the case accepts it is :meth:`accepts`."""
        return Supposed(self, finding_id, state)

    def with_fields(self, **fields: Any) -> Case:
        """A new case with case-level fields changed (id, age, sex, setting)."""
        data = self.to_dict()
        for key, value in fields.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        return Case.from_dict(data)

    # ------------------------------------------------------------------ derived states
    def entered(self, finding_id: str) -> Any:
        """The raw entered value, ``None`` if not assessed (``"unknown"`` counts as not)."""
        value = self.findings.get(finding_id)
        return None if value == UNKNOWN else value

    @cached_property
    def vegf(self) -> m.VegfMeasurement | None:
        raw = self.entered("vegf")
        return None if raw is None else m.parse_vegf(raw)

    def number(self, finding_id: str) -> float | None:
        """A numeric finding in the vocabulary's unit (converted if entered with another)."""
        value = self.entered(finding_id)
        if value is None:
            return None
        if isinstance(value, Mapping):
            return units.convert(finding_id, float(value["value"]), str(value["unit"]))
        return float(value)

    def implied_units(self) -> tuple[str, ...]:
        """One notice per number entered without a unit, naming the unit it was read in.

        Old case files give bare numbers; they are read in the documented unit of the
        vocabulary, and this says so instead of guessing silently.
        """
        out = []
        for fid, value in self.findings.items():
            spec = FINDINGS[fid]
            if spec.kind is Kind.NUMBER and not isinstance(value, Mapping) and value != UNKNOWN:
                out.append(f"{fid} {value:g} was read as {spec.unit} (no unit given).")
        return tuple(out)

    @cached_property
    def _derived(self) -> Mapping[str, str | None]:
        """Tri-state of every binary, category and aggregate finding."""
        findings = self.findings
        states: dict[str, str | None] = {}
        for fid in _ENTERED_STATES:
            value = findings.get(fid)
            states[fid] = None if value == UNKNOWN else value  # self.entered(fid)
        platelets = self.number("platelets")
        if platelets is not None and states["thrombocytosis"] is None:
            states["thrombocytosis"] = m.thrombocytosis_from_platelets(platelets)
        if platelets is not None and states["thrombocytopenia"] is None:
            states["thrombocytopenia"] = m.thrombocytopenia_from_platelets(platelets)
        hb, hct = self.number("hemoglobin"), self.number("hematocrit")
        if states["polycythemia"] is None:
            states["polycythemia"] = m.polycythemia_from_blood(hb, hct, self.sex)
        if states["anemia"] is None:
            states["anemia"] = m.anemia_from_hemoglobin(hb, self.sex)
        for agg, parts in AGGREGATES.items():
            stated = self.entered(agg)
            if stated is not None:
                states[agg] = stated
            elif agg == "vegf_elevated":
                states[agg] = None  # measured VEGF is read by each rule set on its own scale
            elif any(states[p] == PRESENT for p in parts):
                states[agg] = PRESENT
            elif all(states[p] == ABSENT for p in parts):
                states[agg] = ABSENT
            else:
                states[agg] = None
        return MappingProxyType(states)

    def state(self, finding_id: str) -> str | None:
        """``"present"``/``"absent"`` (or the category) if known, ``None`` if not assessed.

        Derived: thrombocytosis from platelets, polycythemia and anemia from hemoglobin /
        hematocrit, and each aggregate from its parts (present if any part is present,
        absent if every part is absent).
        """
        try:
            return self._derived[finding_id]
        except KeyError:
            pass
        if finding_id not in FINDINGS:
            raise CaseError(
                "finding id", finding_id, "a vocabulary id", suggest(finding_id, FINDINGS)
            )
        return None  # a number or a measurement: no state of its own

    def assessed(self) -> tuple[str, ...]:
        """Ids of the findings entered (not ``unknown``), in entry order."""
        return tuple(k for k, v in self.findings.items() if v != UNKNOWN)

    # ------------------------------------------------------------------ consistency
    def _check_consistency(self) -> None:
        _ = self.vegf  # validates the measurement
        given = {k: v for k, v in self.findings.items() if v != UNKNOWN}  # self.entered
        if given.keys().isdisjoint(_STATED_IN_RULES):
            return  # every rule below needs one of these entered
        for agg, parts in AGGREGATES.items():
            stated = given.get(agg)
            if (
                stated == PRESENT
                and _measured_parts(parts) == ()
                and all(self._part_state(p) == ABSENT for p in parts)
            ):
                raise CaseError(
                    f"findings.{agg}",
                    PRESENT,
                    "consistent with its parts (" + ", ".join(parts) + " are all absent)",
                    f"Set the part that is present, or set {agg!r} to 'absent'.",
                )
            if stated != ABSENT:
                continue
            for part in parts:
                if part != "vegf" and self._part_state(part) == PRESENT:
                    raise CaseError(
                        f"findings.{agg}",
                        ABSENT,
                        f"consistent with its part {part!r} (present)",
                        f"An aggregate cannot be absent while {part!r} is present: set {agg!r} "
                        f"to 'present', or correct {part!r}.",
                    )
        self._check_measured_vs_stated(given)
        lesion_size = given.get("sclerotic_lesion_size_cm")
        if lesion_size is not None and given.get("sclerotic_bone_lesion") == ABSENT:
            raise CaseError(
                "findings.sclerotic_lesion_size_cm",
                lesion_size,
                "given only when 'sclerotic_bone_lesion' is present",
                "Remove the size, or set 'sclerotic_bone_lesion' to 'present'.",
            )
        if given.get("monoclonal_protein") == ABSENT:
            for typed in ("light_chain", "heavy_chain"):
                value = given.get(typed)
                if value is not None and not (typed == "heavy_chain" and value == "none"):
                    raise CaseError(
                        f"findings.{typed}",
                        value,
                        "given only when 'monoclonal_protein' is present",
                        f"A typed {typed.replace('_', ' ')} means a monoclonal protein was found: "
                        f"set 'monoclonal_protein' to 'present' or remove {typed!r}.",
                    )

    def _part_state(self, part: str) -> str | None:
        value = self.entered(part)
        if value is not None:
            return str(value)
        if part == "thrombocytosis" and self.number("platelets") is not None:
            return m.thrombocytosis_from_platelets(float(self.number("platelets") or 0.0))
        return None

    def _check_measured_vs_stated(self, given: Mapping[str, Any]) -> None:
        """Stated states against the measured values (``given``: the entered findings); a
        measurement is read only when the state it decides is stated."""
        stated = given.get("thrombocytosis")
        platelets = None if stated is None else self.number("platelets")
        if platelets is not None and stated is not None:
            implied = m.thrombocytosis_from_platelets(platelets)
            if implied != stated:
                raise CaseError(
                    "findings.thrombocytosis",
                    stated,
                    f"{implied!r} as implied by platelets {platelets:g} x 10^9/L "
                    f"(threshold > {m.THROMBOCYTOSIS_PLATELETS.value:g})",
                    "Correct one of 'platelets' or 'thrombocytosis', or give only one of them.",
                )
        for name in ("polycythemia", "anemia"):
            stated = given.get(name)
            if stated is None:
                continue
            hb, hct = self.number("hemoglobin"), self.number("hematocrit")
            measured = (
                m.polycythemia_from_blood(hb, hct, self.sex)
                if name == "polycythemia"
                else m.anemia_from_hemoglobin(hb, self.sex)
            )
            if measured is not None and stated != measured:
                raise CaseError(
                    f"findings.{name}",
                    stated,
                    f"{measured!r} as implied by the hemoglobin/hematocrit (WHO thresholds)",
                    f"Correct one of them, or leave {name!r} out and let the values decide.",
                )
        vegf, elevated = self.vegf, given.get("vegf_elevated")
        if vegf is not None and elevated is not None:
            ratio = vegf.multiple_of_uln
            if (elevated == PRESENT and ratio <= m.VEGF_NOT_ELEVATED_AT_MOST_ULN_MULTIPLE) or (
                elevated == ABSENT and ratio >= m.VEGF_CLEARLY_ELEVATED_FROM_ULN_MULTIPLE
            ):
                raise CaseError(
                    "findings.vegf_elevated",
                    elevated,
                    f"consistent with the measured VEGF ({vegf.describe()})",
                    "Remove 'vegf_elevated' and let the measured value decide, or fix the value.",
                )


class Supposed:
    """A case as it reads with one more binary finding or aggregate entered, without making
    that case: :meth:`state`, :meth:`entered`, :meth:`number` and :attr:`vegf` answer as
    ``case.with_finding(finding_id, state)`` would (the finding itself, the aggregates
    derived from it as :attr:`Case._derived` derives them, everything else this case's).
    For analyses that read many one-finding-away variants (the criteria's "what would
    decide it"); it is read-only and not checked for consistency (:meth:`Case.accepts`).
    ``tests/test_case_supposing.py`` compares it with :meth:`Case.with_finding`.
    """

    __slots__ = ("_aggregates", "_case", "_finding", "_state")

    def __init__(self, case: Case, finding_id: str, state: str) -> None:
        spec = FINDINGS.get(finding_id)
        if spec is None or spec.kind not in _STATED_KINDS or state not in spec.states:
            raise CaseError(
                "supposed finding",
                f"{finding_id}={state}",
                "a binary finding or aggregate and one of its states",
                suggest(str(finding_id), FINDINGS),
            )
        if case.entered(finding_id) is not None:
            raise CaseError(
                f"findings.{finding_id}",
                case.entered(finding_id),
                "not entered (a supposed finding adds one; it does not replace one)",
                "Use Case.with_finding to change an entered finding.",
            )
        self._case = case
        self._finding = finding_id
        self._state = state
        aggregates: dict[str, str | None] = {}
        for agg in _AGGREGATES_OVER[finding_id]:
            if case.entered(agg) is None:
                parts = [state if p == finding_id else case.state(p) for p in AGGREGATES[agg]]
                if PRESENT in parts:
                    aggregates[agg] = PRESENT
                elif all(p == ABSENT for p in parts):
                    aggregates[agg] = ABSENT
                else:
                    aggregates[agg] = None
        self._aggregates = aggregates

    @property
    def vegf(self) -> m.VegfMeasurement | None:
        return self._case.vegf

    def entered(self, finding_id: str) -> Any:
        return self._state if finding_id == self._finding else self._case.entered(finding_id)

    def state(self, finding_id: str) -> str | None:
        if finding_id == self._finding:
            return self._state
        if finding_id in self._aggregates:
            return self._aggregates[finding_id]
        return self._case.state(finding_id)

    def number(self, finding_id: str) -> float | None:
        return self._case.number(finding_id)


def _measured_parts(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Parts that are measurements (VEGF): an aggregate over them is read on each rule set's
    own scale, so the all-parts-absent rule does not apply."""
    return tuple(p for p in parts if FINDINGS[p].kind is Kind.MEASUREMENT)


def _check_finding(key: Any, value: Any) -> Any:
    fid = str(key)
    spec = FINDINGS.get(fid)
    path = f"findings.{fid}"
    if spec is None:
        hint = suggest(fid, FINDINGS)
        raise CaseError(
            "finding id",
            fid,
            "an id listed by 'poems vocabulary'",
            hint or "See 'poems vocabulary'.",
        )
    if value == UNKNOWN and isinstance(value, str):
        return UNKNOWN
    if spec.kind in (Kind.BINARY, Kind.AGGREGATE):
        if value in spec.states and isinstance(value, str):
            return value
        synonym = (
            _BINARY_SYNONYMS.get(value.strip().lower() if isinstance(value, str) else value)
            if isinstance(value, str | bool | int | float)
            else None
        )
        hint = f"Write {synonym!r}." if synonym else "Leave the finding out if it was not assessed."
        if value is None:
            hint = "Use 'unknown' or leave the finding out if it was not assessed."
        raise CaseError(path, value, "'present', 'absent' or 'unknown'", hint)
    if spec.kind is Kind.CATEGORY:
        if isinstance(value, str) and value in spec.states:
            return value
        hint = suggest(str(value), spec.states)
        raise CaseError(path, value, "one of " + ", ".join(map(repr, spec.states)), hint)
    if spec.kind is Kind.NUMBER:
        assert spec.unit is not None and spec.plausible is not None
        if isinstance(value, Mapping):
            _check_with_unit(fid, value, path, spec.unit, spec.plausible)
            return dict(value)
        m.check_number(path, value, spec.unit, spec.plausible)
        return value
    # measurement (VEGF)
    m.parse_vegf(value, field=path)
    return dict(value)


def _check_with_unit(
    fid: str, raw: Mapping[str, Any], path: str, unit: str, plausible: tuple[float, float]
) -> None:
    """A number with its unit, converted and checked; out of range, the message quotes the
    value as written and names the unit that would make it plausible."""
    converted = _with_unit(fid, raw, path)
    low, high = plausible
    if low <= converted <= high:
        return
    given = str(raw["unit"])
    others = [u for u in units.likely_units(fid, float(raw["value"]), plausible) if u != given]
    if others:
        reading = units.convert(fid, float(raw["value"]), others[0])
        also = f" (or {', '.join(repr(u) for u in others[1:])})" if others[1:] else ""
        hint = f"In {others[0]!r} it would be {reading:g} {unit}: set unit to {others[0]!r}{also}."
    else:
        hint = "Check the value and its unit."
    raise CaseError(
        path,
        raw["value"],
        f"between {low:g} and {high:g} {unit} once converted (here {converted:g} {unit} from "
        f"{given!r})",
        hint,
    )


def _with_unit(fid: str, raw: Mapping[str, Any], path: str) -> float:
    """A number given as ``{"value": 8.1, "unit": "mmol/L"}``, converted to the stored unit."""
    for key in raw:
        if key not in NUMBER_FIELDS:
            raise CaseError(
                f"{path}.{key}", raw[key], "one of value, unit", suggest(str(key), NUMBER_FIELDS)
            )
    if "value" not in raw or "unit" not in raw:
        raise CaseError(
            path,
            dict(raw),
            'an object with "value" and "unit", or a bare number in ' + str(FINDINGS[fid].unit),
            "For example "
            + json.dumps({"value": raw.get("value", 1), "unit": units.accepted(fid)[-1]})
            + ".",
        )
    number = m.check_number(f"{path}.value", raw["value"], str(raw["unit"]), (-math.inf, math.inf))
    if not isinstance(raw["unit"], str):
        raise CaseError(f"{path}.unit", raw["unit"], "a unit such as 'g/dL'", "Quote the unit.")
    return units.convert(fid, number, raw["unit"], field=path)


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, Mapping) else value
