"""Pure helpers between the app's widgets, a :class:`~model.case.Case` and a shareable link.

Nothing here imports streamlit. Widget values live in a flat mapping (the app's session
state) under the keys of :func:`widget_key`; :func:`case_from_values` turns them into a
validated case (raising :class:`~model.exceptions.CaseError` with the field and the fix), and
:func:`values_from_case` goes the other way when a case is loaded from a file, an example or
a link.

A link carries the case as ``?case=v1.<base64url of the compact case JSON>``. Decoding is
defensive: a bounded length, strict base64, JSON only (never pickle or eval) and the same
validation as a case file, so a damaged link becomes one clear error message.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model import measurements as m
from model.case import MAX_CASE_BYTES, Case
from model.exceptions import CaseError, InputError
from model.formatting import clinical_text
from model.inputs import no_autolink, parse_json
from model.vocabulary import (
    ABSENT,
    AGGREGATES,
    FINDINGS,
    PRESENT,
    SEXES,
    VEGF_SPECIMENS,
    VEGF_UNITS,
    Group,
    Kind,
)

NOT_ASSESSED = "not assessed"
"""The widget value for a finding left out of the case (never the same as absent)."""
TRI_STATES: tuple[str, str, str] = (PRESENT, ABSENT, NOT_ASSESSED)

LINK_PARAM = "case"
LINK_PREFIX = "v1."
MAX_LINK_CHARS = 8192
"""A case with every finding set encodes to about 2,500 characters; longer is not ours."""

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"

# Case-level widget keys.
KEY_ID = "case_id"
KEY_AGE = "case_age"
KEY_SEX = "case_sex"
KEY_SETTING = "case_setting"
KEY_VEGF_VALUE = "vegf_value"
KEY_VEGF_UNIT = "vegf_unit"
KEY_VEGF_SPECIMEN = "vegf_specimen"
KEY_VEGF_ULN = "vegf_uln"
DEFAULT_VEGF_UNIT = "pg/mL"
DEFAULT_VEGF_SPECIMEN = "serum"

# Case entry is laid out as the criteria read the findings.
SECTIONS: tuple[tuple[str, tuple[Group, ...]], ...] = (
    ("Mandatory criteria", (Group.NEUROLOGICAL, Group.PLASMA_CELL)),
    ("Major criteria", (Group.MAJOR,)),
    (
        "Minor criteria",
        (
            Group.ORGANOMEGALY,
            Group.VOLUME_OVERLOAD,
            Group.ENDOCRINE,
            Group.SKIN,
            Group.EYE,
            Group.BLOOD,
        ),
    ),
    ("Other signs", (Group.OTHER_SIGNS,)),
    ("Mimic discriminators", (Group.MIMIC,)),
)

# Criterion-level aggregates are entered beside the group they summarise.
AGGREGATE_HOME: Mapping[str, Group] = {
    "organomegaly": Group.ORGANOMEGALY,
    "extravascular_volume_overload": Group.VOLUME_OVERLOAD,
    "endocrinopathy": Group.ENDOCRINE,
    "skin_changes": Group.SKIN,
    "vegf_elevated": Group.MAJOR,
}


def widget_key(finding_id: str) -> str:
    """Session-state key of the widget that enters ``finding_id``."""
    return f"finding_{finding_id}"


def findings_in(group: Group) -> tuple[str, ...]:
    """Finding ids entered under ``group``: the group's own findings, then its aggregate."""
    own = tuple(
        fid
        for fid, spec in FINDINGS.items()
        if spec.group is group and spec.kind is not Kind.AGGREGATE
    )
    extra = tuple(agg for agg, home in AGGREGATE_HOME.items() if home is group)
    return own + extra


def default_values() -> dict[str, Any]:
    """Widget values of an empty case: every finding not assessed."""
    values: dict[str, Any] = {
        KEY_ID: "",
        KEY_AGE: None,
        KEY_SEX: None,
        KEY_SETTING: None,
        KEY_VEGF_VALUE: None,
        KEY_VEGF_UNIT: DEFAULT_VEGF_UNIT,
        KEY_VEGF_SPECIMEN: DEFAULT_VEGF_SPECIMEN,
        KEY_VEGF_ULN: None,
    }
    for fid, spec in FINDINGS.items():
        if spec.kind in (Kind.BINARY, Kind.AGGREGATE, Kind.CATEGORY):
            values[widget_key(fid)] = NOT_ASSESSED
        elif spec.kind is Kind.NUMBER:
            values[widget_key(fid)] = None
    return values


