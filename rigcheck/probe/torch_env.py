"""PyTorch facts, read in a child process so that torch cannot take the probe down.

``import torch`` runs native code: a broken CUDA install raises ``OSError`` while loading
libraries, a driver/runtime mismatch can hang ``torch.cuda.is_available()``, and a bad wheel can
segfault. So :func:`collect_torch` runs ``_torch_child.py`` with the user's interpreter
(``sys.executable`` by default) under a timeout and reads one JSON line back. What can go wrong,
and what the facts then say:

- torch not installed: ``installed=False``, ``error=None`` (a valid state, not a probe failure);
- import raised (ImportError with the distribution present, OSError, ...): ``error`` has the text;
- the child segfaulted or was killed: ``error="torch probe killed by SIGSEGV"``;
- the child hung: killed after ``timeout_s``, ``error="timed out after 20 s"``;
- the child printed no facts line or bad JSON: ``error="torch probe printed no facts: ..."``.

Fields the child could not read are listed in the returned ``errors`` (field -> why); the
collector files them under ``Facts.not_collected`` as ``torch.<field>``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rigcheck.facts import FactsError, TorchFacts, from_dict
from rigcheck.probe.commands import CommandResult, Runner, describe_failure, run

CHILD_SCRIPT = Path(__file__).with_name("_torch_child.py")
MARKER = "RIGCHECK_TORCH_FACTS "  # must match _torch_child.MARKER
TORCH_TIMEOUT_S = 20.0
# NumPy 2's C-API guard prints this to stderr when an extension built against NumPy 1.x is
# imported (seen with torch 2.4.0 and NumPy 2.1.0 in pytorch/pytorch#135013, followed by
# "AttributeError: _ARRAY_API not found").
_NUMPY_ABI_TEXT = "compiled using NumPy 1.x"


def parse_child_output(result: CommandResult) -> tuple[TorchFacts, dict[str, str]]:
    """Turn the child's output (or its failure) into facts; never raises."""
    if result.error:  # timed out, or the interpreter could not start
        return TorchFacts(error=result.error), {}
    line = next(
        (ln for ln in reversed(result.stdout.splitlines()) if ln.startswith(MARKER)), None
    )
    if line is None:
        why = describe_failure(result) if not result.ok else "no facts line in its output"
        if result.returncode is not None and result.returncode < 0:
            why = f"torch probe {why}"
        else:
            why = f"torch probe printed no facts: {why}"
        return TorchFacts(error=why), {}
    try:
        data: Any = json.loads(line[len(MARKER):])
        if not isinstance(data, dict):
            raise ValueError(f"expected an object, got {type(data).__name__}")
        errors = data.pop("errors", None) or {}
        torch = from_dict({"schema_version": 1, "torch": data}, "torch probe").torch
    except (ValueError, FactsError) as exc:
        return TorchFacts(error=f"torch probe printed malformed facts: {exc}"), {}
    if torch.installed is False and torch.error and "No module named 'torch'" in torch.error:
        torch.error = None  # not installed is a state the doctor reports, not a probe failure
    if not torch.numpy_error and _NUMPY_ABI_TEXT in result.stderr:
        line = next(ln for ln in result.stderr.splitlines() if _NUMPY_ABI_TEXT in ln)
        torch.numpy_error = line.strip()[:300]
    if result.returncode not in (0, None):  # printed facts, then crashed at exit
        errors.setdefault("exit", describe_failure(result))
    return torch, {str(k): str(v) for k, v in dict(errors).items()}


def _probe(argv: list[str], timeout_s: float, runner: Runner | None) -> CommandResult:
    if runner is not None:
        return runner(argv, timeout_s)
    # Only make sure the child's output is UTF-8 whatever the locale.
    return run(argv, timeout_s, env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def other_pythons(which: Callable[[str], str | None] = shutil.which) -> list[str]:
    """``python3``/``python`` on PATH that are not this interpreter (e.g. rigcheck runs from a
    pipx venv while torch lives in the active conda env)."""
    own = os.path.realpath(sys.executable)
    found: list[str] = []
    for name in ("python3", "python"):
        path = which(name)
        if path and os.path.realpath(path) != own and path not in found:
            found.append(path)
    return found


def collect_torch(
    *,
    python: str | None = None,
    python_args: Sequence[str] = (),
    timeout_s: float = TORCH_TIMEOUT_S,
    script: str | os.PathLike[str] = CHILD_SCRIPT,
    runner: Runner | None = None,
    which: Callable[[str], str | None] = shutil.which,
) -> tuple[TorchFacts, dict[str, str]]:
    """Probe torch in ``python`` (default: this interpreter). Returns (facts, field errors).

    With no ``python`` given and no torch in this interpreter, the ``python3``/``python`` on PATH
    are tried too (within the same time budget), so a pipx-installed rigcheck still finds the
    torch of the environment the user works in; ``python_executable`` says which one answered.
    """
    start = time.monotonic()
    argv = [python or sys.executable, *python_args, str(script)]
    torch, errors = parse_child_output(_probe(argv, timeout_s, runner))
    if python is not None or python_args or torch.installed is not False:
        return torch, errors
    for other in other_pythons(which):
        left = timeout_s - (time.monotonic() - start)
        if left < 1.0:
            break
        found, found_errors = parse_child_output(_probe([other, str(script)], left, runner))
        if found.installed:
            return found, found_errors
    return torch, errors
