"""What the criteria engine returns: statuses, one criterion's result, a rule set's result."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from model.criteria.rulesets import Citation
from model.exceptions import InputError
from model.vocabulary import suggest

MET = "met"
NOT_MET = "not_met"
INDETERMINATE = "indeterminate"
STATUSES: tuple[str, str, str] = (MET, NOT_MET, INDETERMINATE)
INCONSISTENT = "inconsistent"
"""Used in ``could_change_with`` when setting the finding would contradict the case."""


@dataclass(frozen=True, init=False)
class CriterionResult:
    """The status of one criterion on one case.

    Attributes
    ----------
    id : the criterion id (a :class:`~model.vocabulary.Criterion` value).
    label : the rule set's wording.
    role : ``mandatory``, ``major`` or ``minor``.
    status : ``met``, ``not_met`` or ``indeterminate``.
    satisfied_by : finding ids that made it met (empty otherwise).
    note : why, in one line.
    """

    id: str
    label: str
    role: str
    status: str
    satisfied_by: tuple[str, ...]
    note: str

    def __init__(
        self, id: str, label: str, role: str, status: str, satisfied_by: tuple[str, ...], note: str
    ) -> None:
        # the fields written once into the instance's dictionary: what the generated frozen
        # __init__ does with one object.__setattr__ call per field (a rule set's criteria
        # are built on first read, some 30 per assessment)
        self.__dict__.update(
            id=id, label=label, role=role, status=status, satisfied_by=satisfied_by, note=note
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "role": self.role,
            "status": self.status,
            "satisfied_by": list(self.satisfied_by),
            "note": self.note,
        }


DEFERRED = ("criteria", "could_change_with", "explanation")
"""The fields of a result the engine makes that are built on first read."""


@dataclass(frozen=True)
class CriteriaResult:
    """A rule set's verdict on one case, with the trace that explains it.

    The results :func:`model.criteria.evaluate` and :func:`~model.criteria.evaluate_all`
    return build the :data:`DEFERRED` fields (``criteria``, ``could_change_with``,
    ``explanation``) each on its first read (:meth:`__getattr__`; the verdict and the flags
    are made at once): the one-finding-away search is most of a rule set's cost, and an
    assessment reads only the default rule set's criteria (the agreement text) until the
    results are shown or a next test's settling odds are read. Read, compared, copied or
    pickled, such a result is the same as one built whole.

    Attributes
    ----------
    rule_set : the rule set id.
    title : its title.
    citation : its source.
    verdict : ``met``, ``not_met`` or ``indeterminate``.
    criteria : every criterion's result, mandatory first, then major, then minor.
    could_change_with : for an indeterminate verdict, each unassessed finding that alone
        would decide it: ``{"finding", "if_present", "if_absent"}`` (verdicts after setting
        the finding, found by re-evaluating; ``"inconsistent"`` when the case forbids it).
    flags : ids from :data:`FLAG_TEXT`.
    explanation : plain-language lines.
    """

    rule_set: str
    title: str
    citation: Citation
    verdict: str
    criteria: tuple[CriterionResult, ...]
    could_change_with: tuple[dict[str, str], ...]
    flags: tuple[str, ...]
    explanation: tuple[str, ...]

    @classmethod
    def _deferred(
        cls,
        rule_set: str,
        title: str,
        citation: Citation,
        verdict: str,
        flags: tuple[str, ...],
        pending: Mapping[str, Callable[[CriteriaResult], Any]],
    ) -> CriteriaResult:
        """A result whose :data:`DEFERRED` fields are built on first read, each by its
        function in ``pending`` (given the result, so the explanation can read the others)."""
        result = object.__new__(cls)
        result.__dict__.update(
            rule_set=rule_set,
            title=title,
            citation=citation,
            verdict=verdict,
            flags=flags,
            _pending=pending,
        )
        return result

    def __getattr__(self, name: str) -> Any:
        """A deferred field (:meth:`_deferred`), built on first read (a field already built
        is found before this is asked)."""
        pending = self.__dict__.get("_pending")
        if pending is None or name not in pending:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = pending[name](self)
        self.__dict__[name] = value
        if all(field in self.__dict__ for field in pending):
            self.__dict__.pop("_pending", None)
        return value

    def __getstate__(self) -> dict[str, Any]:
        """The fields, deferred ones built (for pickle and copy: the pending calls are not
        kept)."""
        for name in self.__dict__.get("_pending", ()):
            getattr(self, name)
        return {k: v for k, v in self.__dict__.items() if k != "_pending"}

    def criterion(self, criterion_id: str) -> CriterionResult:
        """The result of one criterion by id."""
        for result in self.criteria:
            if result.id == criterion_id:
                return result
        raise InputError(
            "criterion id",
            criterion_id,
            "one of " + ", ".join(r.id for r in self.criteria),
            suggest(criterion_id, [r.id for r in self.criteria]),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_set": self.rule_set,
            "title": self.title,
            "citation": {
                "text": self.citation.text,
                "doi": self.citation.doi,
                "url": self.citation.url,
                "verified": self.citation.verified,
            },
            "verdict": self.verdict,
            "criteria": [c.to_dict() for c in self.criteria],
            "could_change_with": [dict(c) for c in self.could_change_with],
            "flags": list(self.flags),
            "explanation": list(self.explanation),
        }