def values_from_case(case: Case) -> dict[str, Any]:
    """Widget values that show ``case`` (every widget set, so nothing stale remains)."""
    values = default_values()
    values[KEY_ID] = case.id or ""
    values[KEY_AGE] = None if case.age is None else float(case.age)
    values[KEY_SEX] = case.sex
    values[KEY_SETTING] = case.setting
    for fid, spec in FINDINGS.items():
        entered = case.entered(fid)
        if entered is None:
            continue
        if spec.kind is Kind.MEASUREMENT:
            values[KEY_VEGF_VALUE] = float(entered["value"])
            values[KEY_VEGF_UNIT] = entered.get("unit", DEFAULT_VEGF_UNIT)
            values[KEY_VEGF_SPECIMEN] = entered.get("specimen", DEFAULT_VEGF_SPECIMEN)
            uln = entered.get("uln")
            values[KEY_VEGF_ULN] = None if uln is None else float(uln)
        elif spec.kind is Kind.NUMBER:
            values[widget_key(fid)] = case.number(fid)  # in the vocabulary's unit
        else:
            values[widget_key(fid)] = str(entered)
    return values


def case_dict_from_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The case JSON object the widgets describe (not yet validated).

    A finding whose state another entry decides (:func:`derived_states`: thrombocytosis
    from the platelet count, an aggregate from its parts) is left out: the entry that
    decides it is the case's single source.
    """
    findings: dict[str, Any] = {}
    derived = derived_states(values)
    for fid, spec in FINDINGS.items():
        if fid in derived:
            continue
        if spec.kind is Kind.MEASUREMENT:
            value = values.get(KEY_VEGF_VALUE)
            if value is None:
                continue
            vegf: dict[str, Any] = {
                "value": _tidy_number(value),
                "unit": values.get(KEY_VEGF_UNIT) or DEFAULT_VEGF_UNIT,
                "specimen": values.get(KEY_VEGF_SPECIMEN) or DEFAULT_VEGF_SPECIMEN,
            }
            uln = values.get(KEY_VEGF_ULN)
            if uln is not None:
                vegf["uln"] = _tidy_number(uln)
            findings[fid] = vegf
            continue
        value = values.get(widget_key(fid))
        if value is None or value == NOT_ASSESSED:
            continue
        findings[fid] = _tidy_number(value) if spec.kind is Kind.NUMBER else value
    data: dict[str, Any] = {}
    case_id = str(values.get(KEY_ID) or "").strip()
    if case_id:
        data["id"] = case_id
    age = values.get(KEY_AGE)
    if age is not None:
        data["age"] = _tidy_number(age)
    sex = values.get(KEY_SEX)
    if sex in SEXES:
        data["sex"] = sex
    setting = values.get(KEY_SETTING)
    if setting:
        data["setting"] = setting
    data["findings"] = findings
    return data


def case_from_values(values: Mapping[str, Any]) -> Case:
    """Validate the widgets into a case; a :class:`CaseError` names the field and the fix."""
    return Case.from_dict(case_dict_from_values(values))


# ---------------------------------------------------------------- one control per fact
@dataclass(frozen=True)
class Derived:
    """A finding whose state another entry decides, and the words that say which."""

    state: str
    because: str


def _number_value(values: Mapping[str, Any], key: str) -> float | None:
    value = values.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def derived_states(values: Mapping[str, Any]) -> dict[str, Derived]:
    """Findings decided by another entry: shown in their control, never entered twice.

    Thrombocytosis follows the platelet count, polycythemia and anemia the hemoglobin /
    hematocrit, and an aggregate "(any)" its parts once they decide it (one part present, or
    every part absent). Values outside the plausible range decide nothing (they are errors).
    """
    out: dict[str, Derived] = {}
    plausible = {fid: FINDINGS[fid].plausible for fid in ("platelets", "hemoglobin", "hematocrit")}

    def measured(fid: str) -> float | None:
        value = _number_value(values, widget_key(fid))
        bounds = plausible[fid]
        if value is None or bounds is None or not bounds[0] <= value <= bounds[1]:
            return None
        return value

    platelets = measured("platelets")
    if platelets is not None:
        out["thrombocytosis"] = Derived(
            m.thrombocytosis_from_platelets(platelets),
            f"set by the platelet count ({platelets:g} x 10^9/L)",
        )
    hb, hct = measured("hemoglobin"), measured("hematocrit")
    sex = values.get(KEY_SEX)
    sex = sex if sex in SEXES else None
    if hb is not None or hct is not None:
        for fid, state in (
            ("polycythemia", m.polycythemia_from_blood(hb, hct, sex)),
            ("anemia", m.anemia_from_hemoglobin(hb, sex)),
        ):
            if state is not None:
                out[fid] = Derived(state, "set by the hemoglobin / hematocrit entered")
    for agg, parts in AGGREGATES.items():
        if agg == "vegf_elevated":
            continue  # a statement about VEGF is the clinician's reading; see the VEGF help
        states = {p: _entered_state(values, p, out) for p in parts}
        present = [p for p, st in states.items() if st == PRESENT]
        if present:
            names = ", ".join(FINDINGS[p].label for p in present)
            out[agg] = Derived(PRESENT, f"set by its part: {names}")
        elif states and all(st == ABSENT for st in states.values()):
            out[agg] = Derived(ABSENT, "set by its parts (all absent)")
    return out


def _entered_state(values: Mapping[str, Any], fid: str, derived: Mapping[str, Derived]) -> Any:
    if fid in derived:
        return derived[fid].state
    value = values.get(widget_key(fid))
    return None if value in (None, NOT_ASSESSED) else value


# ---------------------------------------------------------------- what can still be used
@dataclass(frozen=True)
class Problem:
    """One entry that could not be used: where it is, and what to do about it."""

    key: str  # the widget key of the entry ("" when no widget holds it)
    name: str  # the entry's clinical name
    message: str


def widget_for(field: str) -> str:
    """The widget key that enters an error's field (``"findings.vegf.uln"`` -> ULN box)."""
    if field in ("age", "sex", "setting", "id"):
        return {"age": KEY_AGE, "sex": KEY_SEX, "setting": KEY_SETTING, "id": KEY_ID}[field]
    if field.startswith("findings."):
        parts = field.split(".")
        fid = parts[1]
        if fid in FINDINGS and FINDINGS[fid].kind is Kind.MEASUREMENT:
            return KEY_VEGF_ULN if parts[-1] == "uln" else KEY_VEGF_VALUE
        if fid in FINDINGS:
            return widget_key(fid)
    return ""


