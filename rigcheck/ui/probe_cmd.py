"""``rigcheck probe``: collect the facts about this machine and show or save them.

Usage::

    rigcheck probe                      # compact summary
    rigcheck probe --json               # the facts as JSON on stdout
    rigcheck probe -o facts.json        # save them (then: rigcheck doctor --facts facts.json)
    rigcheck probe -o 'facts/{host}.json'   # one file per node: {host} and {rank} are expanded
    rigcheck probe --data-dir /mnt/imagenet --data-dir /scratch   # also check these disks
    rigcheck probe --no-redact          # keep serials, UUIDs, host and user names
    rigcheck probe --timeout 30         # per-source limit in seconds (torch child, nvidia-smi)
    rigcheck probe --python ~/miniconda3/envs/dl/bin/python   # probe the torch of that env

JSON interface (stable): the object written by ``--json`` and ``-o`` is
``rigcheck.facts.to_dict(Facts)``: top-level keys ``schema_version`` (int; bumped on an
incompatible change), ``rigcheck_version``, ``collected_at`` (ISO 8601 UTC), ``origin``
("probe"), ``redacted`` (bool), the sections ``nvml``, ``driver``, ``host``, ``torch``,
``python`` (fields as documented in ``rigcheck/facts.py``; each has ``error``: null when collected,
else why not), and ``not_collected`` (``"section.field"`` -> why). Readers must ignore unknown keys.

``-o FILE`` writes the file and prints only one line on stderr saying where (nothing on stdout,
even with ``--json``). In FILE, ``{host}`` is this machine's short host name and ``{rank}`` the
process rank from the launcher (``RANK``, ``SLURM_PROCID``, ``OMPI_COMM_WORLD_RANK``,
``PMI_RANK``), so ``srun rigcheck probe -o 'facts/{host}.json'`` writes one file per node (srun
does not expand ``%N`` in a program's arguments). Missing folders are created.

Exit codes: 0 when the facts were collected (a source that could not be read is data, not a
failure), 2 for bad options or an output file that cannot be written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from rigcheck.ui.common import EXIT_USAGE, console, fail, note, print_json, verbose

if TYPE_CHECKING:
    from rigcheck.facts import Facts, HostFacts, NvmlFacts, PythonFacts, TorchFacts


def register(app: typer.Typer) -> None:
    app.command("probe")(probe)


def probe(
    as_json: Annotated[bool, typer.Option("--json", help="Print the facts as JSON.")] = False,
    output: Annotated[
        str | None, typer.Option(
            "-o", "--output", metavar="FILE",
            help="Write the facts JSON to this file (not to stdout); {host} and {rank} in the "
                 "name are expanded: -o 'facts/{host}.json' gives one file per node.")
    ] = None,
    data_dir: Annotated[
        list[str] | None,
        typer.Option(
            "--data-dir", metavar="DIR", help="Also report free space on this folder (repeatable)."
        ),
    ] = None,
    no_redact: Annotated[
        bool, typer.Option("--no-redact", help="Keep serials, UUIDs, host and user names.")
    ] = False,
    python: Annotated[
        str | None,
        typer.Option(
            "--python", metavar="PATH",
            help="Probe the torch installed for this interpreter (default: rigcheck's own).",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(
            "--timeout", metavar="SECONDS", help="Per-source limit (torch child, nvidia-smi)."
        )
    ] = 20.0,
) -> None:
    """Collect facts about this machine: GPUs, driver, CUDA, PyTorch, host."""
    if not 0 < timeout <= 600:
        fail(f"--timeout must be more than 0 and at most 600 seconds, got {timeout:g}", EXIT_USAGE)
    out_path = expand_output(output) if output is not None else None
    for d in data_dir or ():
        if not os.path.isdir(os.path.expanduser(d)):
            fail(f"--data-dir {d}: no such folder", EXIT_USAGE)
    torch_python = _interpreter(python) if python else None
    from rigcheck.facts import to_dict, to_json
    from rigcheck.probe.collect import collect_facts

    facts = collect_facts(
        data_dirs=tuple(data_dir or ()), redact=not no_redact, timeout_s=timeout,
        torch_python=torch_python,
    )
    if out_path is not None:
        _write_atomic(out_path, to_json(facts) + "\n")
        # Only where it went: the file is the output (a cluster's 20 nodes print 20 lines).
        note(f"Facts written to {out_path}; diagnose them with: rigcheck doctor --facts {out_path}")
        return
    if as_json:
        print_json(to_dict(facts))
        return
    render_summary(facts)


RANK_VARS = ("RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK")


def expand_output(template: str) -> Path:
    """``-o`` with ``{host}`` (short host name, as Slurm's %N) and ``{rank}`` filled in."""
    import socket

    values: dict[str, str] = {"host": socket.gethostname().split(".")[0] or "host"}
    rank = next((os.environ[v] for v in RANK_VARS if os.environ.get(v, "").isdigit()), None)
    if rank is not None:
        values["rank"] = rank
    try:
        return Path(template.format(**values)).expanduser()
    except KeyError as exc:
        if exc.args and exc.args[0] == "rank":
            fail(f"-o {template}: {{rank}} needs a launcher's rank variable "
                 f"({', '.join(RANK_VARS)}); none is set", EXIT_USAGE)
        fail(f"-o {template}: unknown placeholder {{{exc.args[0]}}}; use {{host}} or {{rank}}",
             EXIT_USAGE)
    except (ValueError, IndexError):
        fail(f"-o {template}: a stray brace; placeholders are {{host}} and {{rank}}", EXIT_USAGE)


def _interpreter(value: str) -> str:
    """``--python``: a path or a name on PATH, that exists and is executable."""
    found = shutil.which(os.path.expanduser(value))
    if found is None:
        fail(f"--python {value}: no such executable (give the path to a python interpreter)")
    return found


def _write_atomic(path: Path, text: str) -> None:
    """Write next to the target and rename, so a crash never leaves half a facts file."""
    target = path.expanduser()
    tmp_name = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent or Path("."))
        )
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp_name, 0o666 & ~_umask())  # mkstemp makes 0600; a facts file is for sharing
        os.replace(tmp_name, target)
        tmp_name = None
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}", EXIT_USAGE)
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# ---- human summary -----------------------------------------------------------------------

