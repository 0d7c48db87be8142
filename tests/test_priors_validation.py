"""Priors loader: every corruption of a valid folder is rejected with a message that names the
file, the key path and the fix; valid priors round-trip through TOML exactly."""

from __future__ import annotations

import math
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model.exceptions import PriorsError
from model.parameters import Categorical, Parameter, Priors, load_priors
from model.parameters.writer import dumps

FIXTURE = Path(__file__).parent / "fixtures" / "priors_minimal"
REAL = Path(__file__).resolve().parents[1] / "priors"

Data = dict[str, Any]


@pytest.fixture(scope="module")
def fixture_priors() -> Priors:
    return load_priors(FIXTURE)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "priors"
    shutil.copytree(FIXTURE, target)
    return target


def _edit(folder: Path, name: str, change: Callable[[Data], None]) -> None:
    path = folder / name
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(dumps(data), encoding="utf-8")


def _set(*path_and_value: Any) -> Callable[[Data], None]:
    *path, value = path_and_value

    def change(data: Data) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _delete(*path: str) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


def _rename(*path_and_new: str) -> Callable[[Data], None]:
    *path, new = path_and_new

    def change(data: Data) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[new] = node.pop(path[-1])

    return change


POLY = ("polyneuropathy", "given", "cidp")
HEP_LEAK = ("hepatomegaly", "leak")

