"""Load priors from file texts, and read a folder's texts: the two ends of a documented edit.

:func:`model.parameters.writer.edited_texts` edits the original TOML text; these functions
read that text from a folder (:func:`source_texts`) and load edited text back through the
ordinary loader (:func:`priors_from_texts`), so what a user downloads is what the app uses.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from model.exceptions import PriorsError
from model.parameters.loader import FILES
from model.parameters.priors import Priors, load_priors


def source_texts(directory: str | Path) -> dict[str, str]:
    """The text of each priors file in ``directory`` (what :func:`edited_texts` starts from)."""
    return {name: (Path(directory) / name).read_text(encoding="utf-8") for name in FILES}


def priors_from_texts(texts: Mapping[str, str]) -> Priors:
    """Load priors from file texts through :func:`~model.parameters.load_priors` (in a temporary
    folder). Errors name the file, never the temporary folder."""
    with tempfile.TemporaryDirectory(prefix="poems-priors-") as tmp:
        for name in FILES:
            if name in texts:
                (Path(tmp) / name).write_text(texts[name], encoding="utf-8")
        try:
            priors = load_priors(tmp)
        except RecursionError:
            raise PriorsError(
                "priors file", "nested too deeply", "the tables of a priors file", "Check the file."
            ) from None
        except PriorsError as err:
            where = err.where.replace(str(Path(tmp)) + "/", "").replace(str(Path(tmp)), "")
            value = str(err.value).replace(str(Path(tmp)) + "/", "")
            raise PriorsError(err.field, value, err.allowed, err.hint, where=where) from None
    return replace(priors, directory=None)
