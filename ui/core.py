"""The one door from the app to the core: which core modules exist, and cached calls.

Colleagues land the criteria engine, the priors, the network and the assessment one by one;
the app asks here what is available and lights up each view when its module exists. A module
that is missing (or fails to import) makes its view say so; no error detail reaches the page.

Cached objects (priors, networks) are shared by every session and never mutated: a what-if or
a priors override makes a new object.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from types import ModuleType

LOG = logging.getLogger("poems.app")


def module(name: str) -> ModuleType | None:
    """Import ``model.<name>`` if it exists; ``None`` when it has not landed or is broken."""
    full = f"model.{name}"
    try:
        if importlib.util.find_spec(full) is None:
            return None
        return importlib.import_module(full)
    except Exception:  # the outermost layer: log it, show the view as unavailable
        LOG.exception("core module %s failed to import", full)
        return None


def has(name: str, attribute: str) -> bool:
    """True when ``model.<name>.<attribute>`` is available."""
    mod = module(name)
    return mod is not None and hasattr(mod, attribute)
