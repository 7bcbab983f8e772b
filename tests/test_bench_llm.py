"""The LLM bench's model is a real decoder: its KV cache, its LoRA step and its size are checked
against independent references (a full forward pass, the frozen base weights, the config's
parameter arithmetic), on the CPU configuration the quick bench runs."""

from __future__ import annotations

import torch

from rigcheck.bench import llm


def _cpu_model():
    device = torch.device("cpu")
    cfg, model, _ = llm._build(device, fresh=True)
    return device, cfg, model


def test_cached_decode_matches_a_full_forward_pass():
    # Greedy decoding with the KV cache must give the logits a full (uncached) forward pass gives
    # at the same positions; a wrong cache, RoPE offset or causal mask breaks this.
    device, cfg, model = _cpu_model()
    torch.manual_seed(1)
    ids = torch.randint(0, cfg.vocab_size, (1, 6), device=device)
    caches: list = [[] for _ in model.layers]
    with torch.inference_mode():
        step_logits = [model(ids[:, :3], 0, caches, last_only=True)]
        for i in range(3, 6):
            step_logits.append(model(ids[:, i:i + 1], i, caches, last_only=True))
        full = model(ids)
    for k, logits in enumerate(step_logits):
        pos = 2 + k
        assert torch.allclose(logits[0, -1], full[0, pos], atol=1e-4, rtol=1e-4), pos
    # and the cache really grew to the six tokens seen
    assert caches[0][0].shape[2] == 6


def test_bench_model_size_is_the_config_arithmetic():
    # The torch module built for the CPU bench and the perfmodel's config arithmetic are two
    # independent descriptions of the same network: their parameter counts must agree.
    _, cfg, model = _cpu_model()
    built = sum(p.numel() for p in model.parameters())
    assert built == cfg.total_params()


def test_lora_step_trains_only_the_adapters():
    device = torch.device("cpu")
    fig = llm.lora_step(device, budget_s=0.5, quick=True)
    assert fig.name == "llm-lora-step" and fig.unit == "tokens/s" and fig.value > 0
    # r=16 on q, k, v, o, gate, up, down of each layer (A is r x in, B is out x r). The CPU
    # bench model is Qwen2.5-0.5B's layer shapes (hidden 896, 14 query heads and 2 KV heads of
    # 64, MLP 4,864; its config.json) in 2 layers, written out by hand:
    per_layer = 16 * ((896 + 896)            # q_proj
                      + 2 * (896 + 128)       # k_proj, v_proj
                      + (896 + 896)           # o_proj
                      + 2 * (896 + 4864)      # gate_proj, up_proj
                      + (4864 + 896))         # down_proj
    assert fig.params["layers"] == 2
    assert fig.params["trainable_params"] == 2 * per_layer == 733_184


def test_prefill_and_decode_report_positive_rates_with_their_shapes():
    device = torch.device("cpu")
    pre = llm.prefill(device, budget_s=0.3, quick=True)
    dec = llm.decode(device, budget_s=0.3, quick=True)
    assert pre.unit == dec.unit == "tokens/s"
    assert pre.value > 0 and dec.value > 0
    assert pre.params["seq_len"] == 32 and dec.params["new_tokens"] == 8