# (id, file, change, regex the message must match)
DATA_CORRUPTIONS: list[tuple[str, str, Callable[[Data], None], str]] = [
    (
        "unknown node",
        "findings.toml",
        _rename("hepatomegaly", "hepatomegali"),
        r"node must be .*Got 'hepatomegali'.*Did you mean 'hepatomegaly'",
    ),
    (
        "latent node in findings",
        "findings.toml",
        _rename("splenomegaly", "cytokine_vegf"),
        r"belongs in latent\.toml",
    ),
    (
        "number finding as node",
        "findings.toml",
        _rename("bone_marrow_plasma_cells", "bone_marrow_plasma_cells_pct"),
        r"Use the node bone_marrow_plasma_cells",
    ),
    (
        "missing node section",
        "findings.toml",
        _delete("splenomegaly"),
        r"splenomegaly must be a section for every finding node",
    ),
    (
        "unknown diagnosis state",
        "findings.toml",
        _rename(*POLY[:2], "poems", "poem"),
        r"polyneuropathy\.given\.poem must be a state of diagnosis.*Did you mean 'poems'",
    ),
    (
        "missing diagnosis row",
        "findings.toml",
        _delete(*POLY),
        r"polyneuropathy\.given\.cidp must be a row for every state.*missing row",
    ),
    (
        "unknown parent state",
        "findings.toml",
        _rename("vegf_serum", "given", "raised", "risen"),
        r"vegf_serum\.given\.risen must be a state of cytokine_vegf",
    ),
    (
        "categorical sum",
        "findings.toml",
        _set("heavy_chain", "given", "poems", "probs", "IgA", 0.51),
        r"summing to 1",
    ),
    (
        "categorical tiny sum error",
        "latent.toml",
        _set("cytokine_vegf", "given", "cidp", "probs", "normal", 0.75 + 1e-8),
        r"summing to 1",
    ),
    (
        "categorical unknown state",
        "findings.toml",
        _rename("light_chain", "given", "lambda", "probs", "kappa", "kapa"),
        r"probs\.kapa must be a state among lambda, kappa.*Did you mean 'kappa'",
    ),
    (
        "p above one",
        "findings.toml",
        _set(*POLY, "p", 1.5),
        r"given\.cidp\.p must be a number in \[0, 1\]",
    ),
    (
        "p as percentage",
        "findings.toml",
        _set(*POLY, "p", 99.9),
        r"looks like a percentage: write 0\.999",
    ),
    (
        "p negative",
        "findings.toml",
        _set(*HEP_LEAK, "p", -0.1),
        r"leak\.p must be a number in \[0, 1\]",
    ),
    ("p NaN", "findings.toml", _set(*HEP_LEAK, "p", math.nan), r"NaN and inf"),
    ("p inf", "findings.toml", _set(*HEP_LEAK, "p", math.inf), r"NaN and inf"),
    ("p as string", "findings.toml", _set(*POLY, "p", "0.999"), r"Remove the quotes"),
    ("p as bool", "findings.toml", _set(*POLY, "p", True), r"p must be a number"),
    ("p missing", "findings.toml", _delete(*POLY, "p"), r"given\.cidp\.p must be a number.*Add p"),
    ("bare number", "findings.toml", _set(*POLY, 0.9), r"bare number has no provenance"),
    (
        "missing source",
        "findings.toml",
        _delete(*POLY, "source"),
        r"source must be a key of references",
    ),
    ("missing kind", "findings.toml", _delete(*POLY, "kind"), r"kind must be one of literature"),
    (
        "unknown source",
        "findings.toml",
        _set(*POLY, "source", "D3"),
        r"Got 'D3'.*Did you mean 'D03'",
    ),
    ("bad kind", "findings.toml", _set(*POLY, "kind", "literatur"), r"Did you mean 'literature'"),
    (
        "low above high",
        "findings.toml",
        _set(*HEP_LEAK, "low", 0.5),
        r"low must be at most high.*Swap",
    ),
    (
        "p outside range",
        "findings.toml",
        _set(*POLY, "high", 0.99),
        r"p must be inside \[low, high\]",
    ),
    ("only low", "findings.toml", _delete(*POLY, "high"), r"Give both low and high"),
    (
        "assumption without range",
        "findings.toml",
        lambda d: (
            d["polyneuropathy"]["given"]["cidp"].pop("low"),
            d["polyneuropathy"]["given"]["cidp"].pop("high"),
        ),
        r"assumption must say how unsure",
    ),
    ("n zero", "findings.toml", _set(*POLY, "n", 0), r"n must be a positive number"),
    (
        "n negative",
        "latent.toml",
        _set("plasma_cell_clone", "given", "poems", "n", -5),
        r"n must be a positive number",
    ),
    (
        "unknown parameter field",
        "findings.toml",
        _set(*POLY, "sourse", "D03"),
        r"sourse must be one of .*Did you mean 'source'",
    ),
    (
        "parents field",
        "findings.toml",
        _set("hepatomegaly", "parents", "diagnosis"),
        r"structure is fixed",
    ),
    (
        "missing model",
        "findings.toml",
        _delete("polyneuropathy", "model"),
        r"polyneuropathy\.model must be one of by_diagnosis",
    ),
    (
        "wrong model",
        "findings.toml",
        _set("polyneuropathy", "model", "noisy_or"),
        r"polyneuropathy is a direct node",
    ),
    (
        "noisy-or normal cause",
        "findings.toml",
        _set("hepatomegaly", "cause", "cytokine_vegf", "normal", {"p": 0.1}),
        r"off state",
    ),
    (
        "noisy-or missing cause",
        "findings.toml",
        _delete("hepatomegaly", "cause", "cytokine_vegf", "raised"),
        r"raised must be a cause",
    ),
    (
        "noisy-or unknown diagnosis cause",
        "findings.toml",
        _rename("hepatomegaly", "cause", "diagnosis", "al_amyloidosis", "amyloidosis"),
        r"Did you mean 'al_amyloidosis'",
    ),
    ("noisy-or missing leak", "findings.toml", _delete(*HEP_LEAK), r"leak must be a table"),
    (
        "settings do not sum",
        "settings.toml",
        _set("neuropathy_clinic", "probs", "poems", 0.09),
        r"neuropathy_clinic\.probs must be",
    ),
    (
        "setting missing state",
        "settings.toml",
        _delete("hematology_clinic", "probs", "cidp"),
        r"probs\.cidp must be present",
    ),
    (
        "unknown setting field",
        "settings.toml",
        _set("hematology_clinic", "lable", "x"),
        r"lable must be one of .*Did you mean 'label'",
    ),
    (
        "bad setting id",
        "settings.toml",
        _rename("hematology_clinic", "Hematology Clinic"),
        r"setting id must be lower-case",
    ),
    (
        "reference without citation",
        "references.toml",
        _delete("D03", "citation"),
        r"D03\.citation must be a non-empty string",
    ),
    (
        "reference field not a string",
        "references.toml",
        _set("D03", "year", 2003),
        r"D03\.year must be a string",
    ),
    (
        "published p outside range",
        "findings.toml",
        _set("hepatomegaly", "published", "poems", "p", 0.9),
        r"published\.poems\.p must be inside",
    ),
    (
        "published unknown diagnosis",
        "findings.toml",
        _rename("hepatomegaly", "published", "poems", "poem"),
        r"published\.poem must be a diagnosis",
    ),
    (
        "published unknown source",
        "findings.toml",
        _set("hepatomegaly", "published", "poems", "source", "nope"),
        r"a key of references\.toml",
    ),
    ("latent missing", "latent.toml", _delete("cytokine_vegf"), r"cytokine_vegf must be a section"),
]


