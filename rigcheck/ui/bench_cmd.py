"""``rigcheck bench``: measure what this machine trains, against what it should reach.

Human output: one row per figure (value, % of expected, % of theoretical peak, spread, verdict),
what was skipped and why, and per target recipe whether it fits, the time per epoch and to train.
A live progress display runs on a terminal and becomes plain lines on stderr otherwise.
Ctrl-C stops the suite, prints what was measured and exits 130.

``--json`` prints ``BenchRun.to_dict()`` (every field is documented in
:mod:`rigcheck.runs.results`), plus ``saved`` and, with ``--compare``, ``compare``::

    {"schema": 1, "started_at": "2026-11-25T20:01:02+00:00", "mode": "quick" | "full",
     "interrupted": false, "duration_s": 41.2, "load_avg_1m": 0.3, "data_dir": null,
     "machine": {"fingerprint": "f94a4a25ce683890", "cpu_model": ..., "cpu_cores": 2,
                 "cpu_mhz": 2200.0, "cpu_capability": "AVX512", "cpu_flags": [...],
                 "gpus": [...], "gpu_catalog_note": ..., "device": "cpu" | "cuda:0",
                 "threads": 2, "torch_version": ..., "cuda_version": null},
     "results": [{"name": "gemm-fp32", "label": "GEMM fp32 2048x2048x2048", "value": 391.0,
                  "unit": "GFLOP/s", "expected": null, "expected_source": "",
                  "pct_expected": null, "peak": 281.6, "peak_source": "theoretical peak: ...",
                  "pct_peak": 139.0, "median_s": 0.044, "iqr_s": 0.001, "cv_pct": 1.2,
                  "runs": 30, "verdict": "ok" | "noisy: ..." | "too short: ...",
                  "note": "what exactly was measured", "hint": null | "what to do",
                  "params": {"n": 2048, ...}}, ...],
     "targets": [{"recipe": "lenet5-mnist", "name": ..., "batch_size": 64,
                  "measured_batch_size": 64, "samples_per_s": 18000.0, "fits": true,
                  "fits_note": ..., "epoch_s": 3.3, "train_s": 66.0,
                  "source": "measured" | "model" | "", "data_mbs_needed": 14.1,
                  "note": ...}, ...],
     "skipped": [{"name": "gemm-tf32", "reason": "..."}, ...],
     "saved": "~/.local/share/rigcheck/bench/runs/<time>-<fingerprint>.json" | null,
     "compare": [{"name": ..., "label": ..., "unit": ..., "value": ..., "before": ...,
                  "before_at": ..., "pct": -12.0}, ...]}

Without an importable PyTorch the command prints one line saying why (the Python it ran, the
import error) and how to install it, exits 2 and saves nothing.

Figure names: gemm-fp32, gemm-tf32, gemm-fp16, gemm-bf16, mem-copy, h2d-pinned, h2d-pageable,
d2h-pinned, d2h-pageable, disk-read, image-pipeline, train-<recipe id>. Every value is a rate
(higher is better). Exit codes: 0 measured, 1 nothing could be measured, 2 bad input or no
PyTorch, 130 Ctrl-C
(after printing what was measured).
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from rigcheck.ui.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    console,
    fail,
    human_duration,
    print_json,
    verbose,
    warn,
)

if TYPE_CHECKING:
    from rigcheck.runs.results import BenchRun

EXIT_INTERRUPTED = 130   # the shell's code for SIGINT; we print what was measured first


def _num(value: float, unit: str) -> str:
    if unit == "GFLOP/s" and value >= 1000:
        return f"{value / 1000:.2f} TFLOP/s"
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def _dur(seconds: float | None) -> str:
    if not seconds:
        return "-"
    return f"{seconds:.3g} s" if seconds >= 1 else f"{seconds * 1000:.3g} ms"


def _short(x: float | None) -> str:
    if not x:
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0f}%"


class _Progress:
    """A rich live display on a terminal; plain lines on stderr when not a TTY."""

    def __init__(self, live: bool) -> None:
        self.live = live
        self.bar: Any = None
        self.err = console(stderr=True)

    def __enter__(self) -> _Progress:
        if self.live:
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                                console=self.err, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("starting", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, event: Any) -> None:
        # One line per measured figure, none per start or skip (the report lists every skip
        # with its reason): a log stays shorter than the report it precedes.
        if event.kind == "start":
            if self.bar is not None:
                self.bar.update(self.task, description=f"measuring {event.label}",
                                total=event.total, completed=event.index)
            return
        if self.bar is not None:
            self.bar.update(self.task, completed=event.index + 1)
        if event.kind == "done" and event.figure is not None:
            f = event.figure
            self.err.print(f"bench [{event.index + 1}/{event.total}] {f.name}: "
                           f"{_num(f.value, f.unit)}", soft_wrap=True)


def _render(run: BenchRun, saved: Path | None, changes: list[Any] | None) -> None:
    out = console()   # a pipe or a file is never hard-wrapped (ui.common)
    m = run.machine
    out.print(f"[bold]rigcheck bench[/] ({run.mode}) on {m.cpu_model}"
              f"{', ' + ', '.join(m.gpus) if m.gpus else ''}; device {m.device}, "
              f"{m.threads} threads, torch {m.torch_version}")
    if m.gpu_catalog_note:
        out.print(f"  {escape(m.gpu_catalog_note)}", soft_wrap=True)
    if run.load_avg_1m is not None and m.cpu_cores and run.load_avg_1m > 0.5 * m.cpu_cores:
        out.print(f"[yellow]The machine was busy when the run started (load {run.load_avg_1m:.1f} "
                  f"on {m.cpu_cores} CPUs): figures may be low and noisy.[/]")
    cols = {"figure": "left", "value": "right", "% expected": "right", "% peak": "right",
            "median": "right", "CV": "right", "verdict": "left"}
    rows = [{"figure": f.label or f.name, "value": _num(f.value, f.unit),
             "% expected": _pct(f.pct_expected), "% peak": _pct(f.pct_peak),
             "median": _dur(f.median_s),
             "CV": f"{f.cv_pct:.1f}%" if f.cv_pct is not None else "-",
             "verdict": f.verdict.split(":")[0] if f.verdict == "ok" else
             f"[yellow]{f.verdict.split(':')[0]}[/]"} for f in run.results]
    # Leave out a column with nothing in it (no % expected on a CPU: there is no model for one).
    shown = [c for c in cols if any(r[c] != "-" for r in rows)]
    table = Table(show_edge=False, header_style="bold")
    for col in shown:
        table.add_column(col, justify=cols[col])  # type: ignore[arg-type]
    for r in rows:
        table.add_row(*(r[c] for c in shown))
    if run.results:
        out.print(table)
    else:
        out.print("Nothing was measured.")
    for f in run.results:
        out.print(f"  [dim]{f.name}:[/] {escape(f.note)}", soft_wrap=True)
        if f.peak_source:
            out.print(f"    peak: {_num(f.peak or 0, f.unit)} ({escape(f.peak_source)})", soft_wrap=True)
        if f.expected_source:
            out.print(f"    expected: {_num(f.expected or 0, f.unit)} ({escape(f.expected_source)})",
                      soft_wrap=True)
        if f.verdict != "ok":
            out.print(f"    [yellow]{escape(f.verdict)}[/]", soft_wrap=True)
        if verbose():
            iqr = f"{_dur(f.iqr_s)}" if f.iqr_s is not None else "-"
            params = ", ".join(f"{k}={v}" for k, v in sorted(f.params.items()))
            out.print(f"    [dim]{f.runs} timed runs, median {_dur(f.median_s)}, IQR {iqr}"
                      f"{'; ' + escape(params) if params else ''}[/]", soft_wrap=True)
        if f.hint:
            out.print(f"    [bold yellow]->[/] {escape(f.hint)}", soft_wrap=True)
    if run.skipped:
        out.print("[bold]Skipped[/]")
        for s in run.skipped:
            out.print(f"  {s.name}: {escape(s.reason)}", soft_wrap=True)
    _render_targets(run, out)
    if changes is not None:
        out.print("[bold]Compared with earlier runs on this machine[/]")
        if not changes:
            out.print("  no earlier run on this machine holds these figures")
        for c in changes:
            out.print(f"  {escape(c.words)}")
    if run.interrupted:
        out.print("[yellow]Interrupted: the figures above are what was measured before Ctrl-C.[/]")
    if saved is not None:
        out.print(f"[dim]Saved to {saved}[/]", soft_wrap=True)


def _untrusted(run: BenchRun) -> dict[str, str]:
    """recipe id -> 'noisy' / 'too short' where the training figure behind it is not ok."""
    return {f.name.removeprefix("train-"): f.verdict.split(":")[0] for f in run.results
            if f.name.startswith("train-") and f.verdict != "ok"}


def _render_targets(run: BenchRun, out: Any) -> None:
    shown = [t for t in run.targets if t.samples_per_s]
    skipped = {s.name.removeprefix("train-"): s.reason for s in run.skipped
               if s.name.startswith("train-")}
    untimed = [t for t in run.targets if not t.samples_per_s]
    if not shown and not untimed:
        return
    bad = _untrusted(run)
    table = Table(title="Target recipes on this machine", show_edge=False, header_style="bold")
    for col in ("recipe", "batch", "fits", "samples/s", "from", "epoch", "to train", "disk MB/s"):
        table.add_column(col, justify="left" if col in ("recipe", "from", "fits") else "right",
                         no_wrap=col == "recipe")
    for t in shown:
        src = t.source or "-"
        if t.source == "measured" and t.measured_batch_size not in (None, t.batch_size):
            src = f"batch {t.measured_batch_size}"
        flag = bad.get(t.recipe) if t.source == "measured" else None
        if flag:   # a noisy figure must not feed "to train" unflagged
            src = f"[yellow]{src}, {flag}![/]"
        fits = "?" if t.fits is None else ("yes" if t.fits else "[bold red]NO[/]")
        mark = "[yellow]?[/]" if flag else ""
        table.add_row(t.recipe, str(t.batch_size), fits,
                      _short(t.samples_per_s) + mark, src, human_duration(t.epoch_s) + mark,
                      human_duration(t.train_s) + mark, _short(t.data_mbs_needed))
    for t in untimed:
        table.add_row(t.recipe, str(t.batch_size), "?" if t.fits is None else
                      ("yes" if t.fits else "[bold red]NO[/]"), "-", "[dim]not timed[/]", "-", "-",
                      "-")
    out.print(table)
    out.print("  [dim]from: 'measured' at the recipe's batch, 'batch N' measured at a smaller "
              "batch (per-sample rate), 'model' predicted by the performance model. "
              "samples/s: training samples per second (forward, backward, optimizer step); "
              "disk MB/s: the read rate that feeds that speed.[/]", soft_wrap=True)
    if bad and any(t.recipe in bad and t.source == "measured" for t in shown):
        out.print("  [yellow]? from a noisy or too-short figure: not trustworthy; re-run on an "
                  "idle machine (rigcheck bench --compare shows the change).[/]", soft_wrap=True)
    for t in untimed:
        why = skipped.get(t.recipe, "not measured in this run")
        hint = "" if "--" in why else f"; time it with: rigcheck bench --only train-{t.recipe}"
        out.print(f"  [dim]{t.recipe} not timed:[/] {escape(why)}{hint}", soft_wrap=True)
    for t in shown:
        if t.note or t.fits_note:
            out.print(f"  [dim]{t.recipe}:[/] {escape('; '.join(x for x in (t.fits_note, t.note) if x))}",
                      soft_wrap=True)


def bench(
    full: Annotated[bool, typer.Option("--full/--quick",
                                       help="--quick (default): about a minute. --full: every "
                                            "recipe, longer timing.")] = False,
    only: Annotated[list[str] | None, typer.Option(
        "--only", metavar="NAME", help="Measure only this figure (repeatable; globs like 'gemm-*').")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        "--data-dir", metavar="DIR", help="Your dataset directory: measure its disk's sequential read.")] = None,
    device: Annotated[str, typer.Option(metavar="DEVICE",
                                        help="auto, cpu, cuda, cuda:N, mps or xpu[:N].")] = "auto",
    target: Annotated[list[str] | None, typer.Option(
        "--target", metavar="RECIPE", help="Recipe id for the target table (repeatable; default: all).")] = None,
    compare: Annotated[bool, typer.Option(
        "--compare", help="Show the change against the last run on this machine.")] = False,
    save: Annotated[bool, typer.Option(
        "--save/--no-save", help="Keep the run in the local history (default: on).")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (schema 1).")] = False,
    time_scale: Annotated[float, typer.Option(
        "--time-scale", hidden=True, min=0.001, max=100.0,
        help="Multiply every timing budget (tests use 0.05).")] = 1.0,
    distributed: Annotated[bool, typer.Option(
        "--distributed", help="Under torchrun: collectives bandwidth and DDP scaling "
                              "(recipe: the first --target).")] = False,
    dist_timeout_s: Annotated[float, typer.Option(
        "--dist-timeout", metavar="SECONDS", help="With --distributed: give up on missing ranks "
                                                  "after this long.")] = 300.0,
) -> None:
    """Measure GEMM, memory, copies, disk, image pipeline, training steps and a small LLM (prefill, decode, a LoRA step) on this machine."""
    from rigcheck.bench import runner

    # Before anything else: without PyTorch nothing can be measured, and an empty run must not
    # reach the history.
    problem = runner.torch_problem()
    if problem:
        fail(problem)
    if distributed:
        from rigcheck.ui.distributed_cmd import bench_distributed
        raise typer.Exit(bench_distributed(mode="full" if full else "quick",
                                           recipe=target[0] if target else None,
                                           timeout_s=dist_timeout_s, as_json=as_json))
    from rigcheck.runs import history

    recipes, why = runner.load_recipes_safely()
    for pattern in only or ():
        if not any(runner.matches(n, (pattern,)) for n in runner.all_names(recipes)):
            fail(f"--only {pattern}: no such figure; known: "
                 f"{', '.join(runner.all_names(recipes))}")
    for rid in target or ():
        if rid not in recipes:
            from rigcheck.suggest import did_you_mean

            fail(f"--target {rid}: unknown recipe{did_you_mean(rid, recipes)}; "
                 f"known: {', '.join(recipes) or '(none)'}")
    if data_dir is not None and not data_dir.is_dir():
        fail(f"--data-dir {data_dir}: not a directory")
    if device not in ("auto", "cpu", "mps") and not device.startswith(("cuda", "xpu")):
        fail(f"--device '{device}': use auto, cpu, cuda, cuda:N, mps (Apple) or xpu[:N] (Intel)")
    options = runner.Options(mode="full" if full else "quick", only=tuple(only or ()),
                             data_dir=data_dir, device=device, targets=tuple(target or ()),
                             recipes=recipes, time_scale=time_scale)
    if why:
        warn(why)
    live = sys.stderr.isatty()
    try:
        with _Progress(live) as progress:
            run = runner.run_suite(options, progress)
    except (ValueError, runner.TorchUnavailable) as exc:
        fail(str(exc))
    changes = history.compare(run) if compare else None
    saved = None
    if save:
        saved, problem = history.save_run(run)
        if problem:
            warn(problem)
    if as_json:
        data = run.to_dict()
        data["saved"] = str(saved) if saved else None
        if changes is not None:
            data["compare"] = [asdict(c) for c in changes]
        print_json(data)
    else:
        _render(run, saved, changes)
    if run.interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    raise typer.Exit(EXIT_OK if run.results else EXIT_FINDINGS)


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