_FIELD_NAMES = {
    "age": "Age",
    "sex": "Sex",
    "setting": "Clinical setting",
    "id": "Case id",
    "findings": "Findings",
    "link": "Link",
    "case": "Case",
}


def field_name(field: str) -> str:
    """An error's field in clinical words (``"findings.vegf.value"`` -> ``"VEGF value"``)."""
    if field in _FIELD_NAMES:
        return _FIELD_NAMES[field]
    if field.startswith("findings."):
        parts = field.split(".")
        fid = parts[1]
        if fid in FINDINGS:
            name = FINDINGS[fid].label
            extra = {"uln": " upper limit of normal", "unit": " unit", "specimen": " specimen"}
            if FINDINGS[fid].kind is Kind.MEASUREMENT and parts[-1] in extra:
                name += extra[parts[-1]]
            return name
    return clinical_text(field)


def problem_from(err: Exception, field: str, value: Any) -> Problem:
    """A :class:`Problem` from any error raised while reading ``field``."""
    if isinstance(err, InputError) and err.field in ("finding id", "case key"):
        what = "finding" if err.field == "finding id" else "case field"
        return Problem(
            "",
            f"Unknown {what} {_short(err.value)}",
            f"Unknown {what} {_short(err.value)}: not one this app knows. "
            f"{clinical_text(err.hint)}".strip(),
        )
    if isinstance(err, InputError):
        name = field_name(err.field if err.field.startswith("findings.") else field)
        key = widget_for(err.field) or widget_for(field)
        message = (
            f"{name} must be {clinical_text(err.allowed)}. Got {_short(err.value)} instead. "
            f"{clinical_text(err.hint)}"
        ).strip()
        return Problem(key, name, message)
    name = field_name(field)
    return Problem(
        widget_for(field),
        name,
        f"{name} could not be read: got {_short(value)} ({type(value).__name__}), which is "
        "not a value this entry takes. Enter it again in the sidebar.",
    )


def salvage(data: Any) -> tuple[Case, tuple[Problem, ...]]:
    """The case made of every usable part of ``data``, and what was left out and why.

    Each case field and each finding is checked on its own (any error, not only the
    project's, becomes a :class:`Problem`), then the good parts together; an entry that
    contradicts another (the error names it) is left out and the rest tried again. The
    result is always a valid case, possibly empty.
    """
    if not isinstance(data, Mapping):
        return Case(), (problem_from(TypeError(), "case", data),)
    problems: list[Problem] = []
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if key == "findings":
            continue
        try:
            Case.from_dict({key: value})
        except Exception as err:
            problems.append(problem_from(err, str(key), value))
        else:
            fields[key] = value
    raw = data.get("findings", {})
    if not isinstance(raw, Mapping):
        problems.append(problem_from(TypeError(), "findings", raw))
        raw = {}
    findings: dict[str, Any] = {}
    for fid, value in raw.items():
        try:
            Case.from_dict({"findings": {fid: value}})
        except Exception as err:
            problems.append(problem_from(err, f"findings.{fid}", value))
        else:
            findings[fid] = value
    for _ in range(len(findings) + 1):
        try:
            return Case.from_dict({**fields, "findings": findings}), tuple(problems)
        except CaseError as err:
            fid = err.field.split(".")[1] if err.field.startswith("findings.") else ""
            if fid not in findings:
                break
            problems.append(problem_from(err, err.field, findings.pop(fid)))
        except Exception:
            break
    problems.append(Problem("", "Findings", "The findings could not be combined; none were used."))
    return Case.from_dict(fields), tuple(problems)