@pytest.mark.parametrize(
    ("file", "change", "pattern"),
    [pytest.param(f, c, p, id=i) for i, f, c, p in DATA_CORRUPTIONS],
)
def test_data_corruption_is_rejected(
    tmp_path: Path, file: str, change: Callable[[Data], None], pattern: str
) -> None:
    folder = _copy(tmp_path)
    _edit(folder, file, change)
    with pytest.raises(PriorsError, match=pattern) as info:
        load_priors(folder)
    assert str(folder / file) in str(info.value)  # the file is named


def _append(name: str, text: bytes) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        with (folder / name).open("ab") as fh:
            fh.write(text)

    return change


def _duplicate_label(folder: Path) -> None:
    path = folder / "settings.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("[general_population]\n", '[general_population]\nlabel = "again"\n', 1),
        encoding="utf-8",
    )


TEXT_CORRUPTIONS: list[tuple[str, str, Callable[[Path], None], str]] = [
    ("missing file", "latent.toml", lambda f: (f / "latent.toml").unlink(), r"Create latent\.toml"),
    (
        "syntax error",
        "findings.toml",
        _append("findings.toml", b"\nbroken = = 1\n"),
        r"TOML syntax must be valid TOML.*line \d+",
    ),
    ("duplicate key", "settings.toml", _duplicate_label, r"TOML syntax.*line \d+"),
    (
        "not utf-8",
        "references.toml",
        _append("references.toml", b"\n# \xff\xfe\n"),
        r"file encoding must be UTF-8",
    ),
    (
        "file too large",
        "findings.toml",
        _append("findings.toml", b"#" * (2 * 1024 * 1024 + 10)),
        r"file size must be at most",
    ),
]


@pytest.mark.parametrize(
    ("file", "change", "pattern"),
    [pytest.param(f, c, p, id=i) for i, f, c, p in TEXT_CORRUPTIONS],
)
def test_file_corruption_is_rejected(
    tmp_path: Path, file: str, change: Callable[[Path], None], pattern: str
) -> None:
    folder = _copy(tmp_path)
    change(folder)
    with pytest.raises(PriorsError, match=pattern) as info:
        load_priors(folder)
    assert file in str(info.value)


