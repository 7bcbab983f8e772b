"""``rigcheck recipes``: the training workloads rigcheck plans, benchmarks and estimates for.

Usage::

    rigcheck recipes                     # one line per recipe: id, model, batch, precision, data
    rigcheck recipes -v                  # ... and where each recipe's settings come from
    rigcheck recipes resnet50-imagenet   # every field of one recipe, with its source
    rigcheck recipes --json              # {"schema": 1, "recipes": [{...every field...}]}
    rigcheck recipes ID --json           # {"schema": 1, "recipe": {...}}
    rigcheck recipes --recipes DIR       # your own recipe folder (one TOML file per recipe)
    rigcheck recipes llama-3.1-8b-qlora  # an LLM recipe (recipes/llm/): model, method, work

LLM recipes (``recipes/llm/*.toml``, :mod:`rigcheck.llm_recipes`) are listed in a table of their
own and under ``llm_recipes`` in JSON (with ``disk_gb`` and ``default_mix``).

The ids are what ``--target`` takes in ``recommend``, ``estimate``, ``doctor`` and ``bench``.
JSON fields are the recipe file's fields (``recipes/README.md``) plus ``id``, ``dataset_gb`` and
``default_mix`` (true for the recipes used when no ``--target`` is named).

Exit codes: 0; 2 unknown id (with the nearest ids) or an unreadable recipe folder.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from rigcheck.ui.common import EXIT_USAGE, console, fail, print_json, quiet, verbose

JSON_SCHEMA = 1


def _as_dict(recipe: Any) -> dict[str, Any]:
    from rigcheck.recipes import DEFAULT_MIX_TAG

    data = dataclasses.asdict(recipe)
    data["dataset_gb"] = round(recipe.dataset_gb, 3)
    data["default_mix"] = DEFAULT_MIX_TAG in recipe.tags
    return data


def _llm_dict(recipe: Any) -> dict[str, Any]:
    from rigcheck.recipes import DEFAULT_MIX_TAG

    data = dataclasses.asdict(recipe)
    data["run"] = {k: v for k, v in data["run"].items() if k != "notes"}
    data["run"]["weights"] = recipe.run.weight_format
    data["disk_gb"] = round(recipe.disk_gb, 3)
    data["default_mix"] = DEFAULT_MIX_TAG in recipe.tags
    return data


def recipes_command(
    recipe_id: Annotated[str | None, typer.Argument(
        metavar="[ID]", help="Show this recipe in full (default: list them all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    recipes_dir: Annotated[Path | None, typer.Option(
        "--recipes", metavar="DIR", help="Read recipes from this folder instead of the bundled ones.")] = None,
) -> None:
    """List the target recipes (the ids --target takes), or show one in full."""
    from rigcheck.recipes import RecipeError, load_recipes
    from rigcheck.suggest import did_you_mean

    if recipes_dir is not None and not recipes_dir.is_dir():
        fail(f"--recipes {recipes_dir}: no such folder", EXIT_USAGE)
    from rigcheck.llm_recipes import LlmRecipeError, load_llm_recipes

    try:
        recipes = load_recipes(recipes_dir)
        llm = load_llm_recipes() if recipes_dir is None else {}
    except (RecipeError, LlmRecipeError) as exc:
        fail(str(exc), EXIT_USAGE)
    if recipe_id is not None and recipe_id in llm:
        if as_json:
            print_json({"schema": JSON_SCHEMA, "recipe": _llm_dict(llm[recipe_id])})
        else:
            _show_llm(llm[recipe_id])
        return
    if recipe_id is not None:
        if recipe_id not in recipes:
            known = {**recipes, **llm}
            fail(f"unknown recipe '{recipe_id}'{did_you_mean(recipe_id, known)}; "
                 "rigcheck recipes lists them", EXIT_USAGE)
        recipe = recipes[recipe_id]
        if as_json:
            print_json({"schema": JSON_SCHEMA, "recipe": _as_dict(recipe)})
        else:
            _show(recipe)
        return
    if as_json:
        print_json({"schema": JSON_SCHEMA, "recipes": [_as_dict(r) for r in recipes.values()],
                    "llm_recipes": [_llm_dict(r) for r in llm.values()]})
        return
    _list(recipes)
    if llm:
        _list_llm(llm)


def _sig(x: float) -> str:
    """Three significant digits, whole numbers grouped: 138, 16.4, 0.0158, 1,281."""
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}"


def _list(recipes: dict[str, Any]) -> None:
    from rigcheck.recipes import DEFAULT_MIX_TAG

    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for col in ("id", "model", "batch", "precision", "dataset", "epochs"):
        table.add_column(col, justify="right" if col in ("batch", "epochs") else "left")
    if verbose():
        table.add_column("source")
    for r in recipes.values():
        mark = " *" if DEFAULT_MIX_TAG in r.tags else ""
        cells = [escape(r.id + mark), escape(r.model), f"{r.batch_size:,}", r.precision,
                 escape(f"{r.dataset} ({_sig(r.dataset_gb)} GB)"), f"{r.epochs:g}"]
        table.add_row(*cells, *([escape(r.source or "-")] if verbose() else []))
    con = console()
    con.print(table)
    if not quiet():
        con.print("* default mix: the targets of recommend and doctor when no --target is named. "
              "batch: samples per step per GPU; GB: the dataset as stored on disk. "
              "Full recipe: rigcheck recipes ID", soft_wrap=True)


def _show(r: Any) -> None:
    from rigcheck.recipes import DEFAULT_MIX_TAG

    rows = [
        ("model", f"{r.model} ({r.family})"),
        ("input", " x ".join(str(x) for x in r.input_shape) + " per sample"),
        ("batch", f"{r.batch_size:,} samples per step per GPU"),
        ("precision", r.precision),
        ("optimizer", r.optimizer),
        ("dataset", f"{r.dataset}: {r.dataset_samples:,} samples, {_sig(r.dataset_gb)} GB on disk"),
        ("epochs", f"{r.epochs:g}"),
        ("parameters", f"{r.params:,} ({r.trainable_params:,} trained)"),
        ("compute", f"{_sig(r.train_flops_per_sample / 1e9)} GFLOP per sample per training step "
                    "(forward + backward)"),
        ("activations", f"{_sig(r.activation_bytes_per_sample / 1e6)} MB per sample kept for backward"),
        ("recommend may", "a smaller batch with gradient accumulation" if r.adapt
         else "change nothing"),
        ("default mix", "yes" if DEFAULT_MIX_TAG in r.tags else "no"),
        ("source", r.source or "-"),
    ]
    _print_card(r, rows)


def _work(r: Any) -> str:
    if r.run.method == "infer":
        return f"generate {r.generate_tokens / 1e6:.3g} M tokens"
    return f"train on {r.train_tokens / 1e6:.3g} M tokens"


def _list_llm(recipes: dict[str, Any]) -> None:
    from rigcheck.recipes import DEFAULT_MIX_TAG

    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for col in ("LLM recipe", "model", "method", "weights", "seq", "micro-batch", "work"):
        table.add_column(col, justify="right" if col in ("seq", "micro-batch") else "left")
    for r in recipes.values():
        mark = " *" if DEFAULT_MIX_TAG in r.tags else ""
        table.add_row(escape(r.id + mark), escape(r.model), r.run.method, r.run.weight_format,
                      f"{r.run.seq_len:,}", f"{r.run.micro_batch}", escape(_work(r)))
    con = console()
    con.print()
    con.print(table)
    if not quiet():
        con.print("* default mix: recommend keeps these where the budget allows (dropped last "
                  "first, with the price of a build that runs them); doctor judges them. "
                  "Full recipe: rigcheck recipes ID", soft_wrap=True)


def _show_llm(r: Any) -> None:
    from rigcheck.recipes import DEFAULT_MIX_TAG

    run = r.run
    rows = [
        ("model", r.model),
        ("method", f"{run.method}, {run.weight_format} weights"),
        ("sequence", f"{run.seq_len:,} tokens" + (f", context {run.context:,}" if run.context else "")),
        ("batch", f"micro-batch {run.micro_batch} x {run.grad_accum} accumulation"
                  if run.training else f"{run.micro_batch} concurrent stream(s)"),
        ("work", _work(r) + (f" ({r.dataset})" if r.dataset else "")),
        ("disk", f"{_sig(r.disk_gb)} GB (model files as downloaded + data)"),
        ("recommend may", "; ".join(_ADAPT_WORDS.get(a, a) for a in r.adapt) or "change nothing"),
        ("default mix", f"yes (priority {r.priority})" if DEFAULT_MIX_TAG in r.tags else "no"),
        ("source", r.source or "-"),
    ]
    if run.training:
        rows.insert(4, ("optimizer", f"{run.optimizer}"
                        + (f", LoRA r={run.lora_rank}" if run.method in ("lora", "qlora") else "")
                        + (", gradient checkpointing" if run.checkpointing else "")))
    _print_card(r, rows)


# What each adaptation an LLM recipe allows does, in the user's words (llm_recipes.ADAPTATIONS).
_ADAPT_WORDS = {"micro_batch": "use a smaller micro-batch (more accumulation, or fewer streams)",
                "checkpointing": "turn on gradient checkpointing",
                "qlora": "switch LoRA to QLoRA (4-bit NF4 base)",
                "quantize": "serve 4-bit weights"}


def _print_card(r: Any, rows: list[tuple[str, str]]) -> None:
    """A recipe's title, description and field: value rows."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    con = console()
    con.print(f"[bold]{escape(r.name)}[/] ({escape(r.id)})", soft_wrap=True)
    if r.description:
        con.print(escape(r.description), soft_wrap=True)
    for k, v in rows:
        grid.add_row(k, escape(v))
    con.print(grid)


def register(app: typer.Typer) -> None:
    app.command("recipes")(recipes_command)
