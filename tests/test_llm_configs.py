"""Bundled LLM configs: parameter counts against published ones, loose names, hostile files."""

from __future__ import annotations

import json

import pytest

from rigcheck.perfmodel.llm_configs import (
    ConfigError,
    bundled_models,
    find_model,
    load_config_file,
    parse_config,
)

# Published parameter counts. Exact integers are the safetensors totals shown on each model's
# Hugging Face page ("Model size") or printed in its model card; rounded ones are the model cards'
# own figures (Qwen3 cards give "Number of Parameters (Non-Embedding)", checked as such).
HF = "https://huggingface.co/"
PUBLISHED = {
    "llama-2-7b": (6_738_415_616, HF + "meta-llama/Llama-2-7b-hf"),
    "llama-2-13b": (13_015_864_320, HF + "meta-llama/Llama-2-13b-hf"),
    "llama-2-70b": (68_976_648_192, HF + "meta-llama/Llama-2-70b-hf"),
    "llama-3-8b": (8_030_261_248, HF + "meta-llama/Meta-Llama-3-8B"),
    "llama-3-70b": (70_553_706_496, HF + "meta-llama/Meta-Llama-3-70B"),
    "llama-3.1-8b": (8_030_261_248, HF + "meta-llama/Llama-3.1-8B"),
    "llama-3.1-70b": (70_553_706_496, HF + "meta-llama/Llama-3.1-70B"),
    "llama-3.1-405b": (405_853_388_800, HF + "meta-llama/Llama-3.1-405B"),
    "llama-3.2-1b": (1_235_814_400, HF + "meta-llama/Llama-3.2-1B"),
    "llama-3.2-3b": (3_212_749_824, HF + "meta-llama/Llama-3.2-3B"),
    "llama-3.3-70b": (70_553_706_496, HF + "meta-llama/Llama-3.3-70B-Instruct"),
    "tinyllama-1.1b": (1_100_048_384, HF + "TinyLlama/TinyLlama-1.1B-Chat-v1.0"),
    "qwen2.5-0.5b": (494_032_768, HF + "Qwen/Qwen2.5-0.5B"),
    "qwen2.5-1.5b": (1_543_714_304, HF + "Qwen/Qwen2.5-1.5B"),
    "qwen2.5-3b": (3_085_938_688, HF + "Qwen/Qwen2.5-3B"),
    "qwen2.5-7b": (7_615_616_512, HF + "Qwen/Qwen2.5-7B"),
    "qwen2.5-14b": (14.7e9, HF + "Qwen/Qwen2.5-14B (card: 14.7B)"),
    "qwen2.5-32b": (32.5e9, HF + "Qwen/Qwen2.5-32B (card: 32.5B)"),
    "qwen2.5-72b": (72.7e9, HF + "Qwen/Qwen2.5-72B (card: 72.7B)"),
    "qwen3-8b": (8.2e9, HF + "Qwen/Qwen3-8B (card: 8.2B)"),
    "qwen3-14b": (14.8e9, HF + "Qwen/Qwen3-14B (card: 14.8B)"),
    "qwen3-32b": (32.8e9, HF + "Qwen/Qwen3-32B (card: 32.8B)"),
    "qwen3-30b-a3b": (30.5e9, HF + "Qwen/Qwen3-30B-A3B (card: 30.5B total, 3.3B activated)"),
    "qwen3-235b-a22b": (235e9, HF + "Qwen/Qwen3-235B-A22B (card: 235B total, 22B activated)"),
    "mistral-7b-v0.1": (7_241_732_096, HF + "mistralai/Mistral-7B-v0.1"),
    "mistral-7b-v0.3": (7_248_023_552, HF + "mistralai/Mistral-7B-v0.3"),
    "mistral-nemo-12b": (12.2e9, HF + "mistralai/Mistral-Nemo-Base-2407 (12.2B)"),
    "mistral-small-24b": (23.6e9, HF + "mistralai/Mistral-Small-24B-Base-2501 (23.6B)"),
    "mixtral-8x7b": (46_702_792_704, HF + "mistralai/Mixtral-8x7B-v0.1"),
    "mixtral-8x22b": (140.6e9, HF + "mistralai/Mixtral-8x22B-v0.1 (141B)"),
    "gemma-2-2b": (2_614_341_888, HF + "google/gemma-2-2b"),
    "gemma-2-9b": (9_241_705_984, HF + "google/gemma-2-9b"),
    "gemma-2-27b": (27_227_128_320, HF + "google/gemma-2-27b"),
    "gemma-3-1b": (999_885_952, HF + "google/gemma-3-1b-pt"),
    "gemma-3-4b": (4_300_079_472, HF + "google/gemma-3-4b-pt"),
    "gemma-3-12b": (12.2e9, HF + "google/gemma-3-12b-pt (12.2B)"),
    "gemma-3-27b": (27.4e9, HF + "google/gemma-3-27b-pt (27.4B)"),
    "phi-3-mini": (3_821_079_552, HF + "microsoft/Phi-3-mini-4k-instruct"),
    "phi-3-medium": (13_960_238_080, HF + "microsoft/Phi-3-medium-4k-instruct"),
    "phi-4": (14_659_507_200, HF + "microsoft/phi-4"),
    "phi-4-mini": (3_836_021_760, HF + "microsoft/Phi-4-mini-instruct"),
    "deepseek-r1-distill-qwen-1.5b": (1.78e9, HF + "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B (1.78B)"),
    "deepseek-r1-distill-qwen-7b": (7.62e9, HF + "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B (7.62B)"),
    "deepseek-r1-distill-llama-8b": (8.03e9, HF + "deepseek-ai/DeepSeek-R1-Distill-Llama-8B (8.03B)"),
    "deepseek-v3": (671e9, HF + "deepseek-ai/DeepSeek-V3 (671B main model + 14B MTP module)"),
    "deepseek-v2-lite": (15.7e9, HF + "deepseek-ai/DeepSeek-V2-Lite (15.7B total, 2.4B active)"),
    "gpt-oss-20b": (21e9, "https://openai.com/index/introducing-gpt-oss/ (21B total, 3.6B active)"),
    "gpt-oss-120b": (117e9, "https://openai.com/index/introducing-gpt-oss/ (117B total, 5.1B active)"),
    "gpt2": (124_439_808, HF + "openai-community/gpt2"),
    "gpt2-medium": (354_823_168, HF + "openai-community/gpt2-medium"),
    "gpt2-large": (774_030_080, HF + "openai-community/gpt2-large"),
    "gpt2-xl": (1_557_611_200, HF + "openai-community/gpt2-xl"),
}
# Qwen3 cards: "Number of Parameters (Non-Embedding)" (embedding = vocab x hidden, once).
NON_EMBEDDING = {"qwen3-0.6b": 0.44e9, "qwen3-1.7b": 1.4e9, "qwen3-4b": 3.6e9}
ACTIVE = {"qwen3-30b-a3b": 3.3e9, "qwen3-235b-a22b": 22e9, "deepseek-v3": 37e9,
          "mixtral-8x7b": 12.9e9, "gpt-oss-20b": 3.6e9, "gpt-oss-120b": 5.1e9}


