"""Run an outside command with a timeout, never through a shell.

Every subprocess rigcheck starts goes through :func:`run`. A hung ``nvidia-smi`` (a real failure
mode when the driver is wedged: the process sits in uninterruptible sleep waiting on the kernel
module) must not hang the probe, so each command runs in its own session and on timeout the whole
process group is killed. Probes take a ``runner`` argument (like ``run_lambda`` in PyTorch's
``collect_env``) so tests can fake the commands.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandResult:
    """What one command did. ``error`` is set when it did not run to completion."""

    argv: tuple[str, ...]
    returncode: int | None = None      # negative: killed by that signal (e.g. -11 = SIGSEGV)
    stdout: str = ""
    stderr: str = ""
    error: str | None = None           # "timed out after 10 s", "not found: nvcc", "OSError: ..."

    @property
    def ok(self) -> bool:
        return self.error is None and self.returncode == 0


Runner = Callable[[Sequence[str], float], CommandResult]


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # Windows: no process groups here; kill the process itself
            proc.kill()
    except OSError:
        try:
            proc.kill()
        except OSError:
            pass


def run(
    argv: Sequence[str],
    timeout_s: float,
    *,
    env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run ``argv`` and capture its output; kill it (and its children) after ``timeout_s``."""
    args = tuple(str(a) for a in argv)
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=dict(env) if env is not None else None,
            start_new_session=True,  # its own process group, so a timeout kills grandchildren too
        )
    except FileNotFoundError:
        return CommandResult(args, error=f"not found: {args[0]}")
    except OSError as exc:
        return CommandResult(args, error=f"could not start {args[0]}: {exc.strerror or exc}")
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        try:
            out, err = proc.communicate(timeout=2.0)
        except subprocess.TimeoutExpired:  # stuck in the kernel (D state): give up on its output
            out, err = "", ""
        return CommandResult(
            args, proc.returncode, out or "", err or "", error=f"timed out after {timeout_s:g} s"
        )
    return CommandResult(args, proc.returncode, out, err)


def describe_failure(result: CommandResult) -> str:
    """One line saying why a command did not succeed (for ``*_error`` fields)."""
    if result.error:
        return result.error
    if result.returncode is not None and result.returncode < 0:
        try:
            name = signal.Signals(-result.returncode).name
        except ValueError:
            name = f"signal {-result.returncode}"
        return f"killed by {name}"
    lines = [ln.strip() for ln in (result.stderr or result.stdout).splitlines() if ln.strip()]
    last = lines[-1] if lines else "no output"
    return f"exit code {result.returncode}: {last[:300]}"
