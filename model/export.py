"""Export the network for other tools: BIF, XMLBIF and Hugin NET (written by pgmpy) and
GeNIe's XDSL.

XDSL is written here (:func:`to_xdsl`) from the named tables. GeNIe/SMILE lists a node's
probabilities parent configuration by parent configuration, the *last* parent varying
fastest, and within a configuration the node's own states fastest of all — the transpose of
pgmpy's (states x configurations) array, whose columns already have the first parent
slowest. Node and state ids must be SMILE identifiers (a letter, then letters, digits or
underscores). Deterministic aggregates are written as ordinary CPTs of zeros and ones.

A setting defined by findings (``Setting.implies``, e.g. a polyneuropathy in a neuropathy
clinic) exports its diagnosis table as the population *before* that selection; enter the
defining findings as evidence in the other tool (those in ``priors/settings.toml``, i.e.
``priors.setting(setting).implies``; :func:`model.network.evidence.with_setting` adds them to an
evidence dict), except the ones the patient's findings contradict, to get this tool's posteriors.
The tables are written in full precision (pgmpy's own NET writer rounds to 8 decimals, too
coarse for a root divided by the selection's probability).

Readers (checked in ``tests/test_export.py``): pgmpy reads all four back to the same
posteriors. pyAgrum reads BIF, Hugin NET and XMLBIF (pyAgrum only knows XMLBIF by the file
extension ``.bifxml``, which is why the app names its download so) to the same posteriors, but
pyAgrum 3.3 reads *any* XDSL file, GeNIe's own included, with the parents' order reversed
(first parent fastest): for a node with two or more parents it silently gives wrong tables. Use
BIF, NET or ``.bifxml`` with pyAgrum; use XDSL for GeNIe/SMILE.
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np

from model.exceptions import InputError
from model.network.builder import build_network
from model.network.structure import NODES
from model.network.tables import NodeTable, build_tables
from model.parameters import Priors
from model.vocabulary import suggest

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.readwrite import BIFWriter, NETWriter, XMLBIFWriter


class _FullPrecisionNETWriter(NETWriter):
    """pgmpy's NET writer rounds to 8 decimals; write every table value round-trip exact."""

    def net_cpd(self, var_name: str) -> str:
        cpt = np.moveaxis(np.asarray(self.tables[var_name], dtype=float), 0, -1)
        text = np.array2string(
            cpt,
            threshold=sys.maxsize,
            max_line_width=sys.maxsize,
            floatmode="unique",
            formatter={"float_kind": lambda v: repr(float(v))},
        )
        return text.replace("[", "(").replace("]", ")")


FORMATS: tuple[str, ...] = ("bif", "xmlbif", "xdsl", "net")
SUFFIXES: dict[str, str] = {"bif": ".bif", "xmlbif": ".bifxml", "xdsl": ".xdsl", "net": ".net"}
"""File name endings other tools recognise (pyAgrum reads XMLBIF only as ``.bifxml``)."""
MEDIA_TYPES: dict[str, str] = {
    "bif": "text/plain",
    "xmlbif": "application/xml",
    "xdsl": "application/xml",
    "net": "text/plain",
}
_SMILE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_GRID = (170, 60)
"""GeNIe layout: column width and row height of the node grid (pixels)."""


def _check_id(kind: str, value: str) -> str:
    if not _SMILE_ID.match(value):
        raise InputError(
            f"XDSL {kind} id", value, "a letter followed by letters, digits or underscores"
        )
    return value


