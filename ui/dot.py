"""The network as a Graphviz DOT string, each node showing its posterior for the case.

Pure (no streamlit): :func:`network_dot` takes the structure, the posterior marginals and the
evidence that the core returned, and only formats them. Nodes are grouped in clusters by the
vocabulary's groups so the 56-node graph reads left to right: diagnosis, the two latent
causes, then the findings by group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

_OBSERVED_FILL = "#d9d9d9"
_LOW = (255, 255, 255)
_HIGH = (76, 120, 168)  # the differential chart's bar colour


class NodeLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def states(self) -> tuple[str, ...]: ...

    @property
    def parents(self) -> tuple[str, ...]: ...


def quote(text: str) -> str:
    """A DOT double-quoted string (backslashes, quotes and newlines escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def shade(p: float) -> str:
    """Fill colour for a probability: white at 0, the bar blue at 1."""
    t = min(max(p, 0.0), 1.0)
    rgb = tuple(round(lo + (hi - lo) * t) for lo, hi in zip(_LOW, _HIGH, strict=True))
    return "#" + "".join(f"{channel:02x}" for channel in rgb)


def _focus_probability(states: Sequence[str], marginal: Mapping[str, float]) -> float:
    """The probability a node's colour shows: P(present) for a finding, else the top state."""
    if "present" in marginal:
        return marginal["present"]
    return max(marginal[s] for s in states)


def node_label(
    name: str,
    title: str,
    states: Sequence[str],
    marginal: Mapping[str, float],
    observed: str | None,
    fmt: Callable[[float], str],
    max_states: int = 3,
) -> str:
    """The text inside a node: its title, then the observed state or the top posteriors."""
    if observed is not None:
        return f"{title}\nobserved: {observed.replace('_', ' ')}"
    if "present" in marginal and len(states) == 2:
        return f"{title}\nP(present) {fmt(marginal['present'])}"
    ranked = sorted(states, key=lambda s: -marginal[s])[:max_states]
    lines = [f"{s.replace('_', ' ')} {fmt(marginal[s])}" for s in ranked]
    return "\n".join([title, *lines])


def network_dot(
    nodes: Sequence[NodeLike],
    marginals: Mapping[str, Mapping[str, float]],
    evidence: Mapping[str, str],
    titles: Mapping[str, str],
    clusters: Mapping[str, str],
    fmt: Callable[[float], str],
) -> str:
    """DOT source of the network.

    Parameters
    ----------
    nodes : every node (name, states, parents), parents before children.
    marginals : node -> state -> posterior probability (as the core computed it).
    evidence : node -> observed state.
    titles : node -> display title.
    clusters : node -> cluster title (nodes without one stay outside clusters).
    fmt : probability formatter (the core's ``percent``).
    """
    lines = [
        "digraph poems {",
        '  graph [rankdir=LR, ranksep=1.1, nodesep=0.12, fontname="Helvetica", fontsize=11];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, '
        'margin="0.08,0.03"];',
        '  edge [color="#9a9a9a", arrowsize=0.5];',
    ]
    grouped: dict[str, list[NodeLike]] = {}
    loose: list[NodeLike] = []
    for node in nodes:
        cluster = clusters.get(node.name)
        (grouped.setdefault(cluster, []) if cluster else loose).append(node)

    def emit(node: NodeLike, indent: str) -> None:
        observed = evidence.get(node.name)
        marginal = marginals.get(node.name, {})
        if marginal:
            text = node_label(
                node.name, titles.get(node.name, node.name), node.states, marginal, observed, fmt
            )
        else:
            text = titles.get(node.name, node.name)
        if observed is not None:
            style = f'fillcolor="{_OBSERVED_FILL}", penwidth=2'
        elif marginal:
            style = f'fillcolor="{shade(_focus_probability(node.states, marginal))}"'
        else:
            style = 'fillcolor="#ffffff"'
        lines.append(f"{indent}{quote(node.name)} [label={quote(text)}, {style}];")

    for node in loose:
        emit(node, "  ")
    for index, (cluster, members) in enumerate(grouped.items()):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label={quote(cluster)}; style="rounded"; color="#cccccc";')
        for node in members:
            emit(node, "    ")
        lines.append("  }")
    for node in nodes:
        for parent in node.parents:
            lines.append(f"  {quote(parent)} -> {quote(node.name)};")
    lines.append("}")
    return "\n".join(lines) + "\n"
