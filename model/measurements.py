"""Measured values turned into finding states, in one place, with the thresholds cited.

Numbers are checked for plausibility here: a value that looks like the wrong unit is
rejected with the conversion that would fix it, never silently rescaled.

References
----------
.. [WHO16] Arber DA, Orazi A, Hasserjian R, et al. The 2016 revision to the World Health
   Organization classification of myeloid neoplasms and acute leukemia. Blood
   2016;127(20):2391-2405. doi:10.1182/blood-2016-03-643544. Polycythemia vera major
   criterion: Hb > 16.5 g/dL (men) / > 16.0 g/dL (women) or Hct > 49 % / > 48 %;
   essential thrombocythemia: platelets >= 450 x 10^9/L.
.. [WHO11] World Health Organization. Haemoglobin concentrations for the diagnosis of
   anaemia and assessment of severity. WHO/NMH/NHD/MNM/11.1, 2011. Anemia: Hb < 13 g/dL
   (men), < 12 g/dL (non-pregnant women).
.. [NPK] Mayo Clinic plasma VEGF reference interval 31-86 pg/mL, as printed in a case
   chapter (https://neupsykey.com/poems-syndrome); secondary source.
.. [We98] Webb NJ, et al. VEGF is released from platelets during blood clotting. Clin Sci
   1998;94(4):395-404. Healthy adults: serum 249 vs plasma 76 pg/mL (ratio about 3.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from model.exceptions import CaseError
from model.inputs import finite_float
from model.vocabulary import ABSENT, PRESENT, VEGF_FIELDS, VEGF_SPECIMENS, VEGF_UNITS, suggest


@dataclass(frozen=True)
class Threshold:
    """A cut-off with its source, so no threshold is a bare literal in a function."""

    value: float
    unit: str
    source: str


THROMBOCYTOSIS_PLATELETS = Threshold(450.0, "10^9/L", "WHO 2016 [WHO16]: > 450")
POLYCYTHEMIA_HB = MappingProxyType(
    {
        "male": Threshold(16.5, "g/dL", "WHO 2016 PV criterion [WHO16]"),
        "female": Threshold(16.0, "g/dL", "WHO 2016 PV criterion [WHO16]"),
    }
)
POLYCYTHEMIA_HCT = MappingProxyType(
    {
        "male": Threshold(49.0, "%", "WHO 2016 PV criterion [WHO16]"),
        "female": Threshold(48.0, "%", "WHO 2016 PV criterion [WHO16]"),
    }
)
ANEMIA_HB = MappingProxyType(
    {
        "male": Threshold(13.0, "g/dL", "WHO 2011 anaemia definition [WHO11]"),
        "female": Threshold(12.0, "g/dL", "WHO 2011 anaemia definition [WHO11]"),
    }
)

DEFAULT_VEGF_ULN_PG_ML: Mapping[str, Threshold] = MappingProxyType(
    {
        "plasma": Threshold(86.0, "pg/mL", "Mayo plasma reference interval 31-86 pg/mL [NPK]"),
        "serum": Threshold(
            284.0,
            "pg/mL",
            "INFERRED: plasma ULN 86 pg/mL x healthy serum/plasma ratio 3.3 (249/76) [We98]",
        ),
    }
)
"""ULN used when the case gives none; the assessment says that a default was used."""

VEGF_PLAUSIBLE_PG_ML = (10.0, 30_000.0)
"""Below 10 pg/mL no human sample reads (healthy plasma 31-86). The upper bound is an
ASSUMPTION: about 3x the highest POEMS serum value we found reported (11,029 pg/mL, He 2019,
PUMCH cohort), so that an ng/mL/pg/mL slip that lands inside a wide range (80 "ng/mL" =
80,000 pg/mL = 930 x the plasma ULN) is refused with the likely unit instead of being read
as a major criterion. Outside: likely a unit mix-up."""

VEGF_ULN_PLAUSIBLE_PG_ML = (20.0, 5000.0)

VEGF_NOT_ELEVATED_AT_MOST_ULN_MULTIPLE = 1.0
"""A measured VEGF at or below this multiple of the ULN is not elevated: it contradicts a stated
``vegf_elevated: present`` (the case is refused, not silently reread)."""

VEGF_CLEARLY_ELEVATED_FROM_ULN_MULTIPLE = 4.0
"""A measured VEGF at or above this multiple of the ULN is elevated on every rule set's reading
(the 3-4 x ULN band is borderline): it contradicts a stated ``vegf_elevated: absent``."""


def _number(field: str, value: Any, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CaseError(field, value, f"a number in {unit}", "Write the number without quotes.")
    number = finite_float(value)
    if number is None:
        raise CaseError(field, value, f"a finite number in {unit}", "Leave it out if not measured.")
    return number


def check_number(field: str, value: Any, unit: str, plausible: tuple[float, float]) -> float:
    """Validate a numeric finding; name the likely unit mistake when out of range."""
    number = _number(field, value, unit)
    low, high = plausible
    if low <= number <= high:
        return number
    hint = _unit_hint(field, number)
    raise CaseError(field, value, f"between {low:g} and {high:g} {unit}", hint)


def _unit_hint(path: str, number: float) -> str:
    field = path.rsplit(".", 1)[-1]
    if number < 0:
        return "A negative value is impossible; check the sign."
    if field == "platelets" and number > 1e8:
        return (
            f"This looks like a count per litre: {number:g}/L = {number / 1e9:g} x 10^9/L. "
            f"Enter {number / 1e9:g}."
        )
    if field == "platelets" and number > 3000:
        return (
            f"This looks like a count per microlitre: {number:g}/uL = "
            f"{number / 1000:g} x 10^9/L. Enter {number / 1000:g}."
        )
    if field == "hemoglobin" and 25 < number <= 250:
        return f"This looks like g/L: {number:g} g/L = {number / 10:g} g/dL."
    if field == "hematocrit" and 0 < number <= 1:
        return (
            f"This looks like a fraction: {number:g} = {number * 100:g} %. Enter {number * 100:g}."
        )
    if field == "sclerotic_lesion_size_cm" and number > 20:
        return f"This looks like millimetres: {number:g} mm = {number / 10:g} cm."
    if field == "bone_marrow_plasma_cells_pct" and number > 100:
        return "A percentage cannot exceed 100."
    if field == "age" and number > 120:
        return "Age is in years."
    return ""


@dataclass(frozen=True)
class VegfMeasurement:
    """A VEGF result normalised to pg/mL, with the ULN actually used.

    Attributes
    ----------
    value_pg_ml : the result in pg/mL.
    specimen : ``serum`` or ``plasma`` (serum runs higher: platelets release VEGF on clotting).
    uln_pg_ml : the upper limit of normal in pg/mL.
    uln_is_default : True when the case gave no ULN and the documented default was used.
    """

    value_pg_ml: float
    specimen: str
    uln_pg_ml: float
    uln_is_default: bool

    @property
    def multiple_of_uln(self) -> float:
        """The result as a multiple of the ULN (the scale every rule set reads)."""
        return self.value_pg_ml / self.uln_pg_ml

    def describe(self) -> str:
        uln = "default ULN" if self.uln_is_default else "lab ULN"
        return (
            f"{self.specimen} VEGF {self.value_pg_ml:g} pg/mL = {self.multiple_of_uln:.1f} x ULN "
            f"({uln} {self.uln_pg_ml:g} pg/mL)"
        )


def parse_vegf(raw: Any, field: str = "vegf") -> VegfMeasurement:
    """Validate a VEGF object ``{"value", "unit", "specimen", "uln"?}`` and normalise it."""
    if not isinstance(raw, Mapping):
        raise CaseError(
            field,
            raw,
            'an object like {"value": 2400, "unit": "pg/mL", "specimen": "serum"}',
            "For a yes/no statement without a value use the finding 'vegf_elevated'.",
        )
    for key in raw:
        if key not in ("value", "unit", "specimen", "uln"):
            raise CaseError(
                f"{field}.{key}",
                raw[key],
                "one of value, unit, specimen, uln",
                suggest(str(key), VEGF_FIELDS),
            )
    if "value" not in raw:
        raise CaseError(f"{field}.value", None, "a number", "The VEGF object needs a 'value'.")
    unit = raw.get("unit", None)
    if unit not in VEGF_UNITS:
        hint = "Most labs report pg/mL." if unit is None else _unit_spelling_hint(unit)
        raise CaseError(f"{field}.unit", unit, "one of " + ", ".join(VEGF_UNITS), hint)
    specimen = raw.get("specimen", None)
    if specimen not in VEGF_SPECIMENS:
        hint = (
            "Serum VEGF runs about 3.3x plasma because platelets release VEGF on clotting, so "
            "the specimen changes the reading."
        )
        raise CaseError(f"{field}.specimen", specimen, "'serum' or 'plasma'", hint)
    factor = VEGF_UNITS[unit]
    value = _number(f"{field}.value", raw["value"], unit) * factor
    uln_raw = raw.get("uln", None)
    if uln_raw is None:
        uln = DEFAULT_VEGF_ULN_PG_ML[specimen].value
        uln_is_default = True
    else:
        uln = _number(f"{field}.uln", uln_raw, unit) * factor
        uln_is_default = False
        low, high = VEGF_ULN_PLAUSIBLE_PG_ML
        if not low <= uln <= high:
            raise CaseError(
                f"{field}.uln",
                uln_raw,
                f"between {low / factor:g} and {high / factor:g} {unit} (the ULN is in the "
                "same unit as the value)",
                "Check the unit: ULNs are tens to hundreds of pg/mL.",
            )
    low, high = VEGF_PLAUSIBLE_PG_ML
    if value <= 0 or not low <= value <= high:
        raise CaseError(
            f"{field}.value",
            raw["value"],
            f"between {low / factor:g} and {high / factor:g} {unit}",
            _vegf_unit_hint(float(raw["value"]), unit, uln, factor),
        )
    return VegfMeasurement(value, specimen, uln, uln_is_default)


def _unit_spelling_hint(unit: object) -> str:
    text = str(unit).replace(" ", "").lower()
    for known in VEGF_UNITS:
        if known.lower() == text:
            return f"Write it exactly as {known!r}."
    return "Convert to pg/mL (1 ng/mL = 1000 pg/mL)."


def _vegf_unit_hint(value: float, unit: str, uln_pg_ml: float, factor: float) -> str:
    if value <= 0:
        return "VEGF cannot be zero or negative; leave it out if not measured."
    if factor == 1.0 and value < VEGF_PLAUSIBLE_PG_ML[0]:
        return (
            f"{value:g} {unit} against a ULN of {uln_pg_ml:g} pg/mL looks like ng/mL: "
            f"{value:g} ng/mL = {value * 1000:g} pg/mL. Set unit to 'ng/mL'."
        )
    if factor > 1.0:
        return (
            f"{value:g} ng/mL would be {value * factor:g} pg/mL; if your lab reports pg/mL, set "
            "unit to 'pg/mL'."
        )
    return "Check the value and its unit."


def thrombocytosis_from_platelets(platelets: float) -> str:
    """``present`` when platelets > 450 x 10^9/L [WHO16]."""
    return PRESENT if platelets > THROMBOCYTOSIS_PLATELETS.value else ABSENT


def polycythemia_from_blood(
    hemoglobin: float | None, hematocrit: float | None, sex: str | None
) -> str | None:
    """Polycythemia by the WHO 2016 thresholds [WHO16]; ``None`` when sex decides it but is
    not given (a value between the women's and the men's threshold)."""
    verdicts: list[str | None] = []
    for value, table in ((hemoglobin, POLYCYTHEMIA_HB), (hematocrit, POLYCYTHEMIA_HCT)):
        if value is None:
            continue
        if sex is not None and sex in table:
            verdicts.append(PRESENT if value > table[sex].value else ABSENT)
        elif value > max(t.value for t in table.values()):
            verdicts.append(PRESENT)
        elif value <= min(t.value for t in table.values()):
            verdicts.append(ABSENT)
        else:
            verdicts.append(None)
    if PRESENT in verdicts:
        return PRESENT
    if verdicts and all(v == ABSENT for v in verdicts):
        return ABSENT
    return None


def anemia_from_hemoglobin(hemoglobin: float | None, sex: str | None) -> str | None:
    """Anemia by the WHO 2011 thresholds [WHO11]; ``None`` when undecidable without sex."""
    if hemoglobin is None:
        return None
    if sex is not None and sex in ANEMIA_HB:
        return PRESENT if hemoglobin < ANEMIA_HB[sex].value else ABSENT
    if hemoglobin < min(t.value for t in ANEMIA_HB.values()):
        return PRESENT
    if hemoglobin >= max(t.value for t in ANEMIA_HB.values()):
        return ABSENT
    return None
