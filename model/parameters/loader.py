"""Read and validate the priors folder (``references.toml``, ``settings.toml``,
``latent.toml``, ``findings.toml``) into the records of :mod:`model.parameters.schema`;
:func:`model.parameters.priors.load_priors` assembles them into a ``Priors``.

Every problem raises :class:`~model.exceptions.PriorsError` naming the file, the key path, the
value found, what is allowed and, when it can be guessed, the fix. The structure (nodes,
states, parents) is fixed by :mod:`model.network.structure`; the files only hold numbers, so
a file cannot add a parent and cannot create a cycle (an unknown field such as ``parents`` is
rejected like any other unknown field).

The default folder is the one named by the environment variable ``POEMS_PRIORS_DIR``, else
``priors/`` of the repository checkout (next to the ``model`` package), else the copy an
installed wheel carries as ``model/_priors`` (``pyproject.toml`` force-includes it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from model.constants import SETTING_ID_PATTERN
from model.exceptions import PriorsError
from model.inputs import decode_utf8, finite_float, parse_toml, read_bounded
from model.network.structure import (
    CYTOKINE,
    CYTOKINE_CAUSE_STATES,
    DETERMINISTIC_AGGREGATES,
    DIAGNOSIS,
    DIAGNOSIS_STATES,
    LATENT_NODES,
    NODES,
    PARAMETERISED_FINDING_NODES,
)
from model.parameters.schema import (
    KINDS,
    SUM_TOLERANCE,
    Categorical,
    NodePriors,
    Parameter,
    Published,
    Reference,
    Setting,
    frozen_map,
)
from model.vocabulary import FINDINGS, PRESENT, suggest

FILES: tuple[str, ...] = ("references.toml", "settings.toml", "latent.toml", "findings.toml")
MAX_FILE_BYTES = 2 * 1024 * 1024
"""A priors file is tens of kilobytes; anything above this is not a priors file."""

N_RANGE: tuple[float, float] = (1.0, 1e9)
"""An effective sample size counts patients: fewer than one makes the draws meaningless
(a 90 % interval of [0 %, 100 %]); more than a billion is no cohort (the largest in
``priors/`` is a population base rate of 10^6)."""

PARAMETER_FIELDS: tuple[str, ...] = ("p", "n", "low", "high", "kind", "source", "cohort", "note")
CATEGORICAL_FIELDS: tuple[str, ...] = ("probs", "n", "kind", "source", "cohort", "note")
SETTING_FIELDS: tuple[str, ...] = ("label", *CATEGORICAL_FIELDS)
PUBLISHED_FIELDS: tuple[str, ...] = (
    "p",
    "low",
    "high",
    "source",
    "state",
    "n",
    "kind",
    "cohort",
    "note",
)
_SETTING_ID = re.compile(SETTING_ID_PATTERN)
_PARAM_EXAMPLE = '{p = 0.3, kind = "literature", source = "D03", low = 0.2, high = 0.4}'
_MODELS_BY_ROLE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "noisy_or": ("noisy_or",),
        "direct": ("by_diagnosis",),
        "binary": ("by_parent", "categorical"),
        "categorical": ("categorical",),
        "latent": ("categorical",),
        "aggregate": ("aggregate",),
    }
)


# --------------------------------------------------------------------------- files
def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file: missing, too large, not UTF-8 and syntax errors are named."""
    where = str(path)
    if not path.is_file():
        raise PriorsError(
            "file", path.name, "present in the priors folder", f"Create {path.name}.", where=where
        )
    raw = read_bounded(
        path,
        MAX_FILE_BYTES,
        what="file",
        hint="This is not a priors file; check the path.",
        error=PriorsError,
    )
    text = decode_utf8(raw, what="file", where=where, error=PriorsError)
    data = parse_toml(text, where=where, error=PriorsError)
    if len(data) == 1:
        stem = path.stem
        only = next(iter(data))
        if only == stem and isinstance(data[only], dict):
            return dict(data[only])  # tolerate one wrapping [findings] / [settings] table
    return data


