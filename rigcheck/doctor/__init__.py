"""``rigcheck doctor``: pure checks over :class:`rigcheck.facts.Facts` that return findings.

``run_checks(facts, targets=...)`` runs every registered check and returns one
:class:`Finding` per check (ok / warn / fail / skip / crash). Nothing here touches the machine.
"""

from __future__ import annotations

from rigcheck.doctor.findings import CATEGORIES, STATUSES, Finding, summarize
from rigcheck.doctor.registry import Context, all_checks, run_checks

# Importing the check modules registers them; done here, not in the registry, so that the
# registry and the checks that import it are no import cycle.
from rigcheck.doctor import checks  # noqa: E402, F401  isort: skip

__all__ = ["CATEGORIES", "STATUSES", "Context", "Finding", "all_checks", "run_checks", "summarize"]
