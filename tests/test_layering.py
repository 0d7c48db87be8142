"""The import graph is layered: no arrow runs back up, and the core never imports the UI.

Layers, lowest first (a module may import its own layer and any layer below it):

    base          exceptions, constants, inputs, vocabulary, units, codes
    measurements  measurements
    case          case, case_columns (cases as columns), case_schema, fhir, cohort/format.py,
                  plausibility (suspicious combinations of a case's findings),
                  and the network contract (network/structure.py: nodes and states, which
                  both the priors and the network code read)
    rules         criteria/, parameters/
    network       network/ (tables, builder, evidence, evidence codes)
    inference     inference/, cohort/ (the scorer)
    analysis      analysis/
    assessment    assessment
    products      report, export, bench, evaluation/, teaching/
    interface     cli/, ui/, pages/, app.py

Every import is parsed, including those inside functions (a function-level import still is an
arrow; hiding it does not make it go away). A failure names the importing file and line, the
imported module and both layers.

Imports sit at the top of their module, where a reader sees what a module depends on. An
import inside a function is allowed only for a heavy or optional third-party package
(:data:`LAZY_PACKAGES`, each with its reason) or for the project module named in
:data:`LAZY_MODULES` that loads such a package as it is imported. The command line picks its
subcommand module with ``importlib`` (``model/cli/__init__.py``), so ``poems --version``
imports no subcommand and none of the heavy packages.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[1]

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "base",
        (
            "model.exceptions",
            "model.constants",
            "model.inputs",
            "model.vocabulary",
            "model.units",
            "model.codes",
            "model.formatting",
        ),
    ),
    ("measurements", ("model.measurements",)),
    (
        "case",
        (
            "model.case",
            "model.case_columns",
            "model.case_schema",
            "model.fhir",
            "model.cohort.format",
            "model.network.structure",
            "model.plausibility",
        ),
    ),
    ("rules", ("model.criteria", "model.parameters")),
    ("network", ("model.network",)),
    ("inference", ("model.inference", "model.cohort")),
    ("analysis", ("model.analysis",)),
    ("assessment", ("model.assessment",)),
    (
        "products",
        (
            "model.report",
            "model.export",
            "model.bench",
            "model.bench_cohort",
            "model.evaluation",
            "model.teaching",
        ),
    ),
    ("interface", ("model.cli", "model.__main__", "ui", "pages", "app")),
)

UI_ONLY = ("streamlit", "ui", "pages", "app")
"""What ``model/`` must never import."""

KNOWN: dict[tuple[str, str], str] = {}
"""Arrows that run back up today, each with the change that removes it. The test fails when
one disappears, so the list is kept honest."""


LAZY_PACKAGES: dict[str, str] = {
    "pandas": "about a second to import; cohort and evaluation code paths that need a frame",
    "pyarrow": "cohort files only (CSV/Parquet reader and writer); a case never needs it",
    "pgmpy": "seconds to import; only the reference engine and the XMLBIF/BIF export use it",
    "pyagrum": "optional (a dev dependency): the benchmark's second reference engine",
    "numba": "compiles on import; only the compiled engine's optional kernel",
    "matplotlib": "only when a figure is drawn (evaluation plots)",
    "scipy": "only the statistics that need it",
    "dask": "optional extra: the Dask partition scorer",
    "distributed": "optional extra: the Dask partition scorer",
    "playwright": "browser tests only",
    "pint": "about a second to import; only unit conversion of an unusual unit",
    "tqdm": "progress bars only when a long run shows one",
    "tomlkit": "only when priors files are written (comment-preserving TOML)",
}
"""Third-party packages that may be imported inside a function, each with the reason."""

LAZY_MODULES: dict[tuple[str, str], str] = {
    ("model/inference/exact.py", "model.network.builder"): (
        "builds the pgmpy model, so importing it imports pgmpy (seconds); the compiled engine "
        "answers every case without it"
    ),
}
"""Project modules that may be imported inside a function (file, module): only those whose
import loads a package of :data:`LAZY_PACKAGES`, each with the reason."""

HEAVY_FOR_VERSION = ("pandas", "scipy", "pgmpy", "pyarrow", "matplotlib", "numba", "numpy")
"""What ``poems --version`` must not import."""


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    path: str
    line: int
    lazy: bool


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    if parts[0] == "pages":
        return "pages." + parts[-1]
    return ".".join(parts)


def _files() -> list[Path]:
    files = [*(ROOT / "model").rglob("*.py"), *(ROOT / "ui").rglob("*.py")]
    files += [*(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
    return sorted(f for f in files if f.is_file())


def _arrows(path: Path) -> list[Arrow]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    source = _module_name(path)
    top_level = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            out.append(
                Arrow(
                    source,
                    name,
                    str(path.relative_to(ROOT)),
                    node.lineno,
                    id(node) not in top_level,
                )
            )
    return out


def layer_of(module: str) -> int | None:
    """Index of the layer of a project module (the longest matching prefix); None if external."""
    if module == "model":
        return len(LAYERS) - 1  # the package docstring only
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[1]):
                best = (index, len(prefix))
    return None if best is None else best[0]


def _project_module(name: str) -> str | None:
    """The project module an imported name refers to (``from model.case import Case`` names
    ``model.case``; ``from model import measurements`` names ``model.measurements``)."""
    candidate = name
    while candidate:
        path = ROOT / Path(*candidate.split("."))
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return candidate
        candidate = candidate.rpartition(".")[0]
    return None


def judge(arrow: Arrow) -> tuple[tuple[str, str], str] | None:
    """The violation an import is (key and message), or ``None`` when it is allowed."""
    if arrow.source.startswith("model") and arrow.target.split(".")[0] in UI_ONLY:
        key = (arrow.source, arrow.target)
        return key, f"{arrow.path}:{arrow.line}: model/ imports the UI ({arrow.target})"
    target = _project_module(arrow.target)
    if target is None or target == "model":
        return None
    low, high = layer_of(target), layer_of(arrow.source)
    if low is None or high is None or low <= high:
        return None
    where = " inside a function" if arrow.lazy else ""
    return (arrow.source, target), (
        f"{arrow.path}:{arrow.line}: {arrow.source} ({LAYERS[high][0]}) imports "
        f"{target} ({LAYERS[low][0]}){where}"
    )


def violations() -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for path in _files():
        for arrow in _arrows(path):
            verdict = judge(arrow)
            if verdict is not None and verdict[0] not in found:
                found[verdict[0]] = verdict[1]
    return found


def test_no_import_runs_back_up_the_layers() -> None:
    found = violations()
    new = {key: text for key, text in found.items() if key not in KNOWN}
    assert not new, "imports that run back up the layering:\n" + "\n".join(sorted(new.values()))


def test_the_known_exceptions_still_exist() -> None:
    found = violations()
    gone = [f"{a} -> {b}" for a, b in KNOWN if (a, b) not in found]
    assert not gone, f"remove from KNOWN, the arrow is gone: {gone}"


def test_every_module_has_a_layer() -> None:
    missing = [_module_name(p) for p in _files() if layer_of(_module_name(p)) is None]
    assert not missing, f"add these modules to LAYERS: {missing}"


def test_the_checker_catches_an_arrow_back_up() -> None:
    """The test can fail: a vocabulary importing the case, or the core importing streamlit."""
    up = judge(Arrow("model.vocabulary", "model.case.Case", "model/vocabulary.py", 9, True))
    assert up is not None
    assert up[1] == (
        "model/vocabulary.py:9: model.vocabulary (base) imports model.case (case) inside a function"
    )
    ui = judge(Arrow("model.report", "streamlit", "model/report.py", 3, False))
    assert ui is not None and "model/ imports the UI" in ui[1]
    assert (
        judge(Arrow("model.case", "model.vocabulary.FINDINGS", "model/case.py", 1, False)) is None
    )
    assert judge(Arrow("ui.render", "model.assessment", "ui/render.py", 1, False)) is None
    contract, tables = layer_of("model.network.structure"), layer_of("model.network.tables")
    loader, priors = layer_of("model.parameters.loader"), layer_of("model.parameters.priors")
    assert contract is not None and loader is not None and priors is not None
    assert tables is not None and contract < loader <= priors < tables


def _function_level_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import statement inside a function body."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name) for alias in child.names)
            elif in_function and isinstance(child, ast.ImportFrom):
                found.append((child.lineno, "." * child.level + (child.module or "")))
            function = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit(child, in_function or function)

    visit(tree, False)
    return found


def lazy_import_verdict(path: str, module: str) -> str | None:
    """Why a function-level import is wrong, or ``None`` when the rule allows it."""
    if module.split(".")[0] in LAZY_PACKAGES or (path, module) in LAZY_MODULES:
        return None
    return (
        f"{path}: 'import {module}' inside a function; move it to the top of the module "
        "(or, for a heavy third-party package, add it to LAZY_PACKAGES with the reason)"
    )


def test_imports_sit_at_the_top_of_their_module() -> None:
    wrong = []
    for path in _files():
        rel = str(path.relative_to(ROOT))
        for line, module in _function_level_imports(path):
            verdict = lazy_import_verdict(rel, module)
            if verdict is not None:
                wrong.append(verdict.replace(f"{rel}:", f"{rel}:{line}:", 1))
    assert not wrong, "function-level imports:\n" + "\n".join(wrong)


def test_every_allowed_lazy_project_import_still_exists() -> None:
    present = {
        (str(path.relative_to(ROOT)), module)
        for path in _files()
        for _, module in _function_level_imports(path)
    }
    gone = [key for key in LAZY_MODULES if key not in present]
    assert not gone, f"remove from LAZY_MODULES, the import is gone: {gone}"


def test_the_lazy_import_rule_can_fail() -> None:
    assert lazy_import_verdict("model/units.py", "pint") is None
    assert lazy_import_verdict("model/cohort/format.py", "pyarrow.parquet") is None
    assert lazy_import_verdict("model/inference/exact.py", "model.network.builder") is None
    wrong = lazy_import_verdict("ui/compute.py", "model.assessment")
    assert wrong is not None and "'import model.assessment' inside a function" in wrong
    assert lazy_import_verdict("model/report.py", "importlib.metadata") is not None
    assert lazy_import_verdict("model/bench.py", "model.network.builder") is not None
    sample = ROOT / "tests" / "test_layering.py"
    lines = [module for _, module in _function_level_imports(sample)]
    assert lines == [], "this file has no function-level import"


def test_version_imports_no_heavy_package() -> None:
    """``poems --version`` answers from the metadata alone: no subcommand, no heavy library."""
    probe = (
        "import sys; from model.cli import main; main(['--version']); "
        f"print([m for m in {HEAVY_FOR_VERSION!r} if m in sys.modules])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert proc.stdout.splitlines()[-1] == "[]", proc.stdout
