"""Documented edits of the priors files (``model.parameters.writer.edited_texts``).

Works on whatever files and keys the current priors hold: the edited keys are picked from
``Priors.parameters()`` by shape (a leak, a categorical state, a base rate), not hard-coded.
"""

from __future__ import annotations

import difflib
import re

import pytest

from model.exceptions import PriorsError
from model.formatting import parameter_label
from model.parameters import Categorical, load_priors
from model.parameters.texts import priors_from_texts, source_texts
from model.parameters.writer import Edit, edited_texts

PRIORS = load_priors()
TEXTS = source_texts(PRIORS.directory or "")


def _first(pattern: str) -> str:
    return next(p.key for p in PRIORS.parameters() if re.fullmatch(pattern, p.key))


LEAK = _first(r"findings\.[a-z_]+\.leak")
STATE = next(  # a state of a row with three or more states (two edited states leave room)
    p.key
    for p in PRIORS.parameters()
    if re.fullmatch(r"latent\.[a-z_]+\.given\.[a-z_]+\.probs\.[a-z_]+", p.key)
    and len(next(e for e in PRIORS.entries() if e.key == p.key.rsplit(".probs.", 1)[0]).probs) >= 3
)
BASE_RATE = _first(r"settings\.[a-z_]+\.probs\.poems")
WHEN = "2026-12-02 01:00 UTC"


def _edits() -> list[Edit]:
    values = PRIORS.point_values()
    return [
        Edit(LEAK, round(min(0.99, values[LEAK] + 0.05), 3), "Dr Test", "a what-if", WHEN),
        Edit(STATE, 0.3, "Dr Test", "row check", WHEN),
        Edit(BASE_RATE, 0.15, "", "", WHEN),
    ]


def _changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def test_edited_files_keep_every_comment_and_change_only_the_edited_entries() -> None:
    edits = _edits()
    out = edited_texts(TEXTS, PRIORS, edits)
    edited_names = {e.key.split(".probs.")[0].rsplit(".", 1)[1] for e in edits}
    for name, before in TEXTS.items():
        after = out[name]
        comments_before = [x for x in before.splitlines() if x.lstrip().startswith("#")]
        comments_after = [x for x in after.splitlines() if x.lstrip().startswith("#")]
        assert comments_before == [c for c in comments_after if c in comments_before]
        assert len(comments_after) >= len(comments_before)
        for line in _changed_lines(before, after):
            if name == "references.toml":
                assert line.startswith("+")  # only the added 'user' reference
                continue
            # a field of a [section] entry, or a whole one-line {inline} entry that was edited
            field = re.match(r"[+-](p|probs|low|high|kind|source|note) = ", line)
            inline = re.match(r"[+-]([A-Za-z0-9_]+) = \{", line)
            assert field or (inline and inline.group(1) in edited_names), line
            if not field and inline and line.startswith("+"):
                assert 'kind = "user"' in line and 'source = "user"' in line, line
    changed = {n for n in TEXTS if out[n] != TEXTS[n]}
    assert changed == {"references.toml", "settings.toml", "latent.toml", "findings.toml"}


def test_edited_values_are_written_without_float_noise() -> None:
    out = edited_texts(TEXTS, PRIORS, _edits())
    for name in TEXTS:
        for line in _changed_lines(TEXTS[name], out[name]):
            if line.startswith("+") and not line.startswith("+note"):
                numbers = re.findall(r"\d+\.\d+", line.split("#")[0])
                assert all(len(n.split(".")[1]) <= 10 for n in numbers), line


def test_edits_round_trip_through_the_loader_with_their_provenance() -> None:
    edits = _edits()
    back = priors_from_texts(edited_texts(TEXTS, PRIORS, edits))
    values = back.point_values()
    assert values[LEAK] == edits[0].value
    assert values[STATE] == 0.3
    assert values[BASE_RATE] == 0.15
    row_key = STATE.rsplit(".probs.", 1)[0]
    row = next(e for e in back.entries() if e.key == row_key)
    assert isinstance(row, Categorical)
    assert sum(row.probs.values()) == pytest.approx(1.0, abs=1e-12)
    old_row = next(e for e in PRIORS.entries() if e.key == row_key)
    rest = [s for s in row.probs if f"{row_key}.probs.{s}" != STATE]
    old_rest = sum(old_row.probs[s] for s in rest)
    for s in rest:  # the other states keep their relative sizes (to 6 significant digits)
        assert row.probs[s] == pytest.approx(old_row.probs[s] * 0.7 / old_rest, rel=1e-5, abs=1e-9)
    leak = next(p for p in back.parameters() if p.key == LEAK)
    old_leak = next(p for p in PRIORS.parameters() if p.key == LEAK)
    assert (leak.kind, leak.source) == ("user", "user")
    assert leak.note is not None
    assert leak.note.startswith(f"Edited by Dr Test ({WHEN}): a what-if.")
    assert f"p = {old_leak.p!r}" in leak.note
    assert f"source {old_leak.source}" in leak.note
    assert "user" in back.references
    unchanged = [
        p
        for p in PRIORS.parameters()
        if p.key not in {LEAK, BASE_RATE}
        and not p.key.startswith(row_key)
        and not p.key.startswith(BASE_RATE.rsplit(".", 1)[0])
    ]
    back_by_key = {p.key: p for p in back.parameters()}
    assert all(back_by_key[p.key] == p for p in unchanged)


