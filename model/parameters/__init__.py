"""The priors: every probability of the network with its provenance, loaded from ``priors/``.

Public API: :func:`load_priors`, :class:`Priors` (``parameters()``, ``with_overrides()``,
``with_setting()``, ``sample()``, ``to_toml_files()``), and the records of
:mod:`model.parameters.schema`. Inside: ``schema`` (records) <- ``loader`` (parse and
validate the TOML), ``overrides``, ``sampling``, ``writer`` (documented edits of the TOML
text), ``texts`` (priors from file texts) <- ``priors`` (the whole set and ``load_priors``); no
loop. File format: ``docs/formats.md``, ``docs/network-contract.md``.
"""

from model.parameters.priors import SETTING_FIX, Priors, default_directory, load_priors
from model.parameters.schema import (
    KINDS,
    Categorical,
    NodePriors,
    Parameter,
    Published,
    Reference,
    Setting,
)

__all__ = [
    "KINDS",
    "SETTING_FIX",
    "Categorical",
    "NodePriors",
    "Parameter",
    "Priors",
    "Published",
    "Reference",
    "Setting",
    "default_directory",
    "load_priors",
]
