"""Shared pytest setup: hypothesis profiles.

CI (CI=true) derandomizes every property test: the same examples on every run and machine, so a
failure reproduces and the suite cannot go red by chance. Elsewhere each run draws new examples
(that is how new failures are found; hypothesis prints the seed to reproduce one). tools/mutate.py
selects "mutate": derandomized too, so the unmutated run and each mutant see the same examples.
HYPOTHESIS_PROFILE=<name> picks a profile explicitly.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("mutate", derandomize=True, database=None, deadline=None)
settings.register_profile("dev", deadline=None)

_chosen = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes") else "dev")
settings.load_profile(_chosen)