# --------------------------------------------------------------------------- values
def _err(where: str, key: str, value: Any, allowed: str, hint: str = "") -> PriorsError:
    return PriorsError(key, value, allowed, hint, where=where)


def _table(where: str, key: str, value: Any, example: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _err(where, key, value, f"a table such as {example}")
    return value


def _check_fields(where: str, key: str, table: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    for name in table:
        if name not in allowed:
            hint = suggest(name, allowed)
            if name == "parents":
                hint = (
                    "The network structure is fixed (docs/network-contract.md); "
                    "files hold numbers only."
                )
            raise _err(where, f"{key}.{name}", table[name], "one of " + ", ".join(allowed), hint)


def _number(where: str, key: str, value: Any, allowed: str) -> float:
    if isinstance(value, str):
        hint = "Remove the quotes: write the number itself."
        try:
            float(value.strip().rstrip("%"))
        except ValueError:
            hint = "Write a number."
        raise _err(where, key, value, allowed, hint)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _err(where, key, value, allowed, "Write a number.")
    number = finite_float(value)
    if number is None:
        raise _err(where, key, value, allowed, "NaN and inf are not probabilities or counts.")
    return number


def probability(where: str, key: str, value: Any) -> float:
    """A probability in [0, 1]; a percentage written as a number gets a hint."""
    number = _number(where, key, value, "a number in [0, 1]")
    if not 0.0 <= number <= 1.0:
        hint = f"This looks like a percentage: write {number / 100:g}." if 1 < number <= 100 else ""
        raise _err(where, key, value, "a number in [0, 1]", hint)
    return number


def _text(where: str, key: str, value: Any, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise _err(where, key, value, "a non-empty string" if required else "a string")
    return value


def _provenance(
    where: str, key: str, table: Mapping[str, Any], references: Mapping[str, Reference]
) -> tuple[str, str]:
    if "kind" not in table:
        raise _err(
            where,
            f"{key}.kind",
            None,
            "one of " + ", ".join(KINDS),
            'Every number needs its provenance: add kind = "literature" (or inferred/assumption).',
        )
    kind = table["kind"]
    if kind not in KINDS:
        raise _err(
            where, f"{key}.kind", kind, "one of " + ", ".join(KINDS), suggest(str(kind), KINDS)
        )
    if "source" not in table:
        raise _err(
            where,
            f"{key}.source",
            None,
            "a key of references.toml",
            'Every number needs its provenance: add source = "<reference key>".',
        )
    source = table["source"]
    if not isinstance(source, str) or source not in references:
        hint = suggest(str(source), references) or "Add the reference to references.toml."
        raise _err(where, f"{key}.source", source, "a key of references.toml", hint)
    return str(kind), source


def _count(where: str, key: str, value: Any) -> float | None:
    if value is None:
        return None
    low, high = N_RANGE
    allowed = f"a positive number (effective sample size, {low:g} to {high:g} patients)"
    number = _number(where, key, value, allowed)
    if not low <= number <= high:
        raise _err(
            where,
            key,
            value,
            allowed,
            "Leave n out when no cohort size is known; the range then carries the uncertainty.",
        )
    return number


def parse_parameter(
    where: str, key: str, raw: Any, references: Mapping[str, Reference]
) -> Parameter:
    """One probability with provenance: ``{p, kind, source, low?, high?, n?, cohort?, note?}``."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raise _err(
            where,
            key,
            raw,
            f"a table such as {_PARAM_EXAMPLE}",
            "A bare number has no provenance: give p with kind and source.",
        )
    table = _table(where, key, raw, _PARAM_EXAMPLE)
    _check_fields(where, key, table, PARAMETER_FIELDS)
    if "p" not in table:
        raise _err(where, f"{key}.p", None, "a number in [0, 1]", "Add p = <probability>.")
    p = probability(where, f"{key}.p", table["p"])
    kind, source = _provenance(where, key, table, references)
    low = probability(where, f"{key}.low", table["low"]) if "low" in table else None
    high = probability(where, f"{key}.high", table["high"]) if "high" in table else None
    if (low is None) != (high is None):
        missing = "high" if high is None else "low"
        raise _err(
            where,
            f"{key}.{missing}",
            None,
            "given together with its partner",
            "Give both low and high, or neither.",
        )
    if kind == "assumption" and low is None:
        raise _err(
            where,
            f"{key}.low",
            None,
            "a range [low, high] for an assumption",
            "An assumption must say how unsure it is: add a wide low and high.",
        )
    if low is not None and high is not None:
        _check_range(where, key, p, low, high)
    n = _count(where, f"{key}.n", table.get("n"))
    cohort = _text(where, f"{key}.cohort", table.get("cohort"))
    note = _text(where, f"{key}.note", table.get("note"))
    return Parameter(key, p, kind, source, low, high, n, cohort, note)


def parse_categorical(
    where: str,
    key: str,
    raw: Any,
    states: tuple[str, ...],
    references: Mapping[str, Reference],
    fields: tuple[str, ...] = CATEGORICAL_FIELDS,
) -> Categorical:
    """One distribution ``{probs = {state = p, ...}, kind, source, n?, cohort?, note?}``."""
    example = (
        "{probs = {" + ", ".join(f"{s} = ..." for s in states) + "}, kind = ..., source = ...}"
    )
    table = _table(where, key, raw, example)
    _check_fields(where, key, table, fields)
    if "probs" not in table:
        raise _err(
            where,
            f"{key}.probs",
            None,
            "a table of state -> probability",
            "States: " + ", ".join(states) + ".",
        )
    probs_raw = _table(where, f"{key}.probs", table["probs"], example)
    for state in probs_raw:
        if state not in states:
            raise _err(
                where,
                f"{key}.probs.{state}",
                probs_raw[state],
                "a state among " + ", ".join(states),
                suggest(state, states),
            )
    probs: dict[str, float] = {}
    for state in states:
        if state not in probs_raw:
            raise _err(
                where,
                f"{key}.probs.{state}",
                None,
                "present (every state needs a probability)",
                f"Add {state} = <probability> (0 is allowed).",
            )
        probs[state] = probability(where, f"{key}.probs.{state}", probs_raw[state])
    total = math.fsum(probs.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise _err(
            where,
            f"{key}.probs",
            f"sum {total!r}",
            f"probabilities summing to 1 (within {SUM_TOLERANCE:g})",
            "Rescale the numbers so they add up to exactly 1.",
        )
    kind, source = _provenance(where, key, table, references)
    n = _count(where, f"{key}.n", table.get("n"))
    cohort = _text(where, f"{key}.cohort", table.get("cohort"))
    note = _text(where, f"{key}.note", table.get("note"))
    return Categorical(key, frozen_map(probs), kind, source, n, cohort, note)


def parse_published(
    where: str,
    key: str,
    raw: Any,
    node: str,
    diagnosis: str,
    references: Mapping[str, Reference],
) -> Published:
    """A published frequency ``{p, low, high, source, state?, n?, cohort?, note?}``."""
    table = _table(where, key, raw, '{p = 0.5, low = 0.3, high = 0.7, source = "D12-T1"}')
    _check_fields(where, key, table, PUBLISHED_FIELDS)
    for name in ("p", "low", "high"):
        if name not in table:
            raise _err(
                where,
                f"{key}.{name}",
                None,
                "a number in [0, 1]",
                "A published frequency needs p, low and high (low = high = p if no range).",
            )
    p = probability(where, f"{key}.p", table["p"])
    low = probability(where, f"{key}.low", table["low"])
    high = probability(where, f"{key}.high", table["high"])
    _check_range(where, key, p, low, high)
    source = table.get("source")
    if not isinstance(source, str) or source not in references:
        hint = suggest(str(source), references) or "Add the reference to references.toml."
        raise _err(where, f"{key}.source", source, "a key of references.toml", hint)
    if "kind" in table and table["kind"] not in KINDS:
        raise _err(
            where,
            f"{key}.kind",
            table["kind"],
            "one of " + ", ".join(KINDS),
            suggest(str(table["kind"]), KINDS),
        )
    states = NODES[node].states
    state = table.get("state", PRESENT)
    if state not in states:
        raise _err(
            where, f"{key}.state", state, "one of " + ", ".join(states), suggest(str(state), states)
        )
    n = _count(where, f"{key}.n", table.get("n"))
    return Published(
        key,
        node,
        diagnosis,
        p,
        low,
        high,
        source,
        str(state),
        n,
        _text(where, f"{key}.cohort", table.get("cohort")),
        _text(where, f"{key}.note", table.get("note")),
    )


# --------------------------------------------------------------------------- files
def parse_references(data: Mapping[str, Any], where: str) -> Mapping[str, Reference]:
    """``[KEY]`` tables with a ``citation`` and string fields such as ``doi``, ``url``."""
    refs: dict[str, Reference] = {}
    for key, raw in data.items():
        table = _table(where, key, raw, '{citation = "...", doi = "10..."}')
        if "citation" not in table:
            raise _err(
                where,
                f"{key}.citation",
                None,
                "a non-empty string",
                "Every reference needs a citation (authors, title, journal, year).",
            )
        fields: dict[str, str] = {}
        for name, value in table.items():
            if not isinstance(value, str):
                raise _err(where, f"{key}.{name}", value, "a string", "Put the value in quotes.")
            fields[name] = value
        _text(where, f"{key}.citation", table["citation"], required=True)
        refs[key] = Reference(key, frozen_map(fields))
    if not refs:
        raise _err(where, "references", "nothing", "at least one reference")
    return frozen_map(refs)


def parse_setting(
    setting_id: str, raw: Any, references: Mapping[str, Reference], where: str
) -> Setting:
    """One setting: ``{label, probs = {diagnosis state = p}, kind, source, n?, cohort?, note?}``."""
    if not isinstance(setting_id, str) or not _SETTING_ID.match(setting_id):
        raise _err(
            where,
            "setting id",
            setting_id,
            "lower-case words joined by '_'",
            "For example neuropathy_clinic.",
        )
    table = _table(where, setting_id, raw, '{label = "...", probs = {poems = ...}}')
    _check_fields(where, setting_id, table, SETTING_FIELDS)
    label = _text(where, f"{setting_id}.label", table.get("label", setting_id), required=True)
    rest = {k: v for k, v in table.items() if k != "label"}
    dist = parse_categorical(where, f"settings.{setting_id}", rest, DIAGNOSIS_STATES, references)
    return Setting(setting_id, str(label), dist, dist.note)


def parse_settings(
    data: Mapping[str, Any], references: Mapping[str, Reference], where: str
) -> Mapping[str, Setting]:
    settings = {sid: parse_setting(sid, raw, references, where) for sid, raw in data.items()}
    if not settings:
        raise _err(where, "settings", "nothing", "at least one setting")
    return frozen_map(settings)


def _unknown_node(where: str, name: str, allowed: Iterable[str]) -> PriorsError:
    allowed = tuple(allowed)
    hint = suggest(name, allowed)
    if name in FINDINGS and name not in NODES:
        hint = {
            "vegf": "A measured VEGF is read through vegf_serum / vegf_plasma.",
            "bone_marrow_plasma_cells_pct": "Use the node bone_marrow_plasma_cells.",
            "sclerotic_lesion_size_cm": "Lesion size is used by the criteria only.",
        }.get(name, "This finding is derived from a number and has no table of its own.")
    elif name in LATENT_NODES:
        hint = f"{name} belongs in latent.toml."
    return _err(where, "node", name, "a node of docs/network-contract.md", hint)


def parse_latent(
    data: Mapping[str, Any], references: Mapping[str, Reference], where: str
) -> Mapping[str, NodePriors]:
    """``[plasma_cell_clone.given.<diagnosis>]`` / ``[cytokine_vegf.given.<diagnosis>]`` rows."""
    for name in data:
        if name not in LATENT_NODES:
            raise _unknown_node(where, name, LATENT_NODES)
    out: dict[str, NodePriors] = {}
    for name in LATENT_NODES:
        if name not in data:
            raise _err(
                where,
                name,
                None,
                "a section for every latent node",
                f"Add [{name}.given.<diagnosis>] tables.",
            )
        out[name] = _parse_node(where, name, data[name], references, default_model="categorical")
    return frozen_map(out)


def parse_findings(
    data: Mapping[str, Any], references: Mapping[str, Reference], where: str
) -> Mapping[str, NodePriors]:
    allowed = (*PARAMETERISED_FINDING_NODES, *DETERMINISTIC_AGGREGATES)
    for name in data:
        if name not in allowed:
            raise _unknown_node(where, name, allowed)
    out: dict[str, NodePriors] = {}
    for name in PARAMETERISED_FINDING_NODES:
        if name not in data:
            role = NODES[name].role
            raise _err(
                where,
                name,
                None,
                "a section for every finding node",
                f'Add [{name}] with model = "{_MODELS_BY_ROLE[role][0]}".',
            )
        out[name] = _parse_node(where, name, data[name], references)
    for name in DETERMINISTIC_AGGREGATES:
        if name in data:
            out[name] = _parse_node(where, name, data[name], references, default_model="aggregate")
    return frozen_map(out)


def _parse_node(
    where: str,
    name: str,
    raw: Any,
    references: Mapping[str, Reference],
    default_model: str | None = None,
) -> NodePriors:
    spec = NODES[name]
    table = _table(where, name, raw, "a [section] with model = ...")
    role = spec.role
    allowed_models = _MODELS_BY_ROLE[role]
    model = table.get("model", default_model)
    if model is None:
        raise _err(
            where,
            f"{name}.model",
            None,
            "one of " + ", ".join(allowed_models),
            f'Add model = "{allowed_models[0]}".',
        )
    if model not in allowed_models:
        hint = suggest(str(model), allowed_models)
        if not hint:
            hint = f"{name} is a {role} node (parents: {', '.join(spec.parents) or 'none'})."
        raise _err(where, f"{name}.model", model, "one of " + ", ".join(allowed_models), hint)
    note = _text(where, f"{name}.note", table.get("note"))
    published = _parse_published_block(where, name, table, references)
    if model == "aggregate":
        _check_fields(where, name, table, ("model", "published", "note"))
        return NodePriors(name, "aggregate", published=published, note=note)
    if model == "noisy_or":
        _check_fields(where, name, table, ("model", "leak", "cause", "published", "note"))
        return _parse_noisy_or(where, name, table, references, published, note)
    _check_fields(where, name, table, ("model", "given", "published", "note"))
    parent = spec.parents[0]
    parent_states = NODES[parent].states
    key = f"{Path(where).stem}.{name}.given"
    given_raw = _table(where, f"{name}.given", table.get("given"), "[<node>.given.<parent state>]")
    for state in given_raw:
        if state not in parent_states:
            raise _err(
                where,
                f"{name}.given.{state}",
                given_raw[state],
                f"a state of {parent}: " + ", ".join(parent_states),
                suggest(state, parent_states),
            )
    given: dict[str, Parameter | Categorical] = {}
    for state in parent_states:
        if state not in given_raw:
            raise _err(
                where,
                f"{name}.given.{state}",
                None,
                f"a row for every state of {parent}",
                f"Add [{name}.given.{state}] (missing row).",
            )
        row_key = f"{key}.{state}"
        if model == "categorical":
            given[state] = parse_categorical(
                where, row_key, given_raw[state], spec.states, references
            )
        else:
            given[state] = parse_parameter(where, row_key, given_raw[state], references)
    return NodePriors(name, str(model), given=frozen_map(given), published=published, note=note)


def _parse_noisy_or(
    where: str,
    name: str,
    table: Mapping[str, Any],
    references: Mapping[str, Reference],
    published: Mapping[str, Published],
    note: str | None,
) -> NodePriors:
    stem = Path(where).stem
    if "leak" not in table:
        raise _err(
            where,
            f"{name}.leak",
            None,
            f"a table such as {_PARAM_EXAMPLE}",
            "The leak is P(finding) when no modelled cause is active (background rate).",
        )
    leak = parse_parameter(where, f"{stem}.{name}.leak", table["leak"], references)
    cause = _table(where, f"{name}.cause", table.get("cause", {}), "[<node>.cause.cytokine_vegf]")
    _check_fields(where, f"{name}.cause", cause, (CYTOKINE, DIAGNOSIS))
    cyt_raw = _table(
        where,
        f"{name}.cause.{CYTOKINE}",
        cause.get(CYTOKINE),
        "{raised = {...}, markedly_raised = {...}}",
    )
    for state in cyt_raw:
        if state not in CYTOKINE_CAUSE_STATES:
            hint = suggest(state, CYTOKINE_CAUSE_STATES)
            if state == "normal":
                hint = "normal is the off state of the noisy-OR; its effect is the leak."
            raise _err(
                where,
                f"{name}.cause.{CYTOKINE}.{state}",
                cyt_raw[state],
                "one of " + ", ".join(CYTOKINE_CAUSE_STATES),
                hint,
            )
    cyt: dict[str, Parameter] = {}
    for state in CYTOKINE_CAUSE_STATES:
        if state not in cyt_raw:
            raise _err(
                where,
                f"{name}.cause.{CYTOKINE}.{state}",
                None,
                "a cause probability for each raised cytokine state",
                f"Add {state} = {_PARAM_EXAMPLE}.",
            )
        cyt[state] = parse_parameter(
            where, f"{stem}.{name}.cause.{CYTOKINE}.{state}", cyt_raw[state], references
        )
    dx_raw = _table(
        where, f"{name}.cause.{DIAGNOSIS}", cause.get(DIAGNOSIS, {}), "{al_amyloidosis = {...}}"
    )
    dx: dict[str, Parameter] = {}
    _check_diagnosis_keys(where, f"{name}.cause.{DIAGNOSIS}", dx_raw)
    for state in DIAGNOSIS_STATES:  # keep the canonical order
        if state in dx_raw:
            dx[state] = parse_parameter(
                where, f"{stem}.{name}.cause.{DIAGNOSIS}.{state}", dx_raw[state], references
            )
    return NodePriors(
        name, "noisy_or", leak, frozen_map(cyt), frozen_map(dx), published=published, note=note
    )


def _parse_published_block(
    where: str, name: str, table: Mapping[str, Any], references: Mapping[str, Reference]
) -> Mapping[str, Published]:
    if "published" not in table:
        return frozen_map({})
    block = _table(where, f"{name}.published", table["published"], "[<node>.published.poems]")
    out: dict[str, Published] = {}
    _check_diagnosis_keys(where, f"{name}.published", block)
    for dx in DIAGNOSIS_STATES:
        if dx in block:
            key = f"{Path(where).stem}.{name}.published.{dx}"
            out[dx] = parse_published(where, key, block[dx], name, dx, references)
    return frozen_map(out)


def _check_range(where: str, key: str, p: float, low: float, high: float) -> None:
    """``low <= p <= high`` (to 1e-12), or an error naming which end is wrong."""
    if low > high:
        raise _err(where, f"{key}.low", low, f"at most high ({high:g})", "Swap low and high.")
    if not low - 1e-12 <= p <= high + 1e-12:
        raise _err(
            where,
            f"{key}.p",
            p,
            f"inside [low, high] = [{low:g}, {high:g}]",
            "Fix p or widen the range.",
        )


def _check_diagnosis_keys(where: str, path: str, block: Mapping[str, Any]) -> None:
    """Every key of ``block`` is a diagnosis state, or an error with a suggestion."""
    for state in block:
        if state not in DIAGNOSIS_STATES:
            raise _err(
                where,
                f"{path}.{state}",
                block[state],
                "a diagnosis state: " + ", ".join(DIAGNOSIS_STATES),
                suggest(state, DIAGNOSIS_STATES),
            )
