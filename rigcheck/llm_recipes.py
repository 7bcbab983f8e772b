"""LLM recipes: named fine-tuning and inference runs (``recipes/llm/*.toml``).

Each file names a bundled model (``models/``) and the run's settings; the id is the file name.
``rigcheck estimate --target llama-3.1-8b-qlora`` and ``recommend``'s default mix use them.
Unknown or missing fields are rejected with one line naming the file and field.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from rigcheck.perfmodel.llm_memory import LlmRun

REQUIRED = ("name", "model", "method", "description", "source")
OPTIONAL = {"weights": str, "seq_len": int, "micro_batch": int, "grad_accum": int,
            "grad_checkpointing": bool, "optimizer": str, "lora_rank": int, "context": int,
            "tags": list, "adapt": list}


class LlmRecipeError(ValueError):
    pass


@dataclass(frozen=True)
class LlmRecipe:
    id: str
    name: str
    model: str
    run: LlmRun
    description: str
    source: str
    tags: tuple[str, ...] = ()
    adapt: tuple[str, ...] = ()     # changes recommend may make: micro_batch, checkpointing, qlora, quantize


def llm_recipes_dir() -> Path:
    from rigcheck.paths import recipes_dir
    return recipes_dir() / "llm"


def load_llm_recipe(path: Path) -> LlmRecipe:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise LlmRecipeError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LlmRecipeError(f"{path}: not valid TOML: {exc}") from None
    for k in REQUIRED:
        if not isinstance(raw.get(k), str):
            raise LlmRecipeError(f"{path}: field '{k}' is missing or not text")
    for k, v in raw.items():
        if k in REQUIRED:
            continue
        if k not in OPTIONAL:
            raise LlmRecipeError(f"{path}: unknown field '{k}'")
        if not isinstance(v, OPTIONAL[k]) or (OPTIONAL[k] is int and isinstance(v, bool)):
            raise LlmRecipeError(f"{path}: field '{k}' must be {OPTIONAL[k].__name__}")
    run_fields = {k: raw[k] for k in ("weights", "seq_len", "micro_batch", "grad_accum",
                                       "grad_checkpointing", "optimizer", "lora_rank", "context")
                  if k in raw}
    run = LlmRun(method=raw["method"], **run_fields)
    return LlmRecipe(path.stem, raw["name"], raw["model"], run, raw["description"], raw["source"],
                     tuple(raw.get("tags", ())), tuple(raw.get("adapt", ())))


def load_llm_recipes(directory: Path | None = None) -> dict[str, LlmRecipe]:
    folder = directory or llm_recipes_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: load_llm_recipe(p) for p in sorted(folder.glob("*.toml"))}


def default_mix(recipes: dict[str, LlmRecipe]) -> tuple[LlmRecipe, ...]:
    return tuple(r for r in recipes.values() if "default-mix" in r.tags)