def _layout() -> dict[str, tuple[int, int]]:
    """Grid positions: one row per depth in the graph, nodes left to right."""
    depth: dict[str, int] = {}
    for spec in NODES.values():
        depth[spec.name] = 1 + max((depth[p] for p in spec.parents), default=-1)
    column: dict[int, int] = {}
    positions = {}
    for name, d in depth.items():
        column[d] = column.get(d, 0) + 1
        positions[name] = ((column[d] - 1) % 10, 2 * d + (column[d] - 1) // 10)
    return positions


def to_xdsl(tables: dict[str, NodeTable], network_id: str = "poems_network") -> str:
    """XDSL text for point tables (see the module docstring for the ordering)."""
    root = ET.Element(
        "smile",
        {
            "version": "1.0",
            "id": _check_id("network", network_id),
            "numsamples": "10000",
            "discsamples": "10000",
        },
    )
    nodes = ET.SubElement(root, "nodes")
    for name, table in tables.items():
        if table.batch_shape:
            raise InputError("table batch shape", table.batch_shape, "empty (point tables)")
        cpt = ET.SubElement(nodes, "cpt", {"id": _check_id("node", name)})
        for state in table.states:
            ET.SubElement(cpt, "state", {"id": _check_id("state", state)})
        if table.parents:
            ET.SubElement(cpt, "parents").text = " ".join(table.parents)
        values = table.array.T.ravel()  # configurations (last parent fastest), states fastest
        ET.SubElement(cpt, "probabilities").text = " ".join(repr(float(v)) for v in values)
    extensions = ET.SubElement(root, "extensions")
    genie = ET.SubElement(
        extensions,
        "genie",
        {"version": "1.0", "app": "poems-dx", "name": "POEMS syndrome decision support"},
    )
    for name, (col, row) in _layout().items():
        if name not in tables:
            continue
        node = ET.SubElement(genie, "node", {"id": name})
        ET.SubElement(node, "name").text = name
        ET.SubElement(node, "interior", {"color": "e5f6f7"})
        ET.SubElement(node, "outline", {"color": "000080"})
        ET.SubElement(node, "font", {"color": "000000", "name": "Arial", "size": "8"})
        x, y = col * _GRID[0] + 20, row * _GRID[1] + 20
        ET.SubElement(node, "position").text = f"{x} {y} {x + 150} {y + 40}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def read_xdsl_tables(text: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...], list[float]]]:
    """Node -> (states, parents, probabilities as listed) from XDSL text (for checks)."""
    root = ET.fromstring(text)
    nodes = root.find("nodes")
    if nodes is None:
        raise InputError("XDSL", "no <nodes>", "a <smile> document with <nodes>")
    out = {}
    for cpt in nodes.findall("cpt"):
        states = tuple(s.attrib["id"] for s in cpt.findall("state"))
        parents_el = cpt.find("parents")
        parents = (
            tuple(parents_el.text.split()) if parents_el is not None and parents_el.text else ()
        )
        probs_el = cpt.find("probabilities")
        probs = [float(x) for x in (probs_el.text or "").split()] if probs_el is not None else []
        out[cpt.attrib["id"]] = (states, parents, probs)
    return out


def network_text(priors: Priors, setting: str, fmt: str) -> str:
    """The network for ``setting`` as text in ``fmt`` (bif, xmlbif, xdsl or net)."""
    if fmt not in FORMATS:
        raise InputError("format", fmt, "one of " + ", ".join(FORMATS), suggest(fmt, FORMATS))
    priors.setting(setting)  # unknown settings raise with a suggestion
    if fmt == "xdsl":
        return to_xdsl(build_tables(priors, setting))
    model = build_network(priors, setting).copy()  # the cached model is shared: name a copy
    model.name = f"poems_{setting}"
    writers = {"bif": BIFWriter, "xmlbif": XMLBIFWriter, "net": _FullPrecisionNETWriter}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(writers[fmt](model))


def export_network(priors: Priors, setting: str, fmt: str, path: str | Path) -> Path:
    """Write the network for ``setting`` to ``path`` in ``fmt`` (bif, xmlbif, xdsl or net)."""
    target = Path(path)
    text = network_text(priors, setting, fmt)
    if not target.parent.is_dir():
        raise InputError(
            "output file", str(target), "a path in an existing folder", "Create the folder first."
        )
    target.write_text(text, encoding="utf-8")
    return target
