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
from pathlib import Path
from typing import Any

from model.case import MAX_CASE_BYTES, Case
from model.exceptions import CaseError
from model.inputs import parse_json
from model.vocabulary import (
    ABSENT,
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
    """The case JSON object the widgets describe (not yet validated)."""
    findings: dict[str, Any] = {}
    for fid, spec in FINDINGS.items():
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


def _tidy_number(value: Any) -> Any:
    """Whole floats from number inputs become ints, so files and links stay short."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---------------------------------------------------------------------------- links
def encode_case(case: Case) -> str:
    """The link parameter for ``case``: ``v1.`` + base64url of its compact JSON."""
    raw = json.dumps(case.to_dict(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return LINK_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_case(text: Any) -> Case:
    """Read a link parameter back into a case; anything damaged raises :class:`CaseError`."""
    where = "link"
    if isinstance(text, list):
        text = text[-1] if text else ""
    if not isinstance(text, str) or not text.startswith(LINK_PREFIX):
        raise CaseError(
            f"{LINK_PARAM} parameter",
            _short(text),
            f"a case code starting with {LINK_PREFIX!r}",
            "The link is not from this app or was cut off; copy it again from 'Share'.",
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
            "The link was damaged or cut off (for example by an e-mail client); copy it again "
            f"from 'Share'. ({type(err).__name__})",
            where=where,
        ) from None
    try:
        data = parse_json(decoded, what=f"{LINK_PARAM} parameter", error=CaseError)
    except CaseError as err:
        raise CaseError(
            f"{LINK_PARAM} parameter",
            _short(text),
            "an intact case code",
            "The link was damaged or cut off (for example by an e-mail client); copy it again "
            f"from 'Share'. ({err.field} must be {err.allowed})",
            where=where,
        ) from None
    return Case.from_dict(data, where=where)


def _short(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$:])")


def plain(text: object) -> str:
    """Text shown literally by Streamlit's Markdown (messages quote user input: a value such
    as ``[x](http://...)`` or ``:red[x]`` must not become a link or a colour)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


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
