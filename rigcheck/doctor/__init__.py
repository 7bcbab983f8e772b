"""``rigcheck doctor``: pure checks over :class:`rigcheck.facts.Facts` that return findings.

``run_checks(facts, targets=...)`` runs every registered check and returns one
:class:`Finding` per check (ok / warn / fail / skip / crash). Nothing here touches the machine.
"""

from __future__ import annotations

from rigcheck.doctor.findings import CATEGORIES, STATUSES, Finding, summarize
from rigcheck.doctor.registry import Context, all_checks, run_checks

__all__ = ["CATEGORIES", "STATUSES", "Context", "Finding", "all_checks", "run_checks", "summarize"]