def test_a_second_round_of_edits_keeps_the_first_ones_history() -> None:
    first = edited_texts(TEXTS, PRIORS, [Edit(LEAK, 0.2, "A", "first", WHEN)])
    once = priors_from_texts(first)
    twice = priors_from_texts(edited_texts(first, once, [Edit(LEAK, 0.25, "B", "second", WHEN)]))
    note = next(p for p in twice.parameters() if p.key == LEAK).note or ""
    assert note.startswith("Edited by B") and "Previous note: Edited by A" in note


def test_a_value_outside_the_range_widens_it_and_says_so() -> None:
    ranged = next(p for p in PRIORS.parameters() if p.high is not None and p.high < 0.9)
    back = priors_from_texts(edited_texts(TEXTS, PRIORS, [Edit(ranged.key, 0.95)]))
    edited = next(p for p in back.parameters() if p.key == ranged.key)
    assert (edited.p, edited.low, edited.high) == (0.95, ranged.low, 0.95)
    assert "range was widened" in (edited.note or "")


def test_impossible_edits_are_priors_errors() -> None:
    row_key = STATE.rsplit(".probs.", 1)[0]
    row = next(e for e in PRIORS.entries() if e.key == row_key)
    assert isinstance(row, Categorical)
    states = list(row.probs)
    with pytest.raises(PriorsError, match="at most 1 in all"):
        edited_texts(TEXTS, PRIORS, [Edit(f"{row_key}.probs.{s}", 0.9) for s in states[:2]])
    with pytest.raises(PriorsError, match="parameter key must be"):
        edited_texts(TEXTS, PRIORS, [Edit("findings.nothing.leak", 0.1)])
    with pytest.raises(PriorsError, match="a number in"):
        edited_texts(TEXTS, PRIORS, [Edit(LEAK, 1.5)])


def test_loading_errors_never_name_the_temporary_folder() -> None:
    broken = dict(TEXTS)
    broken["settings.toml"] = "[x]\nprobs = 3\n"
    with pytest.raises(PriorsError) as info:
        priors_from_texts(broken)
    assert "poems-priors-" not in str(info.value) and "/tmp" not in str(info.value)
    assert str(info.value).startswith("settings.toml")


def test_every_parameter_has_a_distinct_label_in_clinical_words() -> None:
    from model.assessment import DIAGNOSIS_LABELS

    labels = [parameter_label(p.key, DIAGNOSIS_LABELS) for p in PRIORS.parameters()]
    assert len(set(labels)) == len(labels)
    assert labels == [parameter_label(p.key) for p in PRIORS.parameters()]  # one wording
    assert not any("_" in label for label in labels if not label.startswith("Base rate"))
    assert parameter_label("settings.neuropathy_clinic.probs.poems", DIAGNOSIS_LABELS) == (
        "Base rate of POEMS syndrome (neuropathy clinic)"
    )


def test_who_and_why_are_kept_as_one_clean_line() -> None:
    edit = Edit(LEAK, 0.2, 'Dr "Q"\n\x7f\x00 <b>', "why\\ \t\x1b[31m" + "x" * 500, WHEN)
    back = priors_from_texts(edited_texts(TEXTS, PRIORS, [edit]))
    note = next(p.note for p in back.parameters() if p.key == LEAK) or ""
    assert note.startswith('Edited by Dr "Q" <b> (2026-12-02 01:00 UTC): why\\ [31mxxx')
    assert not any(ord(c) < 32 or ord(c) == 127 for c in note)


def test_an_entry_written_as_a_section_table_is_edited_like_an_inline_one() -> None:
    """A researcher may write ``[findings.x.leak]`` or ``leak = {...}``: both edit alike."""
    node = LEAK.split(".")[1]
    text = TEXTS["findings.toml"]
    line = next(x for x in text.splitlines() if x.startswith("leak = {"))
    assert f"\n[{node}]\n" in text  # the node's section, holding the inline leak
    fields = line.split("{", 1)[1].rsplit("}", 1)[0]
    as_section = text.replace(line, "")
    as_section += (
        f"\n[{node}.leak]\n"
        + "\n".join(part.strip() for part in re.split(r", (?=[a-z]+ = )", fields))
        + "\n"
    )
    texts = {**TEXTS, "findings.toml": as_section}
    reloaded = priors_from_texts(texts)
    assert reloaded.point_values() == PRIORS.point_values()
    for source in (TEXTS, texts):
        edited = edited_texts(source, reloaded, [Edit(LEAK, 0.2, "A", "why", WHEN)])
        back = next(p for p in priors_from_texts(edited).parameters() if p.key == LEAK)
        assert (back.p, back.kind, back.source) == (0.2, "user", "user")
    section_edit = edited_texts(texts, reloaded, [Edit(LEAK, 0.2, "A", "why", WHEN)])
    assert "p = 0.2 # user edit: see note" in section_edit["findings.toml"]