def test_at_least_forty_bundled_models_and_each_family():
    ids = set(bundled_models())
    assert len(ids) >= 40
    for family in ("llama-2", "llama-3-", "llama-3.1", "llama-3.2", "llama-3.3", "qwen2.5", "qwen3",
                   "mistral", "mixtral", "gemma-2", "gemma-3", "phi-3", "phi-4", "deepseek-r1",
                   "deepseek-v3", "gpt-oss", "gpt2", "tinyllama"):
        assert any(i.startswith(family) for i in ids), family


@pytest.mark.parametrize("mid", sorted(PUBLISHED))
def test_param_count_within_one_percent_of_published(mid):
    published, _source = PUBLISHED[mid]
    got = bundled_models()[mid].total_params()
    assert abs(got / published - 1) <= 0.01, (mid, got, published)


@pytest.mark.parametrize("mid", sorted(NON_EMBEDDING))
def test_qwen3_non_embedding_counts(mid):
    cfg = bundled_models()[mid]
    got = cfg.total_params() - cfg.vocab_size * cfg.hidden_size
    assert abs(got / NON_EMBEDDING[mid] - 1) <= 0.05   # cards round to 2 digits: 0.44 B


@pytest.mark.parametrize("mid", sorted(ACTIVE))
def test_moe_active_params_near_published(mid):
    # gpt-oss's 3.6B/5.1B leave the embedding out; so do we here, for the comparison.
    cfg = bundled_models()[mid]
    got = cfg.active_params() - (cfg.vocab_size * cfg.hidden_size if mid.startswith("gpt-oss") else 0)
    assert abs(got / ACTIVE[mid] - 1) <= 0.05, (mid, got)


