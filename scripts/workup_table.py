"""The work-up on the classic starting points (docs/model-card.md, section 3e)::

.venv/bin/python scripts/workup_table.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.analysis.workup import workup
from model.case import Case
from model.inference.engine import engine_for, resolve
from model.network.evidence import evidence_for

STARTS = {
    '"CIDP" not responding to IVIG': (
        {"polyneuropathy": "present", "demyelinating_ncs": "present"},
        "neuropathy_clinic",
    ),
    "neuropathy with a lambda band": (
        {"polyneuropathy": "present", "monoclonal_protein": "present", "light_chain": "lambda"},
        "paraproteinemic_neuropathy",
    ),
    "incidental sclerotic lesion": ({"sclerotic_bone_lesion": "present"}, "hematology_clinic"),
}


def main() -> None:
    for name, (findings, setting) in STARTS.items():
        case = Case.from_dict({"setting": setting, "findings": findings})
        priors, chosen = resolve(case, None, None)
        w = workup(case, engine_for(priors, chosen), evidence_for(case))
        steps = ", ".join(f"{i.test} ({i.tier})" for i in w.items) or w.message
        print(f"| {name} | {setting} | {steps} |")


if __name__ == "__main__":
    main()