def _fmt(value: object, unit: str = "", none: str = "?") -> str:
    if value is None:
        return none
    if isinstance(value, float):
        value = f"{value:g}"
    return f"{value}{unit}"


def _yes(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def render_summary(facts: Facts) -> None:
    out = console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for title, lines in _sections(facts):
        grid.add_row(title, "\n".join(lines))
    out.print(grid)
    if facts.not_collected:
        out.print("[dim]Not collected:[/] " + "; ".join(
            f"{k} ({v})" for k, v in sorted(facts.not_collected.items())))
    note = ("serials, UUIDs, host and user names redacted; --no-redact keeps them"
            if facts.redacted else "not redacted: contains serials, UUIDs, host and user names")
    if verbose():
        _render_details(facts, out)
    out.print(f"[dim]{note}. Diagnose with: rigcheck doctor[/]")


def _render_details(facts: Facts, out: Any) -> None:
    """-v: the facts the summary does not show (when and by what they were collected, the
    interpreter and nvcc paths, the LLM-stack library versions found)."""
    py = facts.python
    out.print(f"[bold]Collected[/] {facts.collected_at or '?'} by rigcheck "
              f"{facts.rigcheck_version or '?'} ({facts.origin})")
    out.print(f"[bold]Interpreter[/] {escape(py.executable or '?')}; nvcc "
              f"{escape(py.nvcc_path or 'not found')}", soft_wrap=True)
    stack = facts.torch.stack if facts.torch else None
    out.print("[bold]LLM-stack libraries[/]" + ("" if stack else ": none found"))
    for name, version in sorted((stack or {}).items()):
        out.print(f"  {escape(name)} {escape(version)}", soft_wrap=True)


def _sections(f: Facts) -> list[tuple[str, list[str]]]:
    return [
        ("GPUs", _gpu_lines(f.nvml)),
        ("Driver", _driver_lines(f)),
        ("PyTorch", _torch_lines(f.torch, f.python.executable)),
        ("Python", _python_lines(f.python)),
        ("Host", _host_lines(f.host)),
        ("Disks", _disk_lines(f.host)),
    ]


def _gpu_lines(nv: NvmlFacts) -> list[str]:
    if not nv.available:
        return [f"[red]NVML unavailable[/]: {nv.error}"]
    lines = [f"{nv.gpu_count} GPU(s), driver {_fmt(nv.driver_version)}, "
             f"CUDA {_fmt(nv.cuda_driver_version)} supported by the driver"]
    if nv.error:
        lines.append(f"[red]{nv.error}[/]")
    for g in nv.gpus:
        if g.lost:
            lines.append(f"[red]{g.index}: GPU is lost[/] ({', '.join(g.field_errors.values())})")
            continue
        mem = (f"{g.memory_used_mib / 1024:.1f}/{g.memory_total_mib / 1024:.1f} GiB"
               if g.memory_total_mib is not None and g.memory_used_mib is not None else "? GiB")
        pcie = (f"PCIe Gen{_fmt(g.pcie_gen_current)} x{_fmt(g.pcie_width_current)} "
                f"(max Gen{_fmt(g.pcie_gen_max)} x{_fmt(g.pcie_width_max)})")
        power = f"{_fmt(g.power_draw_w)}/{_fmt(g.power_limit_w)} W"
        line = (f"{g.index}: {_fmt(g.name)}  sm_{(g.compute_capability or '?').replace('.', '')}"
                f"  {mem}  {pcie}  {_fmt(g.temperature_c, ' °C')}  {power}"
                f"  {_fmt(g.utilization_gpu_pct, '%')} busy")
        extras = []
        busy = [r for r in (g.throttle_reasons or []) if r not in ("GpuIdle",)]
        if busy:
            extras.append("clocks held by " + ",".join(busy))
        if g.mig_mode_current:
            extras.append("MIG on")
        if g.processes:
            extras.append(f"{len(g.processes)} process(es)")
        lines.append(line + (f"  [yellow]{'; '.join(extras)}[/]" if extras else ""))
    return lines


def _driver_lines(f: Facts) -> list[str]:
    d = f.driver
    if d.error:
        return [f"[red]{d.error}[/]"]
    mods = ", ".join(f"{k}" for k, v in (d.modules or {}).items() if v) or (
        "none loaded" if d.modules is not None else "modules unknown")
    smi = ("nvidia-smi not on PATH" if not d.nvidia_smi_path else
           "nvidia-smi ok" if d.nvidia_smi_ok else f"nvidia-smi failed: {d.nvidia_smi_error}")
    nodes = len(d.dev_nodes or [])
    return [f"kernel module {_fmt(d.kernel_module_version, none='not loaded')}; modules: {mods}",
            f"{nodes} /dev/nvidia* node(s); {smi}"]


def _torch_lines(t: TorchFacts, own_python: str | None = None) -> list[str]:
    if t.error:
        return [f"[red]{t.error}[/]"]
    elsewhere = (
        t.python_executable and own_python
        and os.path.realpath(t.python_executable) != os.path.realpath(own_python)
    )
    if t.installed is False:
        return [f"not installed for {_fmt(t.python_executable)}; "
                "--python PATH probes another interpreter's torch"]
    build = f"CUDA {t.cuda_build}" if t.cuda_build else (f"ROCm {t.hip_build}" if t.hip_build
                                                           else "CPU-only build")
    lines = [f"torch {_fmt(t.version)} ({build}); cuda available: {_yes(t.cuda_available)}"
             f"; {t.device_count or 0} device(s)"
             + (f"; in {t.python_executable}" if elsewhere else "")]
    if t.cuda_init_error:
        lines.append(f"[yellow]{t.cuda_init_error}[/]")
    if t.cudnn_version or t.nccl_version:
        lines.append(f"cuDNN {_fmt(t.cudnn_version)}, NCCL {_fmt(t.nccl_version)}")
    numpy = t.numpy_error and f"[red]{t.numpy_error}[/]" or _fmt(t.numpy_version, none="not installed")
    lines.append(f"NumPy {numpy}; {_cuda_wheels(t.nvidia_wheels)}")
    return lines


# Wheels named nvidia-* that are not CUDA libraries torch loads: NVML's Python bindings are
# rigcheck's own dependency (nvidia-ml-py), present on every machine with rigcheck.
NOT_CUDA_WHEELS = frozenset({"nvidia-ml-py", "nvidia-ml-py3", "nvidia-smi"})


def _cuda_wheels(wheels: dict[str, str] | None) -> str:
    """'no CUDA library wheels (nvidia-cudnn-cu12, ...)' / '3 CUDA library wheels: ...'."""
    names = sorted(n for n in (wheels or {}) if n.lower() not in NOT_CUDA_WHEELS)
    if not names:
        return "no NVIDIA CUDA library wheels (nvidia-cublas-*, nvidia-cudnn-*, ...)"
    shown = ", ".join(names[:4]) + (f", +{len(names) - 4} more" if len(names) > 4 else "")
    return f"{len(names)} NVIDIA CUDA library wheel(s): {shown}"


def _python_lines(p: PythonFacts) -> list[str]:
    if p.error:
        return [f"[red]{p.error}[/]"]
    nvcc = f"nvcc {_fmt(p.nvcc_version)}" if p.nvcc_path else "no nvcc on PATH"
    env = " ".join(f"{k}={_short(v)}" for k, v in sorted(p.env.items())) or (
        "none of the watched variables set")
    return [f"{_fmt(p.implementation)} {_fmt(p.version)} ({_fmt(p.executable)}); {nvcc}",
            f"env: {env}"]


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _host_lines(h: HostFacts) -> list[str]:
    if h.error:
        return [f"[red]{h.error}[/]"]
    flags = ",".join(k for k, v in (h.cpu_flags or {}).items() if v) or "?"
    where = [x for x in (h.container, "WSL" if h.wsl else None,
                         f"VM ({h.hypervisor})" if h.hypervisor else None) if x]
    lines = [
        f"{_fmt(h.os)}, kernel {_fmt(h.kernel)}, glibc {_fmt(h.glibc)}"
        + (f"; in {', '.join(where)}" if where else ""),
        f"{_fmt(h.cpu_model)}: {_fmt(h.cores_physical)} cores / {_fmt(h.threads)} threads; {flags}",
        f"RAM {_fmt(h.ram_total_gb, ' GiB')} ({_fmt(h.ram_available_gb, ' GiB')} free), "
        f"swap {_fmt(h.swap_total_gb, ' GiB')}, /dev/shm {_fmt(h.shm_total_gb, ' GiB')}, "
        f"open files {_fmt(h.ulimit_nofile_soft)}",
    ]
    if h.cgroup_memory_limit_gb is not None or h.cgroup_cpu_limit is not None:
        lines.append(f"cgroup limits: memory {_fmt(h.cgroup_memory_limit_gb, ' GiB', 'none')}, "
                     f"CPUs {_fmt(h.cgroup_cpu_limit, none='none')}")
    return lines


def _disk_lines(h: HostFacts) -> list[str]:
    lines = []
    for d in h.disks:
        if d.error:
            lines.append(f"{d.label}: [red]{d.error}[/]")
            continue
        ro = "" if d.writable else "  [yellow]read-only[/]"
        lines.append(f"{d.label}: {_fmt(d.free_gb)} of {_fmt(d.total_gb)} GiB free "
                     f"({_fmt(d.fs_type)}) at {d.path}{ro}")
    return lines or ["?"]
