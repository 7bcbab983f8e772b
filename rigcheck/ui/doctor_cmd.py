"""``rigcheck doctor``: diagnose this machine (or a facts file / pasted output) for deep learning.

Usage::

    rigcheck doctor [--facts FILE] [-v] [--json] [--deep] [--target RECIPE]... [--data-dir DIR]...
    rigcheck doctor --fleet [--facts-dir DIR] [--fleet-timeout SECONDS]   (issue 5: many machines;
                                                  see rigcheck.ui.distributed_cmd / fleet_view)

Without ``--facts`` the facts are probed fresh (``rigcheck.probe.collect.collect_facts``). With it,
FILE may be a rigcheck facts file (``rigcheck probe --json -o f.json``), the text that
``python -m torch.utils.collect_env`` prints, or ``nvidia-smi`` / ``nvidia-smi -q`` output; checks
the text cannot answer are listed as skipped with the reason.

Output: one line per category, flutter-doctor style: ``[✓]`` ok, ``[!]`` warnings, ``[✗]``
failures, ``[☠]`` a check crashed, ``[-]`` everything skipped; problems are indented under their
category with the values found, the reason and the fix. ``-v`` lists every check.

JSON (``--json``, a stable interface; every check is listed, skipped ones included)::

    {"schema": 1,
     "findings": [{"id": "driver.nouveau", "category": "driver",
                   "status": "ok" | "warn" | "fail" | "skip" | "crash",
                   "summary": "...", "detail": "...", "fix": "...", "source": "https://..." | null}],
     "summary": {"checks": 60, "counts": {"crash": 0, "fail": 1, "warn": 2, "ok": 20, "skip": 35},
                 "categories": {"driver": "ok", ...}, "categories_with_issues": 2, "failed": true},
     "facts_origin": {"origin": "probe" | "collect_env" | "nvidia-smi" | "nvidia-smi-q",
                      "note": "file name or null", "collected_at": "ISO time or null"},
     "targets": ["recipe-id", ...]}

With ``--deep`` the findings include the active tests (category ``active``, ids ``deep.*``).

Exit codes: 0 nothing failed; 1 a check failed or crashed; 2 usage error, unknown recipe, or an
unreadable/truncated facts file (one line on stderr, no traceback).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rigcheck.ui.common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, console, fail, print_json

JSON_SCHEMA = 1
MARK = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "red"),
        "crash": ("☠", "red"), "skip": ("-", "dim")}


def _load_facts(path: Path | None, data_dirs: list[Path]) -> Any:
    from rigcheck.facts import FactsError

    if path is not None:
        from rigcheck.probe.importers import load_facts_file

        try:
            return load_facts_file(path)
        except FactsError as exc:
            fail(str(exc), EXIT_USAGE)
        except OSError as exc:
            fail(f"{path}: cannot read: {exc.strerror or exc}", EXIT_USAGE)
    try:
        from rigcheck.probe.collect import collect_facts
    except ImportError as exc:
        fail(f"probing this machine is not available in this build ({exc}); "
             "use --facts FILE with a facts file or a collect_env paste", EXIT_USAGE)
    try:
        return collect_facts(data_dirs=[str(d) for d in data_dirs])
    except TypeError:  # an older collect_facts without data_dirs
        return collect_facts()


def _llm_targets(ids: list[str]) -> tuple[list[Any], list[str]]:
    """(the named LLM recipes, the other ids), or the LLM default mix when none is named."""
    from rigcheck.llm_recipes import LlmRecipeError, default_mix, load_llm_recipes

    try:
        recipes = load_llm_recipes()
    except LlmRecipeError as exc:
        fail(str(exc), EXIT_USAGE)
    if not ids:
        return list(default_mix(recipes)), []
    return [recipes[i] for i in ids if i in recipes], [i for i in ids if i not in recipes]


def _targets(ids: list[str]) -> list[Any]:
    """The named recipes, or the default mix (as `rigcheck recommend` uses) when none is named."""
    from rigcheck.recipes import RecipeError, default_mix, get_recipe, load_recipes

    try:
        recipes = load_recipes()
    except (RecipeError, FileNotFoundError) as exc:
        fail(str(exc), EXIT_USAGE)
    if not ids:
        return list(default_mix(recipes))
    out = []
    for rid in ids:
        if rid not in recipes:
            try:
                get_recipe(rid)
            except RecipeError as exc:
                fail(str(exc), EXIT_USAGE)
        out.append(recipes[rid])
    return out


def _predictions(facts: Any, targets: list[Any]) -> tuple[dict[str, Any], str | None]:
    """Ask the performance model about each target on this machine's GPU, where it can answer.

    Returns (recipe id -> Prediction, why there are none). The model is optional: without it
    readiness falls back to memory estimates from the recipe's own figures.
    """
    if not targets:
        return {}, None
    gpus = [g for g in facts.nvml.gpus if g.name and not g.lost]
    name = gpus[0].name if gpus else next((d.name for d in facts.torch.devices if d.name), None)
    if not name:
        return {}, "no GPU name to look up in the catalog"
    try:
        from rigcheck import perfmodel
        from rigcheck.catalog import load_catalog

        catalog = load_catalog()
    except Exception as exc:
        return {}, f"performance model unavailable ({type(exc).__name__}: {exc})"
    # NVML says "NVIDIA GeForce RTX 3060"; its total memory tells the 12 GB card from the 8 GB one.
    memory_gb = gpus[0].memory_total_mib / 1024 if gpus and gpus[0].memory_total_mib else None
    try:
        gpu = perfmodel.lookup_gpu(name, catalog.gpus, memory_gb).gpu
    except perfmodel.GpuMatchError as exc:
        return {}, f"{name} is not in the GPU spec database ({str(exc).split('; did you mean')[0]})"
    # Train on every identical GPU here, as a user with this machine would.
    same = sum(1 for g in gpus if g.name == name) or 1
    out = {}
    for r in targets:
        for n in dict.fromkeys((same, 1)):
            try:
                out[r.id] = perfmodel.predict(r, gpu, n_gpus=n)
                break
            except Exception:
                continue
    return out, None if out else f"the performance model could not predict on {gpu.name}"


def source_label(url: str) -> str:
    """What a finding's source is, said with it: most checks cite the public thread in which the
    problem was reported and diagnosed, often in a project other than the library at fault (a
    PCIe downshift seen in an LLM app's tracker), which reads as unrelated unless it is named."""
    if "github.com/" in url and any(f"/{kind}/" in url for kind in ("issues", "pull", "discussions")):
        return "a real report of this problem:"
    if "github.com/" in url and "/blob/" in url:
        return "how a reference tool checks it:"
    return "documented at:"


def _render(findings: list[Any], facts: Any, verbose: bool, source: Path | None) -> None:
    from rigcheck.doctor import CATEGORIES, summarize

    con = console()
    if source is None:
        what = "this machine"
    else:
        kind = {"probe": "facts file", "collect_env": "collect_env paste",
                "nvidia-smi": "nvidia-smi paste", "nvidia-smi-q": "nvidia-smi -q paste"}
        name = "stdin" if str(source) == "-" else source.name
        what = f"{name} ({kind.get(facts.origin, facts.origin)})"
    con.print(f"Doctor summary for {_esc(what)}"
              + ("" if verbose else " (to see every check, run rigcheck doctor -v):"))
    summary = summarize(findings)
    for cat, title in CATEGORIES.items():
        items = [f for f in findings if f.category == cat]
        if not items:
            continue
        state = summary["categories"][cat]
        mark, color = MARK[state]
        counts = ", ".join(f"{n} {word}" for word, n in (
            ("ok", sum(f.status == "ok" for f in items)),
            ("crashed", sum(f.status == "crash" for f in items)),
            ("failed", sum(f.status == "fail" for f in items)),
            ("warning" + ("s" if sum(f.status == "warn" for f in items) > 1 else ""),
             sum(f.status == "warn" for f in items)),
            ("skipped", sum(f.status == "skip" for f in items)),
        ) if n or word == "ok")
        if state == "skip":  # say why once, flutter-style, instead of N identical lines
            from collections import Counter

            why = Counter(f.summary.removeprefix("skipped: ") for f in items).most_common(1)[0][0]
            counts = f"all {len(items)} skipped; e.g. {why}"
        con.print(f"[{color}][{mark}][/] {title} [dim]({_esc(counts)})[/]", soft_wrap=True)
        for f in items:
            info = f.summary.startswith(INFO_PREFIX)
            if not verbose and not f.is_problem and not info:
                continue
            m, c = ("i", "blue") if info else MARK[f.status]
            # The id apart from the sentence, so a pipe (no dim) does not read "138 GB ready.x".
            con.print(f"    [{c}]{m}[/] {_esc(f.summary)}  [dim]\\[{f.id}][/]", soft_wrap=True)
            if f.is_problem or verbose:
                if f.detail and f.is_problem:
                    # A crash's traceback only with -v (flutter prints the stack in verbose mode).
                    detail = f.detail if verbose or f.status != "crash" else f.detail.splitlines()[0]
                    con.print(f"      [dim]{_esc(detail)}[/]", soft_wrap=True)
                if f.fix:
                    con.print(f"      fix: [bold]{_esc(f.fix)}[/]", soft_wrap=True)
            elif info and f.fix:
                con.print(f"      if you train it: {_esc(f.fix)}", soft_wrap=True)
            if verbose and f.source:
                con.print(f"      [dim]{source_label(f.source)} {_esc(f.source)}[/]",
                          soft_wrap=True)
    n = summary["categories_with_issues"]
    con.print("")
    skipped, total = summary["counts"]["skip"], summary["checks"]
    if n:
        con.print(f"[yellow]![/] Doctor found issues in {n} categor{'y' if n == 1 else 'ies'}.")
    elif summary["mostly_skipped"]:
        con.print(f"[yellow]-[/] No issues in the {total - skipped} check(s) that could run, but "
                  f"{skipped} of {total} were skipped: this is not a clean bill of health.")
    else:
        con.print("[green]•[/] No issues found!")
    if summary["mostly_skipped"] and summary["not_judged"]:
        con.print("  Not judged: " + "; ".join(
            f"{CATEGORIES[c]} ({_esc(why)})" for c, why in summary["not_judged"].items()),
            soft_wrap=True)
        if source is not None:
            con.print("  [dim]For more, paste `rigcheck probe --json` from that machine, or "
                      "`python -m torch.utils.collect_env` plus `nvidia-smi -q`.[/]")


INFO_PREFIX = "for information (default targets; none named with --target): "


def _informational(f: Any) -> Any:
    """Readiness for recipes nobody named is information, not a fault: a GTX 1050 owner must not
    fail over ResNet-50. Kept visible (rendered "i"), never a warning or a failure."""
    import dataclasses

    from rigcheck.doctor.findings import Status

    if f.category != "readiness" or f.status not in (Status.WARN, Status.FAIL):
        return f
    return dataclasses.replace(f, status=Status.OK, summary=INFO_PREFIX + f.summary)


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def doctor(
    facts_file: Annotated[Path | None, typer.Option(
        "--facts", "--paste", help="Check a facts file or any pasted text (an error, a log, collect_env, nvidia-smi, pip list, ...) instead of this machine; - reads standard input.")] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Show every check, skipped ones too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output (see the module docs).")] = False,
    deep: Annotated[bool, typer.Option("--deep", help="Also run active GPU tests (matmul, gradcheck, bandwidth, P2P; < 30 s).")] = False,
    target: Annotated[list[str] | None, typer.Option(
        "--target", help="A recipe id to check readiness for; repeatable (default: the "
        "recipes tagged default-mix).")] = None,
    data_dir: Annotated[list[Path] | None, typer.Option(
        "--data-dir", help="A data directory whose disk space to check; repeatable.")] = None,
    fleet: Annotated[bool, typer.Option(
        "--fleet", help="Compare machines: under torchrun (every rank probes, rank 0 reports), "
                        "or over --facts-dir.")] = False,
    facts_dir: Annotated[Path | None, typer.Option(
        "--facts-dir", metavar="DIR", help="With --fleet: a folder of facts files, one per machine.")] = None,
    fleet_timeout_s: Annotated[float, typer.Option(
        "--fleet-timeout", metavar="SECONDS", help="With --fleet: give up on missing ranks after this long.")] = 120.0,
) -> None:
    """Diagnose a deep-learning machine: driver, GPUs, CUDA/PyTorch build, system, with fixes."""
    from rigcheck.doctor import run_checks, summarize

    for d in data_dir or ():   # a mistyped path must not be silently ignored (bench rejects it too)
        if not d.expanduser().is_dir():
            fail(f"--data-dir {d}: no such folder", EXIT_USAGE)
    if fleet or facts_dir is not None:
        # The multi-machine mode (issue 5) lives in distributed_cmd; it renders its own report.
        from rigcheck.ui.distributed_cmd import doctor_fleet

        raise typer.Exit(doctor_fleet(facts_dir=facts_dir, timeout_s=fleet_timeout_s,
                                      as_json=as_json, verbose=verbose,
                                      data_dirs=tuple(str(d) for d in data_dir or ())))

    llm_targets, classic_ids = _llm_targets(list(target or []))
    targets = _targets(classic_ids) if classic_ids or not target else []
    facts = _load_facts(facts_file, list(data_dir or []))
    predictions, note = _predictions(facts, targets)
    findings = run_checks(facts, targets, predictions=predictions, prediction_note=note,
                          llm_targets=llm_targets)
    if not target:
        findings = [_informational(f) for f in findings]
    if deep:
        from rigcheck.doctor.deep_findings import deep_findings

        if facts_file is not None:
            from rigcheck.doctor.findings import Finding, Status

            findings.append(Finding(id="deep.all", category="active", status=Status.SKIP,
                                    summary="skipped: --deep tests this machine, not a facts file"))
        else:
            from rigcheck.bench.deep import run_in_child

            # With CUDA_VISIBLE_DEVICES set, cuda:i is not NVML GPU i: no link figure to compare.
            links = {} if "CUDA_VISIBLE_DEVICES" in facts.python.env else {
                g.index: (g.pcie_gen_max, g.pcie_width_max) for g in facts.nvml.gpus}
            # The interpreter whose torch the probe used (may differ from rigcheck's own).
            python = getattr(facts.torch, "python_executable", None)
            findings += deep_findings(run_in_child(links, python=python))
    summary = summarize(findings)
    if as_json:
        print_json({
            "schema": JSON_SCHEMA,
            "findings": [f.to_dict() for f in findings],
            "summary": summary,
            "facts_origin": {"origin": facts.origin, "note": facts.origin_note,
                             "collected_at": facts.collected_at},
            "targets": [t.id for t in targets] + [t.id for t in llm_targets],
        })
    else:
        _render(findings, facts, verbose, facts_file)
    raise typer.Exit(EXIT_FINDINGS if summary["failed"] else EXIT_OK)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
