"""An assessment with every optional analysis filled in, for the one-page report (pure).

:func:`model.assessment.assess` may leave ``contributions``, ``next_tests`` and
``credible_interval`` empty; the app computes them per view, and the report wants them all.
:func:`completed` returns a *new* assessment (``dataclasses.replace``) with the missing ones
computed by :mod:`model.analysis` on the compiled engine; the original (possibly cached)
object is never changed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

INTERVAL_DRAWS = 400
INTERVAL_LEVEL = 0.9


def completed(assessment: Any, priors: Any) -> Any:
    """``assessment`` with contributions, next tests and the 90% interval filled in."""
    import numpy as np

    from model import analysis
    from model.inference.batch import engine_for

    engine = engine_for(priors, assessment.setting)
    evidence = dict(assessment.evidence)
    changes: dict[str, Any] = {}
    if assessment.contributions is None:
        changes["contributions"] = analysis.contributions(engine, evidence)
    if assessment.next_tests is None:
        changes["next_tests"] = analysis.next_tests(engine, evidence)
    if assessment.credible_interval is None:
        changes["credible_interval"] = analysis.credible_interval(
            priors,
            assessment.setting,
            evidence,
            n_draws=INTERVAL_DRAWS,
            level=INTERVAL_LEVEL,
            rng=np.random.default_rng(0),
        )
    return dataclasses.replace(assessment, **changes) if changes else assessment
