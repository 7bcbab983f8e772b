"""Shared pytest setup: hypothesis profiles, and a user data folder of the suite's own.

CI (CI=true) derandomizes every property test: the same examples on every run and machine, so a
failure reproduces and the suite cannot go red by chance. Elsewhere each run draws new examples
(that is how new failures are found; hypothesis prints the seed to reproduce one). tools/mutate.py
selects "mutate": derandomized too, so the unmutated run and each mutant see the same examples.
HYPOTHESIS_PROFILE=<name> picks a profile explicitly.

RIGCHECK_DATA_DIR points at a fresh temporary folder for the whole run, so a developer's own
bench history or `rigcheck catalog import` overlay never changes what a test sees (tests that
need their own folder still set it with monkeypatch).
"""

from __future__ import annotations

import os
import tempfile

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("mutate", derandomize=True, database=None, deadline=None)
settings.register_profile("dev", deadline=None)

_chosen = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes") else "dev")
settings.load_profile(_chosen)

os.environ["RIGCHECK_DATA_DIR"] = tempfile.mkdtemp(prefix="rigcheck-test-data-")
