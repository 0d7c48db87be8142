"""The whole set of priors (:class:`Priors`) and the function that loads it from a folder.

:class:`Priors` holds every number of the network with its provenance (the records of
:mod:`model.parameters.schema`), compares by a content fingerprint, and makes what-ifs as new
objects. It sits above the modules that parse, override, sample and write priors, which use it
only in annotations; so ``model/parameters`` has no import loop.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from model.exceptions import PriorsError
from model.parameters.loader import (
    FILES,
    parse_findings,
    parse_latent,
    parse_references,
    parse_setting,
    parse_settings,
    read_toml,
)
from model.parameters.overrides import apply_overrides
from model.parameters.sampling import sample_priors
from model.parameters.schema import (
    Categorical,
    NodePriors,
    Parameter,
    Published,
    Reference,
    Setting,
    frozen_map,
)
from model.parameters.writer import canonical_data, write_priors
from model.vocabulary import suggest

SETTING_FIX = "Add it to settings.toml in your priors folder and pass --priors with that folder."
"""What to do about an unknown setting named on the command line."""


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

    def setting(self, setting_id: str, field: str = "setting", fix: str = "") -> Setting:
        """A setting by id; an unknown id raises a :class:`PriorsError` naming ``field`` (the
        case field or command-line option it came from), with a suggestion for a near miss,
        else ``fix`` (default: how to add one)."""
        try:
            return self.settings[setting_id]
        except KeyError:
            raise PriorsError(
                field,
                setting_id,
                "one of " + ", ".join(self.settings),
                suggest(setting_id, self.settings) or fix or "Add it with Priors.with_setting().",
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
        return sample_priors(self, n_draws, rng)

    def to_toml_files(self, directory: str) -> list[str]:
        """Write the four priors files into ``directory``; return their paths."""
        return write_priors(self, directory)


def default_directory() -> Path:
    """``$POEMS_PRIORS_DIR`` if set, else ``priors/`` of the repository checkout beside the
    ``model`` package, else the copy an installed wheel carries in ``model/_priors``."""
    env = os.environ.get("POEMS_PRIORS_DIR")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent / "priors"
    if (checkout / "references.toml").is_file():
        return checkout
    return package / "_priors"


def load_priors(directory: str | Path | None = None) -> Priors:
    """Load and validate a priors folder (default: :func:`default_directory`)."""
    folder = Path(directory) if directory is not None else default_directory()
    if not folder.is_dir():
        raise PriorsError(
            "priors folder",
            str(folder),
            "a folder holding " + ", ".join(FILES),
            "Pass --priors DIR, or set POEMS_PRIORS_DIR.",
        )
    raw = {name: read_toml(folder / name) for name in FILES}
    references = parse_references(raw["references.toml"], str(folder / "references.toml"))
    settings = parse_settings(raw["settings.toml"], references, str(folder / "settings.toml"))
    latent = parse_latent(raw["latent.toml"], references, str(folder / "latent.toml"))
    findings = parse_findings(raw["findings.toml"], references, str(folder / "findings.toml"))
    return Priors(references, settings, latent, findings, str(folder))
