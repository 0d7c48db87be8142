"""Units of the laboratory values: every accepted unit, converted by a units library (pint).

A numeric finding is stored in the unit the vocabulary names (platelets in 10^9/L, hemoglobin
in g/dL, hematocrit in %, marrow plasma cells in %, lesion size in cm). A case file or a FHIR
Observation may give another unit; it is converted here, by dimensional analysis, never by a
factor typed into a function. Units are written as UCUM codes (what FHIR uses:
``http://unitsofmeasure.org``), with the common spellings labs print accepted as aliases.

One conversion is not dimensional: hemoglobin reported in mmol/L (the Netherlands and
Scandinavia) counts moles of the haem-carrying monomer, so it is converted with that monomer's
molar mass [ICSH]. 8.1 mmol/L is 13.05 g/dL, not 8.1 g/dL.

References
----------
.. [ICSH] International Committee for Standardization in Haematology, recommendations for
   reference method for haemoglobinometry in human blood (ICSH standard 1995): molar mass of
   the haemoglobin monomer 16,114.5 g/mol (so 1 mmol/L = 1.61145 g/dL).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from model.exceptions import CaseError

HEMOGLOBIN_MONOMER_G_PER_MOL = 16_114.5
"""Molar mass of the haemoglobin monomer used by the mmol/L convention [ICSH]."""


@dataclass(frozen=True)
class UnitSpec:
    """How one accepted unit maps onto pint: ``scale`` x ``pint_unit`` (``per_mol``: a molar
    unit converted to mass with the molar mass of the analyte)."""

    ucum: str
    pint_unit: str
    scale: float = 1.0
    per_mol: float | None = None


_SPECS: Mapping[str, tuple[UnitSpec, ...]] = MappingProxyType(
    {
        "platelets": (
            UnitSpec("10*9/L", "1/L", 1e9),
            UnitSpec("10*3/uL", "1/uL", 1e3),
            UnitSpec("/uL", "1/uL"),
            UnitSpec("/L", "1/L"),
        ),
        "hemoglobin": (
            UnitSpec("g/dL", "g/dL"),
            UnitSpec("g/L", "g/L"),
            UnitSpec("mg/dL", "mg/dL"),
            UnitSpec("mmol/L", "mmol/L", per_mol=HEMOGLOBIN_MONOMER_G_PER_MOL),
        ),
        "hematocrit": (UnitSpec("%", "percent"), UnitSpec("L/L", "L/L"), UnitSpec("1", "")),
        "bone_marrow_plasma_cells_pct": (UnitSpec("%", "percent"), UnitSpec("1", "")),
        "sclerotic_lesion_size_cm": (
            UnitSpec("cm", "cm"),
            UnitSpec("mm", "mm"),
        ),
    }
)

CANONICAL_UCUM: Mapping[str, str] = MappingProxyType(
    {
        "platelets": "10*9/L",
        "hemoglobin": "g/dL",
        "hematocrit": "%",
        "bone_marrow_plasma_cells_pct": "%",
        "sclerotic_lesion_size_cm": "cm",
    }
)
"""The unit each numeric value is stored in (the vocabulary's unit, as a UCUM code)."""

ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "10^9/L": "10*9/L",
        "x10^9/L": "10*9/L",
        "G/L": "10*9/L",
        "10^3/uL": "10*3/uL",
        "10^3/µL": "10*3/uL",
        "K/uL": "10*3/uL",
        "/µL": "/uL",
        "g/dl": "g/dL",
        "g/l": "g/L",
        "mmol/l": "mmol/L",
        "fraction": "1",
    }
)
"""Spellings labs print, mapped to the UCUM code."""


def accepted(finding_id: str) -> tuple[str, ...]:
    """The UCUM codes accepted for a numeric finding (the canonical one first)."""
    return tuple(spec.ucum for spec in _SPECS.get(finding_id, ()))


def ucum(unit: str) -> str:
    """The UCUM code for a unit as written (aliases resolved; unknown text unchanged)."""
    text = unit.strip()
    return ALIASES.get(text, text)


@cache
def _registry() -> Any:
    import pint  # deliberate lazy import: pint takes ~1 s to build its registry, and a value
    # in the stored unit (every cohort cell, most case files) never needs it

    return pint.UnitRegistry()


def convert(finding_id: str, value: float, unit: str, *, field: str = "") -> float:
    """``value`` in ``unit`` expressed in the finding's stored unit (:data:`CANONICAL_UCUM`).

    Raises :class:`CaseError` naming the accepted units when the unit is not one of them.
    """
    code = ucum(unit) if isinstance(unit, str) else unit
    specs = {spec.ucum: spec for spec in _SPECS.get(finding_id, ())}
    if code not in specs:
        allowed = ", ".join(repr(u) for u in specs) or "no unit"
        raise CaseError(
            f"{field or finding_id}.unit",
            unit,
            f"one of {allowed}",
            "Convert the value, or write the unit as its UCUM code (as FHIR does).",
        )
    source, target = specs[code], specs[CANONICAL_UCUM[finding_id]]
    if source is target:
        return float(value)
    registry = _registry()
    quantity: Any = registry.Quantity(value * source.scale, source.pint_unit or "dimensionless")
    if source.per_mol is not None:
        quantity = quantity * registry.Quantity(source.per_mol, "g/mol")
    converted = quantity.to(target.pint_unit or "dimensionless").magnitude / target.scale
    return float(f"{converted:.12g}")  # 14 mm is 1.4 cm, not 1.4000000000000001


def likely_units(finding_id: str, value: float, plausible: tuple[float, float]) -> list[str]:
    """The accepted units (canonical first) in which ``value`` would be a plausible reading.

    Used for the hint when a value is given with a unit that makes it implausible (hemoglobin
    8.4 "g/L" is 0.84 g/dL; as g/dL or mmol/L it is a real result): the message names the unit
    the number was most likely measured in, never a silent reinterpretation.
    """
    low, high = plausible
    out = []
    for code in accepted(finding_id):
        try:
            reading = convert(finding_id, value, code)
        except (CaseError, ArithmeticError):
            continue
        if low <= reading <= high and (low > 0 or reading > 0):
            out.append(code)
    return out
