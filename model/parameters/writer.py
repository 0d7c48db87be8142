"""Write a :class:`Priors` back to TOML files that load to an equal object.

The output is canonical: sections in node order, fields in a fixed order, floats written with
``repr`` (shortest string that round-trips exactly). Writing the same priors twice gives
byte-identical files; load -> write -> load gives equal priors (tests/test_priors_validation).
Hand-written comments are not kept.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.parameters.schema import Categorical, NodePriors, Parameter, Published

if TYPE_CHECKING:  # Priors is built from these modules; annotations only
    from model.parameters.priors import Priors

_HEADER = "# Written by model.parameters.writer from the priors; edit freely, it reloads equal.\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"  # valid TOML; the loader rejects it (never in loaded priors)
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # TOML basic strings share JSON escapes
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__}")


def _key(key: str) -> str:
    if key and all(c.isalnum() or c in "_-" for c in key):
        return key
    return json.dumps(key)


def parameter_table(p: Parameter) -> dict[str, Any]:
    out: dict[str, Any] = {"p": p.p}
    for name in ("n", "low", "high"):
        value = getattr(p, name)
        if value is not None:
            out[name] = value
    out["kind"] = p.kind
    out["source"] = p.source
    for name in ("cohort", "note"):
        value = getattr(p, name)
        if value is not None:
            out[name] = value
    return out


def categorical_table(c: Categorical) -> dict[str, Any]:
    out: dict[str, Any] = {"probs": dict(c.probs)}
    if c.n is not None:
        out["n"] = c.n
    out["kind"] = c.kind
    out["source"] = c.source
    for name in ("cohort", "note"):
        value = getattr(c, name)
        if value is not None:
            out[name] = value
    return out


def published_table(pub: Published) -> dict[str, Any]:
    out: dict[str, Any] = {"p": pub.p, "low": pub.low, "high": pub.high, "source": pub.source}
    if pub.state != "present":
        out["state"] = pub.state
    for name in ("n", "cohort", "note"):
        value = getattr(pub, name)
        if value is not None:
            out[name] = value
    return out


def _entry(e: Parameter | Categorical) -> dict[str, Any]:
    return categorical_table(e) if isinstance(e, Categorical) else parameter_table(e)


def node_data(node: NodePriors) -> dict[str, Any]:
    out: dict[str, Any] = {"model": node.model}
    if node.note is not None:
        out["note"] = node.note
    if node.leak is not None:
        out["leak"] = parameter_table(node.leak)
    if node.model == "noisy_or":
        cause: dict[str, Any] = {
            "cytokine_vegf": {k: parameter_table(v) for k, v in node.cytokine_causes.items()}
        }
        if node.diagnosis_causes:
            cause["diagnosis"] = {k: parameter_table(v) for k, v in node.diagnosis_causes.items()}
        out["cause"] = cause
    if node.given:
        out["given"] = {k: _entry(v) for k, v in node.given.items()}
    if node.published:
        out["published"] = {k: published_table(v) for k, v in node.published.items()}
    return out


def canonical_data(priors: Priors) -> dict[str, Any]:
    """Everything in :class:`Priors` as plain nested dicts, file by file."""
    settings: dict[str, Any] = {}
    for sid, s in priors.settings.items():
        table: dict[str, Any] = {"label": s.label}
        table.update(categorical_table(s.distribution))
        settings[sid] = table
    return {
        "references": {k: dict(r.fields) for k, r in priors.references.items()},
        "settings": settings,
        "latent": {k: node_data(v) for k, v in priors.latent.items()},
        "findings": {k: node_data(v) for k, v in priors.findings.items()},
    }


def _is_leaf(table: dict[str, Any]) -> bool:
    """A parameter-like table written inline (it holds p or probs, or only scalars)."""
    return "p" in table or "probs" in table or all(not isinstance(v, dict) for v in table.values())


def _emit(lines: list[str], path: list[str], table: dict[str, Any]) -> None:
    scalars = [(k, v) for k, v in table.items() if not isinstance(v, dict) or _is_leaf(v)]
    nested = [(k, v) for k, v in table.items() if isinstance(v, dict) and not _is_leaf(v)]
    if path and (scalars or not nested):
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    for k, v in scalars:
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in nested:
        _emit(lines, [*path, k], v)


def dumps(data: dict[str, Any]) -> str:
    """TOML text for one file's data (scalars first, parameter tables inline)."""
    lines: list[str] = []
    for section, table in data.items():
        _emit(lines, [section], table)
    return _HEADER + "\n".join(lines).lstrip("\n") + "\n"


def write_priors(priors: Priors, directory: str | Path) -> list[str]:
    """Write references.toml, settings.toml, latent.toml, findings.toml into ``directory``."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in canonical_data(priors).items():
        path = folder / f"{name}.toml"
        path.write_text(dumps(data), encoding="utf-8")
        paths.append(str(path))
    return paths
