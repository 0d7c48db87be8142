"""Point-value what-ifs: :meth:`Priors.with_overrides` and the value resolution shared with
:func:`model.network.tables.build_tables`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from model.exceptions import PriorsError
from model.formatting import NODE_TITLES
from model.parameters.schema import Categorical, NodePriors, Parameter, frozen_map
from model.vocabulary import FINDINGS, suggest
from model.vocabulary import label as finding_label

if TYPE_CHECKING:  # Priors is built from these modules; annotations only
    from model.parameters.priors import Priors


def check_keys(priors: Priors, keys: Any) -> None:
    """Raise a :class:`PriorsError` (with a suggestion) for a key path that is not a parameter."""
    known = priors.point_values()
    for key in keys:
        if key not in known:
            raise PriorsError(
                "parameter key", key, "a key path of Priors.parameters()", suggest(str(key), known)
            )


def resolve_row(row: Categorical, values: Mapping[str, Any]) -> list[Any]:
    """The row's probabilities in state order, with overridden states taken from ``values``.

    The states that are not overridden keep their relative sizes and are rescaled so the row
    sums to one; if every state is overridden the row is divided by its sum.
    """
    keys = [f"{row.key}.probs.{state}" for state in row.probs]
    given = [k in values for k in keys]
    if not any(given):
        return list(row.probs.values())
    points = list(row.probs.values())
    fixed = [np.asarray(values[k], dtype=float) for k, g in zip(keys, given, strict=True) if g]
    fixed_sum = sum(fixed, np.zeros(()))
    rest_point = sum(p for p, g in zip(points, given, strict=True) if not g)
    out: list[Any] = []
    if all(given):
        return [np.asarray(values[k], dtype=float) / fixed_sum for k in keys]
    if rest_point > 0:
        scale = (1.0 - fixed_sum) / rest_point
    else:
        n_rest = sum(1 for g in given if not g)
        scale = None
        share = (1.0 - fixed_sum) / n_rest
    for k, p, g in zip(keys, points, given, strict=True):
        if g:
            out.append(np.asarray(values[k], dtype=float))
        elif scale is not None:
            out.append(p * scale)
        else:
            out.append(share)
    return out


def apply_overrides(priors: Priors, overrides: Mapping[str, float]) -> Priors:
    """See :meth:`Priors.with_overrides`."""
    check_keys(priors, overrides)
    for key, value in overrides.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0.0 <= float(value) <= 1.0
        ):
            raise PriorsError(f"override {key}", value, "a number in [0, 1]")

    def param(p: Parameter) -> Parameter:
        return replace(p, p=float(overrides[p.key])) if p.key in overrides else p

    def row(c: Categorical) -> Categorical:
        resolved = resolve_row(c, overrides)
        if any(f"{c.key}.probs.{s}" in overrides for s in c.probs):
            for state, value in zip(c.probs, resolved, strict=True):
                if float(value) < -1e-12:
                    raise PriorsError(
                        f"override {c.key}.probs.{state}",
                        float(value),
                        "overrides that leave every state of the row non-negative",
                        "The overridden states sum to more than one.",
                    )
            probs = {
                s: min(1.0, max(0.0, float(v))) for s, v in zip(c.probs, resolved, strict=True)
            }
            return replace(c, probs=frozen_map(probs))
        return c

    def entry(e: Parameter | Categorical) -> Parameter | Categorical:
        return row(e) if isinstance(e, Categorical) else param(e)

    def node(n: NodePriors) -> NodePriors:
        return replace(
            n,
            leak=None if n.leak is None else param(n.leak),
            activity_causes=frozen_map({k: param(v) for k, v in n.activity_causes.items()}),
            diagnosis_causes=frozen_map({k: param(v) for k, v in n.diagnosis_causes.items()}),
            given=frozen_map({k: entry(v) for k, v in n.given.items()}),
        )

    settings = {k: replace(s, distribution=row(s.distribution)) for k, s in priors.settings.items()}
    return replace(
        priors,
        settings=frozen_map(settings),
        latent=frozen_map({k: node(v) for k, v in priors.latent.items()}),
        findings=frozen_map({k: node(v) for k, v in priors.findings.items()}),
    )


def parameter_label(key: str, diagnosis_labels: Mapping[str, str] | None = None) -> str:
    """A parameter's key path in clinical words (finding and diagnosis labels, not ids).

    ``findings.hepatomegaly.given.poems`` -> "Hepatomegaly | POEMS syndrome";
    ``settings.neuropathy_clinic.probs.poems`` -> "Base rate of POEMS syndrome (neuropathy
    clinic)". Unknown shapes fall back to the key with spaces, never fail.
    """

    names = dict(diagnosis_labels or {})

    def state(s: str) -> str:
        return names.get(s, s.replace("_", " "))

    def node(n: str) -> str:
        if n in NODE_TITLES:
            return NODE_TITLES[n]
        return finding_label(n) if n in FINDINGS else n.replace("_", " ").capitalize()

    parts = key.split(".")
    try:
        stem, name, *rest = parts
        if stem == "settings" and rest[:1] == ["probs"]:
            return f"Base rate of {state(rest[1])} ({name.replace('_', ' ')})"
        title = node(name)
        if rest == ["leak"]:
            return f"{title}: background rate (no modelled cause)"
        if rest[:2] == ["cause", "poems_activity"]:
            return f"{title}: caused by {rest[2].replace('_', ' ')} POEMS activity"
        if rest[:2] == ["cause", "diagnosis"]:
            return f"{title}: caused by {state(rest[2])}"
        if rest[:1] == ["given"] and "probs" in rest:
            at = rest.index("probs")
            given = ", ".join(state(s) for s in rest[1:at])
            return f"{title} = {rest[at + 1].replace('_', ' ')} | {given}"
        if rest[:1] == ["given"] and len(rest) >= 2:
            return f"{title} | " + ", ".join(state(s) for s in rest[1:])
    except (ValueError, IndexError):
        pass
    return key.replace(".", " ").replace("_", " ")
