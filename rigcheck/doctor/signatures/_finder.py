"""The signature matcher registered as the doctor's finder ``signatures`` (one finding per hit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rigcheck.doctor.findings import Finding
from rigcheck.doctor.registry import Context, finder
from rigcheck.doctor.signatures._match import findings

if TYPE_CHECKING:
    from rigcheck.facts import Facts


@finder("signatures", "libraries", "known error messages in the paste")
def signature_findings(facts: Facts, ctx: Context) -> list[Finding]:
    return findings(facts)
