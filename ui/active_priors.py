"""The session's one active prior set: every page reads it, the badge names it.

A session starts on the repository's default priors. The Priors page can replace them by an
uploaded zip of priors files (never a server path) or by edits of single values; both make a
:class:`PriorSet` that is kept in the session and read by the assessment, interval, next tests,
report, network, teaching and evaluation pages through :func:`current`. :func:`badge` shows its
name and fingerprint on every page, with one click back to the defaults.

Edited sets keep the files they came from: :func:`edit` rewrites the original TOML text
(``model.parameters.writer.edited_texts``: comments and layout kept, each edit documented) and
loads the result back, so the priors in use are exactly the ones the download holds.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import streamlit as st

from model.parameters import Priors, load_priors
from model.parameters.texts import priors_from_texts, source_texts
from model.parameters.writer import Edit, edited_texts
from ui.priors_io import texts_from_zip
from ui.state import plain

STATE_KEY = "_active_priors"
DEFAULT_NAME = "Default priors"
ZIP_FOLDER = "priors"


@st.cache_resource(show_spinner=False)
def default_priors() -> Priors:
    """The repository's priors, loaded once per process and never mutated (``ui.compute``
    re-exports it)."""
    return load_priors()


@dataclass(frozen=True)
class PriorSet:
    """A prior set: its name, the priors, the file texts it was loaded from, and the edits
    made on top of ``base`` (the texts and priors before any edit)."""

    name: str
    priors: Priors
    texts: Mapping[str, str]
    base_priors: Priors
    base_texts: Mapping[str, str]
    edits: tuple[Edit, ...] = field(default=())

    @property
    def fingerprint(self) -> str:
        return self.priors.fingerprint

    @property
    def is_default(self) -> bool:
        return self.priors.fingerprint == default_priors().fingerprint

    def with_edits(self, edits: Sequence[Edit]) -> PriorSet:
        """This set with ``edits`` added (a later edit of the same key replaces the earlier)."""
        merged = {e.key: e for e in self.edits}
        merged.update({e.key: e for e in edits})
        ordered = tuple(merged.values())
        if not ordered:
            return replace(self, priors=self.base_priors, texts=self.base_texts, edits=())
        texts = edited_texts(self.base_texts, self.base_priors, ordered)
        priors = priors_from_texts(texts)
        return replace(self, priors=priors, texts=texts, edits=ordered)

    def zip_bytes(self) -> bytes:
        """The set's four TOML files as ``priors/*.toml`` in a zip (loads back the same)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(self.texts):
                info = zipfile.ZipInfo(f"{ZIP_FOLDER}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, self.texts[name].encode("utf-8"))
        return buffer.getvalue()


@st.cache_resource(show_spinner=False)
def default_set() -> PriorSet:
    """The repository's priors with their original file texts (shared, never changed)."""
    priors = default_priors()
    texts = source_texts(priors.directory) if priors.directory else {}
    return PriorSet(DEFAULT_NAME, priors, texts, priors, texts)


def current_set() -> PriorSet:
    """The session's prior set (the defaults until the user loads or edits one)."""
    chosen = st.session_state.get(STATE_KEY)
    return chosen if isinstance(chosen, PriorSet) else default_set()


def current() -> Priors:
    """The priors every page of this session uses."""
    return current_set().priors


def use(prior_set: PriorSet) -> None:
    st.session_state[STATE_KEY] = prior_set


def reset() -> None:
    """Back to the default priors."""
    st.session_state.pop(STATE_KEY, None)


def load_zip(name: str, data: bytes) -> PriorSet:
    """A prior set from an uploaded zip of the four priors files (see ``ui.priors_io``);
    raises :class:`~model.exceptions.PriorsError` naming the member and the fix."""

    texts = texts_from_zip(data)
    priors = priors_from_texts(texts)
    label = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:80] or "uploaded priors"
    return PriorSet(label, priors, texts, priors, texts)


def edit(edits: Sequence[Edit]) -> PriorSet:
    """Apply ``edits`` to the current set, make the result current and return it."""
    chosen = current_set()
    updated = chosen.with_edits(edits)
    if chosen.name == DEFAULT_NAME and updated.edits:
        updated = replace(updated, name="Default priors, edited")
    use(updated)
    return updated


def short(fingerprint: str) -> str:
    return fingerprint[:12]


def badge() -> Priors:
    """Name the session's prior set and its fingerprint; offer the way back to the defaults.
    Returns the active priors, so a page can read and show them with one call."""
    chosen = current_set()
    text = f"Priors: **{plain(chosen.name)}** · fingerprint `{short(chosen.fingerprint)}`"
    if chosen.edits:
        text += f" · {len(chosen.edits)} edited value(s)"
    if chosen.is_default:
        st.caption(":material/tune: " + text)
        return chosen.priors
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.warning(text, icon=":material/tune:")
    right.button(
        "Back to the default priors",
        on_click=reset,
        key="priors_reset",
        icon=":material/undo:",
    )
    return chosen.priors


def describe(chosen: PriorSet) -> dict[str, Any]:
    """A small summary (name, fingerprint, edits) for captions and tests."""
    return {
        "name": chosen.name,
        "fingerprint": chosen.fingerprint,
        "edits": [e.key for e in chosen.edits],
    }
