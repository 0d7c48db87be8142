"""The JSON Schema of a case file, generated from the vocabulary (never written by hand).

The published copy is ``docs/case.schema.json``; a test checks that it equals
:func:`case_schema` so the file can never drift from the vocabulary. Regenerate it with::

    python -m model.case_schema > docs/case.schema.json

The schema describes the *shape* (ids, states, types, units, plausible ranges of bare
numbers). :class:`~model.case.Case` checks more (an aggregate against its parts, a measured
value against a stated finding, unit slips), so a file valid against the schema can still be
refused, with a message saying why.
"""

from __future__ import annotations

import json
from typing import Any

from model import units
from model.codes import codes_for
from model.constants import SETTING_ID_PATTERN
from model.inputs import MAX_DEPTH
from model.vocabulary import (
    AGE_RANGE,
    FINDINGS,
    SEXES,
    UNKNOWN,
    VEGF_SPECIMENS,
    VEGF_UNITS,
    Finding,
    Kind,
)

SCHEMA_VERSION = 1
"""Raised when a case file written for an older version would no longer validate."""


def case_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a case file."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:poems-dx:case:v{SCHEMA_VERSION}",
        "title": "poems-dx case file",
        "description": (
            "One patient's findings. A finding left out is not assessed (never absent); "
            f"'{UNKNOWN}' says so explicitly. Documentation: docs/formats.md. Objects nest at "
            f"most {MAX_DEPTH} levels; the file is at most 256 KiB."
        ),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "description": "Your label for the case (not an MRN)."},
            "age": {
                "type": "number",
                "minimum": AGE_RANGE[0],
                "maximum": AGE_RANGE[1],
                "description": "Age in years.",
            },
            "sex": {"enum": list(SEXES)},
            "setting": {
                "type": "string",
                "pattern": SETTING_ID_PATTERN,
                "description": "Clinical setting id (the base rates); see 'poems priors'.",
            },
            "findings": {
                "type": "object",
                "additionalProperties": False,
                "properties": {f.id: _finding(f) for f in FINDINGS.values()},
            },
        },
    }


def _finding(f: Finding) -> dict[str, Any]:
    description = f.label + (f". {f.note}" if f.note else "")
    coded = codes_for(f.id)
    if coded:
        description += " Codes: " + "; ".join(
            f"{c.system_name} {c.code} ({c.display})" for c in coded
        )
    out: dict[str, Any] = {"description": description}
    if f.kind in (Kind.BINARY, Kind.AGGREGATE, Kind.CATEGORY):
        out["enum"] = [*f.states, UNKNOWN]
    elif f.kind is Kind.NUMBER:
        assert f.plausible is not None
        low, high = f.plausible
        out["oneOf"] = [
            {
                "type": "number",
                "minimum": low,
                "maximum": high,
                "description": f"A bare number is read in {f.unit}.",
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["value", "unit"],
                "properties": {
                    "value": {"type": "number"},
                    "unit": {"enum": list(units.accepted(f.id))},
                },
                "description": "A value with its UCUM unit; converted to " + str(f.unit) + ".",
            },
            {"const": UNKNOWN},
        ]
    else:  # the VEGF measurement
        out["oneOf"] = [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["value", "unit", "specimen"],
                "properties": {
                    "value": {"type": "number", "exclusiveMinimum": 0},
                    "unit": {"enum": list(VEGF_UNITS)},
                    "specimen": {"enum": list(VEGF_SPECIMENS)},
                    "uln": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "description": "The lab's upper limit of normal, in the same unit.",
                    },
                },
            },
            {"const": UNKNOWN},
        ]
    return out


def schema_text() -> str:
    """The schema as the published file holds it."""
    return json.dumps(case_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
