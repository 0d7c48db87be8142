"""Teaching cases drawn from published reports, stored as data (``cases/*.toml``).

Each file holds one patient: a citation (authors, journal, year, DOI or PMCID, URL), a short
summary in our own words, the final published diagnosis (a ``diagnosis`` state of the
network), and ordered *steps*. A step adds (or, for a repeated test, replaces) findings in
the order a work-up produced them, with a one-line teaching note. Findings use the ids of
:mod:`model.vocabulary`; every cumulative step is validated as a :class:`~model.case.Case`
when the file is loaded, so a typo in a finding id fails loudly with a suggestion.

Only findings reported in the source are entered; anything the report does not state is left
not assessed (never absent). Where the source left a detail out (a VEGF specimen, a light
chain) the file's ``note`` says what was done.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from model.case import Case
from model.exceptions import CaseError, InputError
from model.network.structure import DIAGNOSIS_STATES
from model.vocabulary import UNKNOWN, suggest

CASES_DIRECTORY = Path(__file__).with_name("cases")

DIAGNOSES: tuple[str, ...] = DIAGNOSIS_STATES
"""States of the network's ``diagnosis`` node (docs/network-contract.md)."""

_TOP_KEYS = ("id", "title", "diagnosis", "age", "sex", "setting", "summary", "citation", "steps")
_CITATION_KEYS = (
    "authors",
    "title",
    "journal",
    "year",
    "volume",
    "doi",
    "pmcid",
    "url",
    "url_note",
    "note",
    "title_is_descriptive",
)
_STEP_KEYS = ("label", "note", "findings")


@dataclass(frozen=True)
class CaseCitation:
    """Where a teaching case comes from."""

    authors: str
    title: str
    journal: str
    year: int
    url: str
    volume: str = ""
    doi: str = ""
    pmcid: str = ""
    note: str = ""
    title_is_descriptive: bool = False
    """True when the original title was not retrieved and ``title`` describes the report."""

    def describe(self) -> str:
        """One line: authors. Title. Journal Year;volume. DOI/PMCID."""
        title = f"[{self.title}]" if self.title_is_descriptive else self.title
        parts = [f"{self.authors.rstrip('.')}. {title}. {self.journal} {self.year}"]
        if self.volume:
            parts[0] += f";{self.volume}"
        ids = [f"doi:{self.doi}" if self.doi else "", self.pmcid]
        tail = " ".join(i for i in ids if i) or self.url
        return f"{parts[0]}. {tail}"


@dataclass(frozen=True)
class StepDef:
    """One step of a work-up: the findings it adds and a one-line teaching note."""

    label: str
    note: str
    findings: Mapping[str, Any]