def test_missing_folder_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(PriorsError, match=r"priors folder must be a folder holding.*--priors"):
        load_priors(tmp_path / "nowhere")


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("source", [FIXTURE, REAL], ids=["fixture", "real"])
def test_load_write_load_is_equal_and_idempotent(tmp_path: Path, source: Path) -> None:
    original = load_priors(source)
    first = tmp_path / "first"
    original.to_toml_files(str(first))
    again = load_priors(first)
    assert again == original
    assert again.canonical() == original.canonical()
    second = tmp_path / "second"
    again.to_toml_files(str(second))
    for name in ("references.toml", "settings.toml", "latent.toml", "findings.toml"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_priors_are_immutable(fixture_priors: Priors) -> None:
    with pytest.raises(TypeError):
        fixture_priors.settings["x"] = fixture_priors.settings["neuropathy_clinic"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        fixture_priors.settings = {}  # type: ignore[misc]


def test_every_parameter_has_provenance(fixture_priors: Priors) -> None:
    params = fixture_priors.parameters()
    assert len(params) > 300
    for p in params:
        assert p.source in fixture_priors.references
        assert p.kind in ("literature", "inferred", "assumption")
        assert 0.0 <= p.p <= 1.0


def test_with_overrides_rescales_a_categorical_row(fixture_priors: Priors) -> None:
    key = "latent.cytokine_vegf.given.poems.probs.markedly_raised"
    changed = fixture_priors.with_overrides({key: 0.5, "findings.hepatomegaly.leak": 0.2})
    row = changed.latent["cytokine_vegf"].given["poems"]
    assert isinstance(row, Categorical)
    # normal 0.03 and raised 0.22 keep their ratio and take the remaining 0.5
    assert row.probs["markedly_raised"] == 0.5
    assert row.probs["normal"] == pytest.approx(0.5 * 0.03 / 0.25, abs=1e-12)
    assert math.fsum(row.probs.values()) == pytest.approx(1.0, abs=1e-12)
    assert changed.findings["hepatomegaly"].leak.p == 0.2  # type: ignore[union-attr]
    assert fixture_priors.findings["hepatomegaly"].leak.p == 0.03  # type: ignore[union-attr]
    assert changed != fixture_priors


def test_with_overrides_rejects_unknown_key_with_suggestion(fixture_priors: Priors) -> None:
    with pytest.raises(PriorsError, match=r"Did you mean 'findings\.hepatomegaly\.leak'"):
        fixture_priors.with_overrides({"findings.hepatomegaly.leek": 0.1})
    with pytest.raises(PriorsError, match=r"\[0, 1\]"):
        fixture_priors.with_overrides({"findings.hepatomegaly.leak": 1.1})


def test_with_setting_adds_a_validated_user_setting(fixture_priors: Priors) -> None:
    rates = dict.fromkeys(fixture_priors.settings["neuropathy_clinic"].base_rates, 0.0)
    rates.update({"poems": 0.5, "cidp": 0.5})
    added = fixture_priors.with_setting("my_clinic", rates, label="My clinic")
    assert added.setting("my_clinic").base_rates["poems"] == 0.5
    assert "user" in added.references
    assert "my_clinic" not in fixture_priors.settings
    rates["poems"] = 0.6
    with pytest.raises(PriorsError, match="summing to 1"):
        fixture_priors.with_setting("bad_clinic", rates)
    with pytest.raises(PriorsError, match="Did you mean 'hematology_clinic'"):
        fixture_priors.setting("hematology_clinc")


def test_sample_distributions(fixture_priors: Priors) -> None:
    rng = np.random.default_rng(7)
    draws = fixture_priors.sample(4000, rng)
    assert set(draws) == set(fixture_priors.point_values())
    # n = 99, p = 0.95, range [0.27, 0.97]: Beta(94.05, 4.95) alone (sd ~0.022) would put its
    # 97.5 % quantile at ~0.985, above the cited 0.97, so the range binds: mean 0.95, a
    # narrower spread, 97.5 % quantile at 0.97
    lesion = draws["findings.sclerotic_bone_lesion.given.poems"]
    assert lesion.shape == (4000,)
    assert lesion.mean() == pytest.approx(0.95, abs=0.003)
    assert lesion.std() < 0.8 * math.sqrt(0.95 * 0.05 / 100)
    assert np.quantile(lesion, 0.975) == pytest.approx(0.97, abs=0.003)
    # p = 1 is held fixed
    assert np.all(draws["findings.polyneuropathy.given.poems"] == 1.0)
    # range only: mean p, central 95 % inside [0.015, 0.095]; p = 0.03 sits near the low end,
    # so the low end binds (2.5 % quantile at 0.015) and the upper tail stays inside
    leak = draws["findings.hepatomegaly.leak"]
    assert leak.mean() == pytest.approx(0.03, abs=0.002)
    assert 0.014 < np.quantile(leak, 0.025) < 0.03 < np.quantile(leak, 0.975) < 0.095
    # Dirichlet rows sum to one draw by draw
    total = sum(
        draws[f"latent.plasma_cell_clone.given.poems.probs.{s}"]
        for s in ("none", "lambda", "kappa")
    )
    assert np.allclose(total, 1.0, atol=1e-12)
    # zero states stay zero (mgus_neuropathy has no 'none' clone in the fixture)
    assert np.all(draws["latent.plasma_cell_clone.given.mgus_neuropathy.probs.none"] == 0.0)


def test_default_directory_env_then_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    from model.parameters import default_directory

    monkeypatch.delenv("POEMS_PRIORS_DIR", raising=False)
    assert default_directory() == REAL
    monkeypatch.setenv("POEMS_PRIORS_DIR", str(FIXTURE))
    assert default_directory() == FIXTURE
    assert load_priors() == load_priors(FIXTURE)


def test_range_only_parameter_near_one_end_keeps_its_mean(fixture_priors: Priors) -> None:
    """p = 0.375 in [0.35, 0.999]: the mean stays at p (no PERT shift towards the middle),
    the near end binds the central 95 %, and the shape has a, b >= 1."""
    from model.parameters.sampling import draw_for

    lopsided = Parameter("x", 0.375, "assumption", "FIX", low=0.35, high=0.999)
    draw = draw_for(lopsided)
    assert draw.method == "beta_range"
    assert draw.a is not None and draw.b is not None
    assert min(draw.a, draw.b) >= 1.0
    assert draw.mean == pytest.approx(0.375, abs=1e-12)
    central = draw.central()
    assert central is not None
    assert central[0] == pytest.approx(0.35, abs=1e-4) and central[1] < 0.999
    assert draw_for(fixture_priors.findings["hepatomegaly"].leak).method == "beta_range"  # type: ignore[arg-type]