def case_and_problems(values: Mapping[str, Any]) -> tuple[Case, tuple[Problem, ...]]:
    """The widgets' case; entries that cannot be used are left out and named."""
    data = case_dict_from_values(values)
    try:
        return Case.from_dict(data), ()
    except Exception:
        return salvage(data)


def _tidy_number(value: Any) -> Any:
    """Whole floats from number inputs become ints, so files and links stay short."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---------------------------------------------------------------------------- links
def encode_case(case: Case) -> str:
    """The link parameter for ``case``: ``v1.`` + base64url of its compact JSON."""
    raw = json.dumps(
        case.to_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")
    return LINK_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_case(text: Any) -> Case:
    """Read a link parameter back into a case; anything damaged raises :class:`CaseError`."""
    return Case.from_dict(_link_data(text), where="link")


def decode_link(text: Any) -> tuple[Case, tuple[Problem, ...]]:
    """A link's case made of its good parts, and what was left out (never raises).

    A damaged code (not base64, not JSON, too long) gives an empty case and one problem;
    a code whose case has bad entries opens with the good ones.
    """
    try:
        data = _link_data(text)
    except CaseError as err:
        return Case(), (Problem("", "Link", str(err)),)
    except Exception as err:
        return Case(), (problem_from(err, "link", text),)
    try:
        return Case.from_dict(data), ()
    except Exception:
        return salvage(data)


def _link_data(text: Any) -> Any:
    """The JSON object a link parameter carries (checked for length, base64 and JSON)."""
    where = "link"
    if isinstance(text, list):
        text = text[-1] if text else ""
    if not isinstance(text, str) or not text.startswith(LINK_PREFIX):
        raise CaseError(
            f"{LINK_PARAM} parameter",
            _short(text),
            f"a case code starting with {LINK_PREFIX!r}",
            "The link is not from this app or was cut off; copy the whole address again.",
            where=where,
        )
    if len(text) > MAX_LINK_CHARS:
        raise CaseError(
            f"{LINK_PARAM} parameter",
            f"{len(text)} characters",
            f"at most {MAX_LINK_CHARS} characters",
            "Share a case file instead of a link for very large cases.",
            where=where,
        )
    body = text[len(LINK_PREFIX) :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if len(raw) > MAX_CASE_BYTES:
            raise ValueError("too long")
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError) as err:
        raise CaseError(
            f"{LINK_PARAM} parameter",
            _short(text),
            "an intact case code",
            "The link was damaged or cut off (for example by an e-mail client); copy the "
            f"whole address again. ({type(err).__name__})",
            where=where,
        ) from None
    try:
        return parse_json(decoded, what=f"{LINK_PARAM} parameter", error=CaseError)
    except CaseError as err:
        raise CaseError(
            f"{LINK_PARAM} parameter",
            _short(text),
            "an intact case code",
            "The link was damaged or cut off (for example by an e-mail client); copy the "
            f"whole address again. ({err.field} must be {err.allowed}; got {err.value})",
            where=where,
        ) from None


def _short(value: Any, limit: int = 40) -> str:
    try:
        text = repr(value) if isinstance(value, str) else str(value)
    except ValueError:  # an integer too long to print
        text = "a number too long to read"
    return text if len(text) <= limit else text[:limit] + "..."


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$:])")


def plain(text: object) -> str:
    """Text shown literally by Streamlit's Markdown (messages quote user input: a value such
    as ``[x](http://...)`` or ``:red[x]`` must not become a link or a colour; a bare URL is
    kept from becoming a link by :func:`model.inputs.no_autolink`)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", no_autolink(str(text)))


def file_stem(case_id: str | None, default: str = "poems-case") -> str:
    """A safe file name stem from a case id (letters, digits, ``-``, ``_``, ``.``)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", case_id or "").strip("-.")[:60]
    return stem or default


# ---------------------------------------------------------------------------- examples
def example_paths() -> list[Path]:
    """The example case files shipped in ``examples/``, sorted by name."""
    return sorted(EXAMPLES_DIR.glob("*.json"))


def example_title(path: Path) -> str:
    """Title of an example: its case id in words."""
    return path.stem.replace("_", " ").capitalize()


def vegf_units() -> tuple[str, ...]:
    return tuple(VEGF_UNITS)


def vegf_specimens() -> tuple[str, ...]:
    return VEGF_SPECIMENS
