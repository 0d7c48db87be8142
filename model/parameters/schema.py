"""Immutable containers for the priors: parameters, categorical tables, settings, references.

A :class:`Parameter` is one probability with its provenance; a :class:`Categorical` is one
distribution over named states (a table row) with its provenance. Every object is frozen and
every mapping is a :class:`types.MappingProxyType`, so a loaded :class:`Priors` can be cached
and shared: a what-if (:meth:`Priors.with_overrides`, :meth:`Priors.with_setting`) returns a
new object.

Key paths name a number exactly where it sits in the files: ``findings.hepatomegaly.leak``,
``findings.polyneuropathy.given.poems``, ``latent.cytokine_vegf.given.poems.probs.raised``,
``settings.neuropathy_clinic.probs.poems``. They are the keys of :meth:`Priors.parameters`,
:meth:`Priors.with_overrides`, :meth:`Priors.sample` and of ``values`` in
:func:`model.network.tables.build_tables`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

KINDS: tuple[str, ...] = ("literature", "inferred", "assumption", "user")
"""Allowed provenance kinds: published number, derived from published numbers, a guess, or a
value a user edited (:func:`model.parameters.writer.edited_texts` writes its who/when/why and
the value it replaced into the note)."""

SUM_TOLERANCE = 1e-9
"""Categorical probabilities must sum to one within this tolerance (pgmpy only checks 0.01)."""


def frozen_map(items: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only copy of ``items`` (insertion order kept)."""
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True)
class Parameter:
    """One probability with its provenance.

    Attributes
    ----------
    key : key path (``file.node.path``), e.g. ``findings.hepatomegaly.leak``.
    p : point value in [0, 1].
    kind : ``literature``, ``inferred`` or ``assumption``.
    source : key of ``references.toml``.
    low, high : published or assumed range (required for ``assumption``).
    n : effective sample size; the uncertainty is Beta(p n, (1 - p) n).
    cohort, note : free text kept for reports.
    """

    key: str
    p: float
    kind: str
    source: str
    low: float | None = None
    high: float | None = None
    n: float | None = None
    cohort: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Categorical:
    """One distribution over named states (one row of a table) with its provenance.

    ``probs`` keeps the states in the node's state order. ``n`` is the Dirichlet
    concentration (pseudo-count); without it the row is held fixed when sampling.
    """

    key: str
    probs: Mapping[str, float]
    kind: str
    source: str
    n: float | None = None
    cohort: str | None = None
    note: str | None = None

    def components(self) -> Iterator[Parameter]:
        """Each state's probability as a :class:`Parameter` (key ``<key>.probs.<state>``)."""
        for state, p in self.probs.items():
            yield Parameter(
                f"{self.key}.probs.{state}",
                p,
                self.kind,
                self.source,
                None,
                None,
                self.n,
                self.cohort,
                self.note,
            )


@dataclass(frozen=True)
class Published:
    """A published frequency P(finding = state | diagnosis) that the network must reproduce."""

    key: str
    node: str
    diagnosis: str
    p: float
    low: float
    high: float
    source: str
    state: str = "present"
    n: float | None = None
    cohort: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class NodePriors:
    """The numbers for one node, as written in its file section.

    ``model`` is ``noisy_or`` (``leak``, ``cytokine_causes``, ``diagnosis_causes``),
    ``by_diagnosis`` / ``by_parent`` (``given``: parent state -> :class:`Parameter`),
    ``categorical`` (``given``: parent state -> :class:`Categorical`) or ``aggregate`` (no
    numbers: a section that only carries ``published`` frequencies of a deterministic OR).
    """

    node: str
    model: str
    leak: Parameter | None = None
    cytokine_causes: Mapping[str, Parameter] = field(default_factory=frozen_map)
    diagnosis_causes: Mapping[str, Parameter] = field(default_factory=frozen_map)
    given: Mapping[str, Parameter | Categorical] = field(default_factory=frozen_map)
    published: Mapping[str, Published] = field(default_factory=frozen_map)
    note: str | None = None

    def entries(self) -> Iterator[Parameter | Categorical]:
        if self.leak is not None:
            yield self.leak
        yield from self.cytokine_causes.values()
        yield from self.diagnosis_causes.values()
        yield from self.given.values()


@dataclass(frozen=True)
class Setting:
    """A clinical setting: the base rates over the diagnosis states, with provenance."""

    id: str
    label: str
    distribution: Categorical
    note: str | None = None

    @property
    def base_rates(self) -> Mapping[str, float]:
        return self.distribution.probs


@dataclass(frozen=True)
class Reference:
    """One entry of ``references.toml``: a citation and its DOI/URL (string fields only)."""

    key: str
    fields: Mapping[str, str]

    @property
    def citation(self) -> str:
        return self.fields.get("citation", self.key)