@dataclass(frozen=True)
class TeachingCase:
    """A published case as a sequence of work-up steps."""

    id: str
    title: str
    diagnosis: str
    summary: str
    citation: CaseCitation
    steps: tuple[StepDef, ...]
    age: float | None = None
    sex: str | None = None
    setting: str | None = None
    path: Path | None = field(default=None, compare=False)

    def case_at(self, step: int) -> Case:
        """The case after ``step`` (0-based) steps have been applied, cumulatively."""
        if not 0 <= step < len(self.steps):
            raise InputError(
                "step", step, f"an index from 0 to {len(self.steps) - 1}", where=self.id
            )
        findings: dict[str, Any] = {}
        for s in self.steps[: step + 1]:
            for key, value in s.findings.items():
                if value == UNKNOWN:
                    findings.pop(key, None)
                else:
                    findings[key] = value
        data: dict[str, Any] = {"id": self.id, "findings": findings}
        for key in ("age", "sex", "setting"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return Case.from_dict(data, where=f"{self.id} step {step + 1}")

    def final_case(self) -> Case:
        return self.case_at(len(self.steps) - 1)


def _require(where: str, data: Mapping[str, Any], key: str, kind: type, example: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise InputError(key, value, f"a non-empty {kind.__name__}", f"e.g. {example}", where=where)
    return value


def _check_keys(where: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            raise InputError(
                "key", key, "one of " + ", ".join(allowed), suggest(str(key), allowed), where=where
            )


def parse_case(data: Mapping[str, Any], where: str = "teaching case") -> TeachingCase:
    """Validate a parsed teaching-case table (see the module docstring for the shape)."""
    _check_keys(where, data, _TOP_KEYS)
    case_id = _require(where, data, "id", str, '"poems_cidp_label"')
    diagnosis = _require(where, data, "diagnosis", str, '"poems"')
    if diagnosis not in DIAGNOSES:
        raise InputError(
            "diagnosis",
            diagnosis,
            "one of " + ", ".join(DIAGNOSES),
            suggest(diagnosis, DIAGNOSES),
            where=where,
        )
    cit = _require(where, data, "citation", dict, '[citation] authors = "..."')
    _check_keys(f"{where}: citation", cit, _CITATION_KEYS)
    if not (cit.get("doi") or cit.get("pmcid") or cit.get("url")):
        raise InputError(
            "citation", "no doi, pmcid or url", "at least one of doi, pmcid, url", where=where
        )
    citation = CaseCitation(
        authors=_require(f"{where}: citation", cit, "authors", str, '"Lin L, Li J, Chen M"'),
        title=_require(f"{where}: citation", cit, "title", str, '"..."'),
        journal=_require(f"{where}: citation", cit, "journal", str, '"BMJ Case Reports"'),
        year=_require(f"{where}: citation", cit, "year", int, "2019"),
        url=str(cit.get("url", "")),
        volume=str(cit.get("volume", "")),
        doi=str(cit.get("doi", "")),
        pmcid=str(cit.get("pmcid", "")),
        note=" ".join(str(cit.get(k, "")) for k in ("note", "url_note")).strip(),
        title_is_descriptive=cit.get("title_is_descriptive") is True,
    )
    raw_steps = _require(where, data, "steps", list, "[[steps]] label = ...")
    steps: list[StepDef] = []
    for i, raw in enumerate(raw_steps, start=1):
        here = f"{where}: steps[{i}]"
        if not isinstance(raw, dict):
            raise InputError("step", raw, "a table with label, note, findings", where=here)
        _check_keys(here, raw, _STEP_KEYS)
        steps.append(
            StepDef(
                label=_require(here, raw, "label", str, '"Neurology clinic"'),
                note=_require(here, raw, "note", str, '"one teaching line"'),
                findings=MappingProxyType(dict(_require(here, raw, "findings", dict, "{...}"))),
            )
        )
    age = data.get("age")
    case = TeachingCase(
        id=case_id,
        title=_require(where, data, "title", str, '"..."'),
        diagnosis=diagnosis,
        summary=" ".join(_require(where, data, "summary", str, '"..."').split()),
        citation=citation,
        steps=tuple(steps),
        age=float(age) if isinstance(age, int | float) else None,
        sex=data.get("sex"),
        setting=data.get("setting"),
    )
    for i in range(len(steps)):  # validates every cumulative case, naming the step
        try:
            case.case_at(i)
        except CaseError as err:
            raise err.located(where) from None
    return case


def load_case(path: str | Path) -> TeachingCase:
    """Read and validate one teaching-case TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise InputError("teaching case file", str(path), "a readable TOML file") from err
    except tomllib.TOMLDecodeError as err:
        raise InputError(
            "teaching case file", path.name, "valid TOML", f"TOML parser: {err}.", where=str(path)
        ) from None
    case = parse_case(data, where=str(path.name))
    if case.id != path.stem:
        raise InputError(
            "id", case.id, f"the file name without .toml ({path.stem!r})", where=str(path)
        )
    return TeachingCase(**{**case.__dict__, "path": path})


@cache
def _library(directory: str) -> Mapping[str, TeachingCase]:
    cases = [load_case(p) for p in sorted(Path(directory).glob("*.toml"))]
    return MappingProxyType({c.id: c for c in cases})


def load_library(directory: str | Path | None = None) -> Mapping[str, TeachingCase]:
    """Every teaching case in ``directory`` (default: the bundled library), by id."""
    return _library(str(Path(directory) if directory else CASES_DIRECTORY))


def get_case(case_id: str, directory: str | Path | None = None) -> TeachingCase:
    """One teaching case by id, with a suggestion for a mistyped id."""
    library = load_library(directory)
    try:
        return library[case_id]
    except KeyError:
        raise InputError(
            "teaching case", case_id, "one of " + ", ".join(library), suggest(case_id, library)
        ) from None