def test_llama3_8b_count_by_hand():
    # embed 128256 x 4096 + head (untied) the same; per layer q 4096^2, k,v 4096 x 1024, o 4096^2,
    # MLP 3 x 4096 x 14336, two RMSNorms 2 x 4096; final norm 4096.
    per_layer = 4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 14336 + 2 * 4096
    expected = 2 * 128256 * 4096 + 32 * per_layer + 4096
    assert expected == 8_030_261_248
    assert find_model("llama-3-8b").total_params() == expected


def test_every_bundled_file_names_its_source():
    for cfg in bundled_models().values():
        assert cfg.source.startswith("https://huggingface.co/"), cfg.id


@pytest.mark.parametrize("query,want", [
    ("Llama 3 8B", "llama-3-8b"), ("meta-llama/Llama-3.1-8B", "llama-3.1-8b"),
    ("qwen2.5-7b", "qwen2.5-7b"), ("Qwen/Qwen2.5-7B-Instruct", "qwen2.5-7b"),
    ("llama3.1 8b", "llama-3.1-8b"), ("Mixtral", "mixtral-8x7b"), ("gpt-oss-20b", "gpt-oss-20b"),
    ("TinyLlama", "tinyllama-1.1b"), ("google/gemma-2-9b-it", "gemma-2-9b"),
])
def test_loose_names(query, want):
    assert find_model(query).id == want


def test_unknown_name_suggests_near_ids():
    with pytest.raises(ConfigError, match="did you mean"):
        find_model("llama-3.1-9b")


def _write(tmp_path, raw, name="config.json"):
    p = tmp_path / name
    p.write_text(raw if isinstance(raw, str) else json.dumps(raw))
    return p


GOOD = {"model_type": "llama", "hidden_size": 512, "intermediate_size": 1024, "num_hidden_layers": 2,
        "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 1000}


def test_user_config_file_is_read(tmp_path):
    cfg = find_model(str(_write(tmp_path, GOOD)))
    # embed + head 2 x 1000 x 512; layer: q,o 512^2 each, k,v 512 x 128, MLP 3 x 512 x 1024, 2 norms
    per_layer = 2 * 512 * 512 + 2 * 512 * 128 + 3 * 512 * 1024 + 2 * 512
    assert cfg.total_params() == 2 * 1000 * 512 + 2 * per_layer + 512


@pytest.mark.parametrize("change,field", [
    ({"hidden_size": None}, "hidden_size"),
    ({"hidden_size": -4096}, "hidden_size"),
    ({"num_hidden_layers": 0}, "num_hidden_layers"),
    ({"vocab_size": "big"}, "vocab_size"),
    ({"num_attention_heads": True}, "num_attention_heads"),
    ({"num_key_value_heads": 3}, "num_key_value_heads"),
    ({"hidden_size": 10**15}, "hidden_size"),
    ({"intermediate_size": 2.5}, "intermediate_size"),
    ({"tie_word_embeddings": "yes"}, "tie_word_embeddings"),
])
def test_bad_fields_name_file_and_field(tmp_path, change, field):
    raw = dict(GOOD)
    for k, v in change.items():
        if v is None:
            raw.pop(k)
        else:
            raw[k] = v
    p = _write(tmp_path, raw)
    with pytest.raises(ConfigError) as err:
        load_config_file(p)
    msg = str(err.value)
    assert str(p) in msg and field in msg and "\n" not in msg


def test_absurd_total_rejected(tmp_path):
    # each size within its own limit, but 10^15 parameters in all
    raw = dict(GOOD, hidden_size=65536, intermediate_size=1 << 20, num_hidden_layers=4096,
               num_attention_heads=64, num_key_value_heads=64)
    with pytest.raises(ConfigError, match="parameters"):
        load_config_file(_write(tmp_path, raw))


def test_huge_and_non_json_files(tmp_path):
    big = tmp_path / "big.json"
    with big.open("wb") as f:
        f.seek(100_000_000)
        f.write(b"}")
    with pytest.raises(ConfigError, match="MB"):
        load_config_file(big)
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config_file(_write(tmp_path, "{not json", "x.json"))
    with pytest.raises(ConfigError, match="not a JSON object"):
        load_config_file(_write(tmp_path, "[1, 2]", "y.json"))
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config_file(_write(tmp_path, "[" * 100000, "deep.json"))


def test_moe_needs_top_k(tmp_path):
    raw = dict(GOOD, num_experts=8, moe_intermediate_size=256, num_experts_per_tok=9)
    with pytest.raises(ConfigError, match="num_experts_per_tok"):
        parse_config(raw, "cfg")
