"""Formal POEMS diagnostic criteria: rule sets as cited data, one three-valued engine.

Public API
----------
``RULE_SETS``: every rule set by id (``seed`` default, ``mayo_2019``, ``dispenzieri_2003``,
``suichi_2019``). ``evaluate(case, rule_set="seed")`` returns a :class:`CriteriaResult`;
``evaluate_all(case)`` one per rule set; ``criteria_json(case)`` the JSON the CLI prints.

Inside: ``rulesets`` (the rule sets as cited data, ``resolve_rule_set``) <- ``results``,
``criterion`` (one criterion's status), ``flags``, ``explain`` <- ``vectorised`` (the same
rules over many rows, tested equal) <- ``verdict`` (a rule set's verdict, and what would
decide it) <- ``engine`` (``evaluate``).
"""

from model.criteria.engine import (
    FLAG_TEXT,
    INDETERMINATE,
    MET,
    NOT_MET,
    STATUSES,
    CriteriaResult,
    CriterionResult,
    criteria_json,
    evaluate,
    evaluate_all,
    resolve_rule_set,
    verdict,
)
from model.criteria.rulesets import (
    DEFAULT_RULE_SET,
    RULE_SETS,
    Citation,
    CriterionDef,
    CriterionGroup,
    Role,
    RuleSet,
    VegfCutoff,
    VegfScale,
)

__all__ = [
    "DEFAULT_RULE_SET",
    "FLAG_TEXT",
    "INDETERMINATE",
    "MET",
    "NOT_MET",
    "RULE_SETS",
    "STATUSES",
    "Citation",
    "CriteriaResult",
    "CriterionDef",
    "CriterionGroup",
    "CriterionResult",
    "Role",
    "RuleSet",
    "VegfCutoff",
    "VegfScale",
    "criteria_json",
    "evaluate",
    "evaluate_all",
    "resolve_rule_set",
    "verdict",
]
