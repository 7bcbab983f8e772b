"""The check modules, one per category. Importing this package registers every check."""

from __future__ import annotations

from rigcheck.doctor.checks import (  # noqa: F401  (imported for their registrations)
    containers_wsl,
    cuda_torch_build,
    driver,
    gpu_health,
    libraries,
    llm_stack,
    pcie_topology,
    performance,
    platform,
    readiness,
    system,
)
from rigcheck.doctor.signatures import _finder  # noqa: F401  (registers the "signatures" finder)
