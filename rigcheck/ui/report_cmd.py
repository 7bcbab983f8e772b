"""``rigcheck report``: one page to share, combining what rigcheck knows about this machine.

Usage::

    rigcheck bench                                   # (once) so the report has measurements
    rigcheck report -o rig.html --budget 1.25L       # doctor + latest bench + a build
    rigcheck report --format md -o rig.md            # Markdown for a GitHub issue or a forum
    rigcheck report --target resnet50-imagenet --data-dir /mnt/imagenet -o rig.html

The page is one self-contained HTML file (inline CSS and SVG charts, no script; opening it
fetches nothing). It holds the doctor's findings, the latest saved bench run against the
expected figures, the time to train each target (measured here and estimated), and with
``--budget`` the recommended build with its price breakdown and the price-speed frontier.
Serials, UUIDs, host and user names are redacted unless ``--no-redact``.
A part that cannot be had (no bench run yet, no GPU) says why; the rest still comes out.

JSON (``--json``): ``{"schema": 1, "output": path or null, "format": "html" | "md",
"bytes": N, "sections": {"doctor": true, ...}, "missing": {"bench": "why", ...}}``.

Exit codes: 0 written; 2 bad options or an output file that cannot be written.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer

from rigcheck.ui.common import EXIT_USAGE, console, fail, note, print_json, verbose


def report(
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="FILE", help="Write the report here (default: stdout).")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", metavar="html|md", help="html: one self-contained page; md: Markdown to "
        "paste into an issue.")] = "html",
    budget: Annotated[str | None, typer.Option(
        "--budget", "-b", help="Also recommend a build for this budget (as recommend takes it: "
        "1.25L, 125000INR, $1500).")] = None,
    target: Annotated[list[str] | None, typer.Option(
        "--target", "-t", help="A recipe to report on (repeatable; default: the default mix).")] = None,
    data_dir: Annotated[list[str] | None, typer.Option(
        "--data-dir", metavar="DIR", help="A dataset folder whose disk the doctor checks "
        "(repeatable).")] = None,
    bench_run: Annotated[Path | None, typer.Option(
        "--bench-run", metavar="FILE", help="A saved bench run JSON (default: the newest saved "
        "run).")] = None,
    allow_unsourced: Annotated[bool, typer.Option(
        "--allow-unsourced", help="With --budget: let the build use recalled or old prices "
        "(as recommend --allow-unsourced; marked).")] = False,
    allow_used: Annotated[bool, typer.Option(
        "--allow-used", help="With --budget: consider used GPUs.")] = False,
    no_redact: Annotated[bool, typer.Option(
        "--no-redact", help="Keep serials, UUIDs, host and user names.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Say what was written, as JSON.")] = False,
) -> None:
    """Write one shareable page (HTML or Markdown): doctor findings, bench against expected,
    estimates and a recommended build, with charts."""
    from rigcheck import __version__
    from rigcheck.report import html, markdown
    from rigcheck.report.collect import collect
    from rigcheck.report.model import build_report

    if fmt not in ("html", "md"):
        fail(f"--format '{fmt}': use html or md", EXIT_USAGE)
    for d in data_dir or ():
        if not Path(d).expanduser().is_dir():
            fail(f"--data-dir {d}: no such folder", EXIT_USAGE)
    if bench_run is not None and not bench_run.is_file():
        fail(f"--bench-run {bench_run}: no such file", EXIT_USAGE)
    if as_json and output is None:
        fail("--json says what was written: give -o FILE", EXIT_USAGE)
    if output is not None and not output.expanduser().parent.is_dir():
        fail(f"-o {output}: the folder {output.expanduser().parent} does not exist", EXIT_USAGE)
    note("collecting: probe, doctor, latest bench run" + (", recommend" if budget else "") + " ...")
    inputs = collect(budget=budget, targets=tuple(target or ()), data_dirs=tuple(data_dir or ()),
                     bench_run=bench_run, redact=not no_redact,
                     recommend_flags=tuple(f for f, on in (("--allow-unsourced", allow_unsourced),
                                                           ("--allow-used", allow_used)) if on))
    rep = build_report(facts=inputs.facts, doctor=inputs.doctor, bench=inputs.bench,
                       estimates=inputs.estimates, recommend=inputs.recommend,
                       missing=inputs.missing,
                       generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                       rigcheck_version=__version__, redacted=not no_redact)
    text = html.render(rep) if fmt == "html" else markdown.render(rep)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.expanduser().write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}", EXIT_USAGE)
    size = len(text.encode("utf-8"))
    if as_json:
        print_json({"schema": 1, "output": str(output) if output else None, "format": fmt,
                    "bytes": size, "sections": {s.id: s.available for s in rep.sections},
                    "missing": inputs.missing})
    elif output is not None:
        avail = ", ".join(s.id for s in rep.sections if s.available) or "nothing"
        console().print(f"Report written to {output} ({size / 1024:,.0f} KB: {avail})",
                        soft_wrap=True, markup=False)
        for key, why in inputs.missing.items():
            note(f"  {key}: {why}")
    if verbose():
        for step, seconds in inputs.steps:
            note(f"  {seconds:5.1f} s  {step}")
        if inputs.bench_path:
            note(f"  bench run: {inputs.bench_path}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
