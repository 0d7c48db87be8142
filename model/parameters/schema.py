"""Immutable containers for the priors: parameters, categorical tables, settings, references.

A :class:`Parameter` is one probability with its provenance; a :class:`Categorical` is one
distribution over named states (a table row) with its provenance. Every object is frozen and
every mapping is a :class:`types.MappingProxyType`. These are the records; the whole set,
:class:`~model.parameters.priors.Priors`, lives in :mod:`model.parameters.priors` (so the
loader, the writer and the samplers can use the records without an import loop).

Key paths name a number exactly where it sits in the files: ``findings.hepatomegaly.leak``,
``findings.polyneuropathy.given.poems``, ``latent.cytokine_vegf.given.poems.probs.raised``,
``settings.neuropathy_clinic.probs.poems``. They are the keys of :meth:`Priors.parameters`,
:meth:`Priors.with_overrides`, :meth:`Priors.sample` and of ``values`` in
:func:`model.network.tables.build_tables`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
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
