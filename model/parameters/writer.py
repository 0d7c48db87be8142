"""Write a :class:`Priors` back to TOML files that load to an equal object.

The output is canonical: sections in node order, fields in a fixed order, floats written with
``repr`` (shortest string that round-trips exactly). Writing the same priors twice gives
byte-identical files; load -> write -> load gives equal priors (tests/test_priors_validation).
Hand-written comments are not kept by :func:`write_priors`; :func:`edited_texts` instead edits
the original files in place (comments, order and layout kept) and records each edit's provenance.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.exceptions import PriorsError
from model.parameters.loader import probability
from model.parameters.schema import Categorical, NodePriors, Parameter, Published
from model.vocabulary import suggest

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
            "poems_activity": {k: parameter_table(v) for k, v in node.activity_causes.items()}
        }
        if node.diagnosis_causes:
            cause["diagnosis"] = {k: parameter_table(v) for k, v in node.diagnosis_causes.items()}
        out["cause"] = cause
    if node.given:
        given: dict[str, Any] = {}
        for path, entry in node.given.items():
            if path == "prior":
                out["prior"] = _entry(entry)
                continue
            *head, last = path.split(".")
            level = given
            for part in head:
                level = level.setdefault(part, {})
            level[last] = _entry(entry)
        if given:
            out["given"] = given
    if node.published:
        out["published"] = {k: published_table(v) for k, v in node.published.items()}
    return out


def canonical_data(priors: Priors) -> dict[str, Any]:
    """Everything in :class:`Priors` as plain nested dicts, file by file."""
    settings: dict[str, Any] = {}
    for sid, s in priors.settings.items():
        table: dict[str, Any] = {"label": s.label}
        table.update(categorical_table(s.distribution))
        if s.implies:
            table["implies"] = dict(s.implies)
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


# --------------------------------------------------------------------------- documented edits
USER_KIND = "user"
USER_SOURCE = "user"
USER_CITATION = (
    "Value edited by a user of poems-dx: the parameter's note says who, when and why, and "
    "the value, kind and source it replaced."
)
_SIGNIFICANT = 6
"""Rescaled states of an edited row keep this many significant digits (no float noise)."""


@dataclass(frozen=True)
class Edit:
    """One user edit of a point value, with its provenance.

    ``key`` is a key of :meth:`Priors.parameters` (``findings.hepatomegaly.leak``,
    ``latent.poems_activity.given.poems.probs.limited``,
    ``settings.neuropathy_clinic.probs.poems``).
    Editing one state of a distribution rescales its other states so the row still sums to one.
    """

    key: str
    value: float
    who: str = ""
    why: str = ""
    when: str = ""


def edited_texts(texts: Mapping[str, str], priors: Priors, edits: Sequence[Edit]) -> dict[str, str]:
    """The priors files with ``edits`` applied, every comment and layout kept.

    ``texts`` maps file name (``findings.toml`` ...) to the text ``priors`` was loaded from.
    Only the edited numbers change; each edited entry gets ``kind = "user"``,
    ``source = "user"`` (a reference added to ``references.toml`` when missing) and a note that
    starts with who, when and why and keeps the previous value, kind, source and note. A value
    outside the entry's ``[low, high]`` widens the range, and the note says so. Several edits of
    one row are applied together.
    """
    import tomlkit

    by_key = _entries_by_key(priors)
    grouped: dict[str, list[Edit]] = {}
    for edit in edits:
        if edit.key not in by_key:
            raise PriorsError(
                "parameter key", edit.key, "a key of Priors.parameters()", suggest(edit.key, by_key)
            )
        entry = by_key[edit.key]
        grouped.setdefault(entry.key, []).append(edit)
    docs: dict[str, Any] = {}
    for entry_key, entry_edits in grouped.items():
        entry = by_key[entry_edits[0].key]
        stem, *path = entry_key.split(".")
        name = f"{stem}.toml"
        if name not in texts:
            raise PriorsError("priors file", name, "one of " + ", ".join(texts))
        if name not in docs:
            docs[name] = tomlkit.parse(texts[name])
        table = _locate(docs[name], stem, path)
        if isinstance(entry, Categorical):
            _edit_row(table, entry, entry_edits)
        else:
            _edit_parameter(table, entry, entry_edits[-1])
    if grouped:
        name = "references.toml"
        doc = docs.get(name) or tomlkit.parse(texts[name])
        if USER_SOURCE not in doc:
            reference = tomlkit.table()
            reference.add("citation", USER_CITATION)
            doc.add(tomlkit.nl())
            doc.add(tomlkit.comment("Added by poems-dx when a user edited a value (kind = user)."))
            doc.add(USER_SOURCE, reference)
        docs[name] = doc
    out = dict(texts)
    out.update({name: tomlkit.dumps(doc) for name, doc in docs.items()})
    return out


def _entries_by_key(priors: Priors) -> dict[str, Parameter | Categorical]:
    """Parameter key -> the entry that holds it (a categorical row for ``...probs.<state>``)."""
    out: dict[str, Parameter | Categorical] = {}
    for entry in priors.entries():
        if isinstance(entry, Categorical):
            for state in entry.probs:
                out[f"{entry.key}.probs.{state}"] = entry
        else:
            out[entry.key] = entry
    return out


def _locate(doc: Any, stem: str, path: list[str]) -> Any:
    table = doc
    if list(doc) == [stem]:  # the loader tolerates one wrapping [findings] table
        table = doc[stem]
    for part in path:
        table = table[part]
    return table


def _clean(value: float) -> float:
    """``value`` with at most :data:`_SIGNIFICANT` significant digits."""
    return float(f"{value:.{_SIGNIFICANT}g}")


MAX_NOTE_TEXT = 300
"""Who and why are typed by a user: control characters dropped, one line, at most this long."""


def _one_line(text: str) -> str:
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    return " ".join(kept.split())[:MAX_NOTE_TEXT]


def _provenance_note(entry: Parameter | Categorical, edits: Sequence[Edit], extra: str) -> str:
    last = edits[-1]
    who = _one_line(last.who) or "an unnamed user"
    when = _one_line(last.when) or "an unrecorded time"
    why = _one_line(last.why).rstrip(".") or "no reason given"
    if isinstance(entry, Categorical):
        previous = "probs " + ", ".join(f"{s} = {v!r}" for s, v in entry.probs.items())
    else:
        previous = f"p = {entry.p!r}"
        if entry.low is not None and entry.high is not None:
            previous += f", range {entry.low!r} to {entry.high!r}"
    note = (
        f"Edited by {who} ({when}): {why}. Previous value: {previous} "
        f"(kind {entry.kind}, source {entry.source})."
    )
    if extra:
        note += f" {extra}"
    if entry.note:
        note += f" Previous note: {entry.note}"
    return note


def _set_provenance(table: Any, note: str) -> None:
    import tomlkit

    # A comment ends its line, so only a section table ([x.y]) can carry one; an inline
    # table ({p = ..., ...}) is one line and a comment inside it would break the TOML.
    if not isinstance(table, tomlkit.items.InlineTable):
        for name in ("p", "probs"):
            if name in table:
                value = table[name]
                if isinstance(value, tomlkit.items.Item):
                    value.comment("user edit: see note")
    table["kind"] = USER_KIND
    table["source"] = USER_SOURCE
    table["note"] = note


def _edit_parameter(table: Any, entry: Parameter, edit: Edit) -> None:
    value = probability("edit", edit.key, edit.value)
    table["p"] = value
    extra = ""
    if entry.low is not None and entry.high is not None and not entry.low <= value <= entry.high:
        low, high = min(entry.low, value), max(entry.high, value)
        table["low"], table["high"] = low, high
        extra = f"The range was widened to {low!r} to {high!r} to hold the new value."
    _set_provenance(table, _provenance_note(entry, [edit], extra))


def _edit_row(table: Any, entry: Categorical, edits: Sequence[Edit]) -> None:
    """Set the edited states; rescale the others in proportion, in clean decimals."""

    fixed = {e.key.rsplit(".", 1)[1]: probability("edit", e.key, e.value) for e in edits}
    fixed_sum = math.fsum(fixed.values())
    rest = [s for s in entry.probs if s not in fixed]
    if fixed_sum > 1.0 + 1e-12 or (not rest and abs(fixed_sum - 1.0) > 1e-9):
        raise PriorsError(
            f"edits of {entry.key}",
            f"states summing to {fixed_sum:g}",
            "states that leave room for the others (at most 1 in all)"
            if rest
            else "states summing to 1",
            "Lower one of the edited values.",
        )
    new: dict[str, Decimal] = {s: Decimal(repr(v)) for s, v in fixed.items()}
    if rest:
        rest_point = math.fsum(entry.probs[s] for s in rest)
        for s in rest:
            share = (
                entry.probs[s] * (1.0 - fixed_sum) / rest_point
                if rest_point > 0
                else (1.0 - fixed_sum) / len(rest)
            )
            new[s] = Decimal(repr(_clean(share)))
        largest = max(rest, key=lambda s: new[s])
        new[largest] += Decimal(1) - sum(new.values(), Decimal(0))
        if new[largest] < 0:
            new[largest] = Decimal(0)
    probs = table["probs"]
    for state in entry.probs:
        probs[state] = float(new[state])
    _set_provenance(table, _provenance_note(entry, edits, ""))