@dataclass(frozen=True, eq=False)
class Priors:
    """Every number of the network with its provenance. Immutable; compare by content.

    Equality and hashing use a content fingerprint, so two loads of the same files are equal
    and share cached networks (``model.network.builder``).
    """

    references: Mapping[str, Reference]
    settings: Mapping[str, Setting]
    latent: Mapping[str, NodePriors]
    findings: Mapping[str, NodePriors]
    directory: str | None = field(default=None, compare=False)

    # ---------------------------------------------------------------- identity
    def canonical(self) -> Any:
        """A JSON-able nested structure holding every field (the basis of equality)."""
        from model.parameters.writer import canonical_data

        return canonical_data(self)

    @property
    def fingerprint(self) -> str:
        cached = self.__dict__.get("_fingerprint")
        if cached is None:
            text = json.dumps(self.canonical(), sort_keys=False, allow_nan=False)
            cached = hashlib.sha256(text.encode()).hexdigest()
            object.__setattr__(self, "_fingerprint", cached)
        return str(cached)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Priors):
            return NotImplemented
        return self.fingerprint == other.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    # ---------------------------------------------------------------- access
    def node(self, name: str) -> NodePriors:
        """The priors of a latent or finding node."""
        if name in self.latent:
            return self.latent[name]
        return self.findings[name]

    def setting(self, setting_id: str) -> Setting:
        """A setting by id; unknown ids raise a :class:`PriorsError` with a suggestion."""
        try:
            return self.settings[setting_id]
        except KeyError:
            from model.exceptions import PriorsError
            from model.vocabulary import suggest

            raise PriorsError(
                "setting",
                setting_id,
                "one of " + ", ".join(self.settings),
                suggest(setting_id, self.settings) or "Add it with Priors.with_setting().",
            ) from None

    def entries(self) -> Iterator[Parameter | Categorical]:
        """Every parameter and categorical row, settings first, in file order."""
        for s in self.settings.values():
            yield s.distribution
        for section in (self.latent, self.findings):
            for node in section.values():
                yield from node.entries()

    def parameters(self) -> list[Parameter]:
        """Every probability as a :class:`Parameter` (categorical rows split per state)."""
        out: list[Parameter] = []
        for entry in self.entries():
            if isinstance(entry, Categorical):
                out.extend(entry.components())
            else:
                out.append(entry)
        return out

    def point_values(self) -> dict[str, float]:
        """Key path -> point value for every parameter."""
        return {p.key: p.p for p in self.parameters()}

    def published(self) -> list[Published]:
        """Every published frequency, in file order."""
        return [pub for node in self.findings.values() for pub in node.published.values()]

    # ---------------------------------------------------------------- what-ifs
    def with_overrides(self, overrides: Mapping[str, float]) -> Priors:
        """A new Priors with some point values replaced (ranges and provenance kept).

        Overriding one state of a categorical row rescales the row's other states in
        proportion so it still sums to one. This is a what-if: the new value is not checked
        against the published range.
        """
        from model.parameters.overrides import apply_overrides

        return apply_overrides(self, overrides)

    def with_setting(
        self,
        setting_id: str,
        base_rates: Mapping[str, float],
        *,
        label: str | None = None,
        kind: str = "assumption",
        source: str = "user",
        n: float | None = None,
        note: str | None = None,
    ) -> Priors:
        """A new Priors with a user setting added (or replaced), validated like the files.

        ``source = "user"`` adds a reference entry "Base rates entered by the user" when the
        references hold no such key.
        """
        from model.parameters.loader import parse_setting

        references = dict(self.references)
        if source == "user" and "user" not in references:
            references["user"] = Reference(
                "user", frozen_map({"citation": "Base rates entered by the user"})
            )
        raw: dict[str, Any] = {"label": label or setting_id, "probs": dict(base_rates)}
        raw.update({"kind": kind, "source": source})
        if n is not None:
            raw["n"] = n
        if note is not None:
            raw["note"] = note
        setting = parse_setting(setting_id, raw, frozen_map(references), "user setting")
        settings = dict(self.settings)
        settings[setting_id] = setting
        return replace(self, references=frozen_map(references), settings=frozen_map(settings))

    def sample(self, n_draws: int, rng: Any) -> dict[str, Any]:
        """Draw every parameter ``n_draws`` times: key path -> array of shape (n_draws,).

        See :func:`model.parameters.sampling.sample_priors` for the distributions used.
        """
        from model.parameters.sampling import sample_priors

        return sample_priors(self, n_draws, rng)

    def to_toml_files(self, directory: str) -> list[str]:
        """Write the four priors files into ``directory``; return their paths."""
        from model.parameters.writer import write_priors

        return write_priors(self, directory)
