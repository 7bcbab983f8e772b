"""LLM recipes: named fine-tuning and inference runs (``recipes/llm/*.toml``).

Each file names a bundled model (``models/``) and the run's settings; the id is the file name.
``rigcheck estimate --target llama-3.1-8b-qlora`` and ``recommend``'s default mix use them.
Unknown or missing fields are rejected with one line naming the file and field, and so is a model
that is not bundled.

The work a recipe stands for, so that ``recommend`` can add it to a mix of training times:
``train_tokens`` (fine-tuning: tokens processed in the whole run) or ``generate_tokens``
(inference: tokens generated). ``disk_gb`` is what the run keeps on disk: the checkpoint as it is
downloaded (training reads the 16-bit Hugging Face safetensors and quantises at load; inference
reads its own format, e.g. a GGUF file) plus ``dataset_gb``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rigcheck.perfmodel.llm_configs import ConfigError, find_model
from rigcheck.perfmodel.llm_memory import WEIGHT_BITS, LlmRun, LlmRunError, validate
from rigcheck.recipes import DEFAULT_MIX_TAG, read_toml

REQUIRED = ("name", "model", "method", "description", "source")
OPTIONAL = {"weights": str, "seq_len": int, "micro_batch": int, "grad_accum": int,
            "grad_checkpointing": bool, "optimizer": str, "lora_rank": int, "context": int,
            "tags": list, "adapt": list, "train_tokens": int, "generate_tokens": int,
            "dataset": str, "dataset_gb": float, "priority": int}
# Bits per weight of the checkpoint a training run downloads (Hugging Face safetensors, bf16).
CHECKPOINT_TRAIN_BITS = 16.0
ADAPTATIONS = ("micro_batch", "checkpointing", "qlora", "quantize")


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
    train_tokens: int = 0           # fine-tuning: tokens processed in the whole run
    generate_tokens: int = 0        # inference: tokens generated
    dataset: str = ""
    dataset_gb: float = 0.0         # the training data (inference: 0)
    checkpoint_gb: float = 0.0      # the model's files as downloaded (see the module docstring)
    priority: int = 0               # default mix: kept longest when a budget cannot run them all

    @property
    def disk_gb(self) -> float:
        return self.checkpoint_gb + self.dataset_gb

    @property
    def bytes_per_sample(self) -> int:
        """A sequence of 32-bit token ids: what a training step reads from disk per sample."""
        return 4 * self.run.seq_len

    @property
    def work_tokens(self) -> int:
        return self.generate_tokens if self.run.method == "infer" else self.train_tokens


def llm_recipes_dir() -> Path:
    from rigcheck.paths import recipes_dir
    return recipes_dir() / "llm"


def load_llm_recipe(path: Path) -> LlmRecipe:
    raw = read_toml(path, LlmRecipeError)
    for k in REQUIRED:
        if not isinstance(raw.get(k), str):
            raise LlmRecipeError(f"{path}: field '{k}' is missing or not text")
    for k, v in raw.items():
        if k in REQUIRED:
            continue
        if k not in OPTIONAL:
            raise LlmRecipeError(f"{path}: unknown field '{k}'")
        want = (int, float) if OPTIONAL[k] is float else OPTIONAL[k]
        if not isinstance(v, want) or (OPTIONAL[k] in (int, float) and isinstance(v, bool)):
            raise LlmRecipeError(f"{path}: field '{k}' must be {OPTIONAL[k].__name__}")
    for k in ("train_tokens", "generate_tokens", "dataset_gb", "priority"):
        if raw.get(k, 0) < 0:
            raise LlmRecipeError(f"{path}: field '{k}' must be >= 0")
    bad = [a for a in raw.get("adapt", ()) if a not in ADAPTATIONS]
    if bad:
        raise LlmRecipeError(f"{path}: field 'adapt': '{bad[0]}' is not one of {', '.join(ADAPTATIONS)}")
    run_fields = {k: raw[k] for k in ("weights", "seq_len", "micro_batch", "grad_accum",
                                       "grad_checkpointing", "optimizer", "lora_rank", "context")
                  if k in raw}
    run = LlmRun(method=raw["method"], **run_fields)
    try:
        cfg = find_model(raw["model"])
        validate(run, cfg)
        fmt = run.weight_format
    except (ConfigError, LlmRunError) as exc:
        raise LlmRecipeError(f"{path}: field 'model' or 'weights': {exc}") from None
    bits = WEIGHT_BITS[fmt] if run.method == "infer" else CHECKPOINT_TRAIN_BITS
    work_key = "generate_tokens" if run.method == "infer" else "train_tokens"
    other = "train_tokens" if work_key == "generate_tokens" else "generate_tokens"
    if other in raw:
        raise LlmRecipeError(f"{path}: field '{other}' does not apply to method '{run.method}' "
                             f"(use '{work_key}')")
    return LlmRecipe(path.stem, raw["name"], raw["model"], run, raw["description"], raw["source"],
                     tuple(raw.get("tags", ())), tuple(raw.get("adapt", ())),
                     train_tokens=int(raw.get("train_tokens", 0)),
                     generate_tokens=int(raw.get("generate_tokens", 0)),
                     dataset=str(raw.get("dataset", "")), dataset_gb=float(raw.get("dataset_gb", 0.0)),
                     checkpoint_gb=cfg.total_params() * bits / 8 / 1e9,
                     priority=int(raw.get("priority", 0)))


def load_llm_recipes(directory: Path | None = None) -> dict[str, LlmRecipe]:
    folder = directory or llm_recipes_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: load_llm_recipe(p) for p in sorted(folder.glob("*.toml"))}


def default_mix(recipes: dict[str, LlmRecipe]) -> tuple[LlmRecipe, ...]:
    """The recipes tagged ``default-mix``, by ``priority`` (then id): recommend drops them from the
    end when a budget cannot run them all."""
    return tuple(sorted((r for r in recipes.values() if DEFAULT_MIX_TAG in r.tags),
                        key=lambda r: (r.priority, r.id)))
