"""The Network and Priors pages, driven with AppTest and compared with the core (the edit loop
of the Priors page is in ``test_app_workspaces.py``)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from streamlit.testing.v1 import AppTest

import model.assessment  # noqa: F401  (pays pgmpy's slow import outside AppTest's timeout)
from model.assessment import percent
from model.case import Case
from model.inference.exact import marginals
from model.parameters import load_priors
from ui import state
from ui.priors_io import priors_from_zip

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "lambda_clone_with_amyloid.json"
TIMEOUT = 30


def on_page(page: str, example: Path = EXAMPLE) -> tuple[AppTest, Case]:
    case = Case.load(example)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.query_params[state.LINK_PARAM] = state.encode_case(case)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    assert [e.value for e in at.error] == []
    return at, case


def test_network_page_shows_every_nodes_posterior_as_the_core_computes_it() -> None:
    at, case = on_page("pages/1_Network.py")
    table = at.main.dataframe[0].value
    expected = marginals(case, priors=load_priors())
    assert set(table["node"]) == set(expected)
    for node, shown in zip(table["node"], table["posterior"], strict=True):
        assert shown == "; ".join(f"{s}: {percent(p)}" for s, p in expected[node].items())
    observed = dict(zip(table["node"], table["observed"], strict=True))
    assert observed["amyloid_on_biopsy"] == "present"
    assert observed["castleman_disease"] == ""


def test_priors_page_lists_every_parameter_with_its_provenance() -> None:
    at, _ = on_page("pages/2_Priors.py")
    table = at.main.dataframe[0].value
    parameters = load_priors().parameters()
    assert list(table["key"]) == [p.key for p in parameters]
    assert list(table["source"]) == [p.source for p in parameters]
    assert list(table["kind"]) == [p.kind for p in parameters]


def test_downloaded_priors_zip_loads_back_to_the_same_priors() -> None:
    default = load_priors()
    modified = default.with_overrides({"settings.neuropathy_clinic.probs.poems": 0.3})
    from ui.priors_io import priors_zip

    data = priors_zip(modified)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
    assert names == [
        "priors/findings.toml",
        "priors/latent.toml",
        "priors/references.toml",
        "priors/settings.toml",
    ]
    back = priors_from_zip(data)
    assert back == modified
    assert back != default
    assert priors_zip(modified) == data  # deterministic bytes


def test_a_damaged_priors_zip_is_a_priors_error() -> None:
    import pytest

    from model.exceptions import PriorsError
    from ui.priors_io import priors_zip

    data = bytearray(priors_zip(load_priors()))
    with pytest.raises(PriorsError, match="priors zip must be a zip file"):
        priors_from_zip(b"not a zip")
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)  # corrupt a compressed member
    with pytest.raises(PriorsError, match="priors zip"):
        priors_from_zip(bytes(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("priors/references.toml", "")
    with pytest.raises(PriorsError, match=r"Missing: settings\.toml, latent\.toml, findings\.toml"):
        priors_from_zip(buffer.getvalue())
