"""perfmodel.hardware decisions pinned at their boundaries, from the sources the module cites:
PyTorch's TF32 defaults (cuDNN on, cuBLAS off since 1.12), bf16 from compute capability 8.0,
tensor cores from 7.0, GeForce fp16-accumulate at half rate (NVIDIA whitepapers), fp32 lanes
per SM from the CUDA C++ Programming Guide throughput table, flagship board power per fp32
TFLOP from NVIDIA datasheets."""

from __future__ import annotations

import pytest

from rigcheck.perfmodel import hardware as hw
from tests.parts_factory import gpu, recipe


def card(arch="Ada Lovelace", cc="8.9", **kw):
    return gpu("card", architecture=arch, compute_capability=cc, **kw)


def amd(**kw):
    fields = dict(vendor="AMD", architecture="AMD RDNA 3.0", compute_capability="",
                  tensor_fp16_tflops=None, tensor_bf16_tflops=None, tensor_tf32_tflops=None)
    fields.update(kw)
    return gpu("amd", **fields)


# ---- identity -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "cc"), [
    ("8.9", (8, 9)), ("9", (9, 0)), ("12.0", (12, 0)), ("x.y", (0, 0)), ("", (0, 0)),
])
def test_compute_capability_parsing(text, cc):
    assert hw.compute_capability(card(cc=text)) == cc


def test_is_nvidia():
    assert hw.is_nvidia(card())
    assert hw.is_nvidia(card(vendor=""))
    assert not hw.is_nvidia(amd())


@pytest.mark.parametrize(("cc", "gen"), [
    ("3.5", "Kepler"), ("5.2", "Maxwell"), ("6.1", "Pascal"), ("7.0", "Volta"), ("7.2", "Volta"),
    ("7.4", "Volta"), ("7.5", "Turing"), ("7.6", "Turing"), ("8.0", "Ampere"), ("8.6", "Ampere"),
    ("8.9", "Ada Lovelace"), ("8.8", "Ampere"), ("9.0", "Hopper"), ("10.0", "Blackwell"),
    ("12.0", "Blackwell"), ("4.0", "unknown"), ("11.0", "unknown"),
])
def test_generation_from_compute_capability_when_architecture_unknown(cc, gen):
    assert hw.generation(card(arch="GX999", cc=cc)) == gen


@pytest.mark.parametrize(("arch", "gen"), [
    ("Ada Lovelace", "Ada Lovelace"), ("NVIDIA Ampere GA102", "Ampere"), ("hopper", "Hopper"),
    ("Blackwell 2.0", "Blackwell"), ("Turing", "Turing"),
])
def test_generation_from_architecture_name(arch, gen):
    assert hw.generation(card(arch=arch, cc="1.0")) == gen


def test_generation_other_vendors():
    assert hw.generation(amd()) == "AMD RDNA 3.0"
    assert hw.generation(amd(architecture="CDNA3")) == "AMD CDNA3"
    assert hw.generation(amd(architecture="")) == "AMD"


def test_is_geforce():
    assert hw.is_geforce(card(name="GeForce RTX 4090", form="workstation"))
    assert hw.is_geforce(card(name="RTX 4090", form="consumer"))
    assert not hw.is_geforce(card(name="TITAN RTX", form="consumer"))
    assert not hw.is_geforce(card(name="A100", form="datacenter"))


# ---- capabilities -------------------------------------------------------------------------

def test_tensor_cores_from_cc_70():
    assert hw.has_tensor_cores(card(cc="7.0", tensor_fp16_tflops=125.0))
    assert not hw.has_tensor_cores(card(cc="6.1", tensor_fp16_tflops=125.0))
    assert not hw.has_tensor_cores(card(cc="7.0", tensor_fp16_tflops=None))
    assert hw.has_tensor_cores(amd(tensor_fp16_tflops=120.0))
    assert not hw.has_tensor_cores(amd())


def test_bf16_from_cc_80():
    assert hw.supports_bf16(card(cc="8.0"))
    assert not hw.supports_bf16(card(cc="7.5"))
    assert hw.supports_bf16(amd(tensor_bf16_tflops=120.0))
    assert not hw.supports_bf16(amd())


def test_tensor16_rates():
    g = card(tensor_fp16_tflops=100.0, tensor_bf16_tflops=90.0)
    assert hw.tensor16_tflops(g) == 100.0
    assert hw.tensor16_tflops(g, "bf16") == 90.0
    assert hw.tensor16_tflops(card(tensor_fp16_tflops=100.0, tensor_bf16_tflops=None),
                              "bf16") == 100.0                 # no bf16 figure: the fp16 one
    assert hw.tensor16_tflops(card(tensor_fp16_tflops=None, tensor_bf16_tflops=None)) is None
    assert hw.tensor16_tflops(card(cc="6.1", tensor_fp16_tflops=100.0)) is None


def test_geforce_fp16_accumulate_figure_is_halved():
    gf = card(name="GeForce RTX 3090", tensor_fp16_tflops=142.0, tensor_accumulate="fp16")
    assert hw.tensor16_tflops(gf) == 71.0
    dc = card(name="A40", form="datacenter", tensor_fp16_tflops=142.0, tensor_accumulate="fp16")
    assert hw.tensor16_tflops(dc) == 142.0
    f32 = card(name="GeForce RTX 3090", tensor_fp16_tflops=71.0, tensor_accumulate="fp32")
    assert hw.tensor16_tflops(f32) == 71.0


def test_tf32_rates():
    assert hw.tf32_tflops(card(cc="8.0", tensor_tf32_tflops=156.0)) == 156.0
    assert hw.tf32_tflops(card(cc="8.0", tensor_tf32_tflops=None, tensor_fp16_tflops=312.0)) \
        == 156.0                                               # half the fp16 rate
    assert hw.tf32_tflops(card(cc="7.5", tensor_tf32_tflops=50.0)) is None
    assert hw.tf32_tflops(card(cc="8.0", tensor_tf32_tflops=None, tensor_fp16_tflops=None)) is None
    gf = card(name="GeForce RTX 3090", tensor_tf32_tflops=None, tensor_fp16_tflops=142.0,
              tensor_accumulate="fp16")
    assert hw.tf32_tflops(gf) == 35.5                          # half of the halved 71
    assert hw.tf32_tflops(amd(tensor_tf32_tflops=80.0)) == 80.0
    assert hw.tf32_tflops(amd(tensor_fp16_tflops=160.0)) is None   # never derived off NVIDIA


@pytest.mark.parametrize(("cc", "lanes"), [
    ("6.0", 64), ("6.1", 128), ("7.0", 64), ("7.2", 64), ("7.5", 64), ("8.0", 64), ("8.6", 128),
    ("8.9", 128), ("9.0", 128), ("5.2", 128),
])
def test_sm_ghz_from_fp32_lanes(cc, lanes):
    assert hw.sm_ghz(card(cc=cc, fp32_tflops=20.0)) == pytest.approx(20_000 / (2 * lanes))


@pytest.mark.parametrize(("cc", "tdp_w", "tflops"), [
    ("7.5", 280, 16.3), ("8.0", 400, 19.5), ("8.6", 450, 40.0), ("8.7", 450, 40.0),
    ("8.9", 450, 82.6), ("9.0", 700, 66.9), ("10.0", 1000, 74.5), ("12.0", 575, 104.8),
])
def test_power_headroom_of_each_flagship_is_one(cc, tdp_w, tflops):
    assert hw.power_headroom(card(cc=cc, tdp_w=tdp_w, fp32_tflops=tflops)) == pytest.approx(1.0)
    assert hw.power_headroom(card(cc=cc, tdp_w=tdp_w / 2, fp32_tflops=tflops)) == pytest.approx(0.5)


def test_power_headroom_unknown():
    assert hw.power_headroom(card(cc="6.1", tdp_w=250)) is None      # pre-Volta: no reference
    assert hw.power_headroom(amd(tdp_w=300)) is None
    assert hw.power_headroom(card(tdp_w=0)) is None
    assert hw.power_headroom(card(fp32_tflops=0.0)) is None


# ---- families ------------------------------------------------------------------------------

@pytest.mark.parametrize(("family", "model", "tags", "key"), [
    ("CNN", "x", (), "cnn"), ("gemm", "x", (), "gemm"), ("rnn", "x", (), "rnn"),
    ("transformer", "x", (), "transformer"),
    ("autoencoder", "conv_ae", (), "cnn"), ("autoencoder", "mlp", ("cnn",), "cnn"),
    ("other", "lstm_lm", (), "rnn"), ("other", "m", ("GRU",), "rnn"), ("other", "char-rnn", (), "rnn"),
    ("autoencoder", "mlp_ae", ("mnist",), "transformer"),
])
def test_family_key(family, model, tags, key):
    assert hw.family_key(recipe(family=family, model=model, tags=tags)) == key


def test_uses_cudnn():
    assert hw.uses_cudnn("cnn") and hw.uses_cudnn("rnn")
    assert not hw.uses_cudnn("transformer") and not hw.uses_cudnn("gemm")


# ---- resolve -------------------------------------------------------------------------------

def tr(precision="fp32"):
    return recipe(family="transformer", model="bert", precision=precision)


def rnn():
    return recipe(family="rnn", model="gnmt", precision="fp32")


def cnn():
    return recipe(family="cnn", model="resnet50", precision="fp32")


def setup_tuple(s):
    return (s.mode, s.label, s.peak_tflops, s.pclass)


def test_resolve_rejects_unknown_precision_and_reads_case():
    with pytest.raises(ValueError, match="fp8"):
        hw.resolve(tr(), card(), "fp8")
    assert hw.resolve(tr(), card(), "AMP").mode == "fp16"
    assert hw.resolve(tr("amp"), card(), None).mode == "fp16"        # the recipe's own


def test_resolve_half_modes_on_ada():
    g = card(tensor_fp16_tflops=80.0, tensor_bf16_tflops=70.0)
    assert setup_tuple(hw.resolve(tr(), g, "amp")) == ("fp16", "amp (fp16)", 80.0, "tc16")
    assert setup_tuple(hw.resolve(tr(), g, "fp16")) == ("fp16", "fp16 autocast", 80.0, "tc16")
    assert setup_tuple(hw.resolve(tr(), g, "bf16")) == ("bf16", "bf16 autocast", 70.0, "tc16")
    assert hw.resolve(tr(), g, "amp").notes == ()


def test_resolve_bf16_before_ampere_is_fp16():
    g = card(name="T4", arch="Turing", cc="7.5", tensor_fp16_tflops=65.0)
    s = hw.resolve(tr(), g, "bf16")
    assert setup_tuple(s) == ("fp16", "fp16 autocast (bf16 unsupported)", 65.0, "tc16")
    assert s.notes == ("bf16 needs compute capability 8.0 (Ampere); T4 is 7.5: modelled as fp16 "
                       "autocast instead",)
    a = amd(name="RX", tensor_fp16_tflops=120.0)
    assert hw.resolve(tr(), a, "bf16").notes[0] == ("RX lists no bf16 matrix rate: modelled as "
                                                   "fp16 autocast instead")


def test_resolve_half_without_tensor_cores_runs_at_fp32_rate():
    g = card(name="P40", arch="Pascal", cc="6.1", fp32_tflops=12.0, tensor_fp16_tflops=None)
    s = hw.resolve(tr(), g, "amp")
    assert setup_tuple(s) == ("fp16", "amp (fp16)", 12.0, "fp32")
    assert s.notes[0].startswith("P40 has no tensor cores: fp16 halves memory traffic")


def test_resolve_geforce_half_rate_note():
    g = card(name="GeForce RTX 3090", arch="Ampere", cc="8.6", tensor_fp16_tflops=142.0,
             tensor_accumulate="fp16")
    s = hw.resolve(tr(), g, "amp")
    assert s.peak_tflops == 71.0
    assert s.notes == ("GeForce tensor cores run fp16 with fp32 accumulate at half rate; the "
                       "halved figure is used",)


def test_resolve_tf32():
    assert setup_tuple(hw.resolve(tr(), card(tensor_tf32_tflops=40.0), "tf32")) == (
        "tf32", "tf32", 40.0, "tf32")
    g = card(name="T4", arch="Turing", cc="7.5", fp32_tflops=8.1)
    s = hw.resolve(tr(), g, "tf32")
    assert setup_tuple(s) == ("fp32", "fp32", 8.1, "fp32")
    assert s.notes == ("TF32 needs compute capability 8.0 (Ampere); T4 runs true fp32",)
    s = hw.resolve(tr(), amd(name="RX", fp32_tflops=60.0), "tf32")
    assert s.notes == ("RX lists no TF32 matrix rate; RX runs true fp32",)


def test_resolve_fp32_pytorch_defaults():
    g = card(fp32_tflops=20.0, tensor_tf32_tflops=40.0)
    s = hw.resolve(cnn(), g, "fp32")
    assert setup_tuple(s) == ("tf32", "fp32 (TF32 convs)", 40.0, "tf32")
    assert s.notes[0].startswith("fp32 on Ada Lovelace: cuDNN uses TF32 for convs by default")
    assert setup_tuple(hw.resolve(rnn(), g, "fp32")) == ("tf32", "fp32 (TF32 cuDNN RNN)", 40.0,
                                                         "tf32")
    s = hw.resolve(tr(), g, "fp32")
    assert setup_tuple(s) == ("fp32", "fp32", 20.0, "fp32")
    assert s.notes[0].startswith("fp32 matmuls do not use TF32 by default since PyTorch 1.12")


def test_resolve_fp32_ngc_tf32_matmul():
    g = card(fp32_tflops=20.0, tensor_tf32_tflops=40.0)
    s = hw.resolve(tr(), g, "fp32", tf32_matmul=True)
    assert setup_tuple(s) == ("tf32", "fp32 (TF32 matmuls)", 40.0, "tf32")
    assert s.notes[0].startswith("fp32 matmuls run as TF32: allow_tf32 is on")
    assert hw.resolve(tr(), g, "fp32", tf32_matmul=False).pclass == "fp32"
    assert hw.resolve(cnn(), g, "fp32", tf32_matmul=True).label == "fp32 (TF32 convs)"


def test_resolve_fp32_without_tf32_or_off_nvidia():
    t4 = card(arch="Turing", cc="7.5", fp32_tflops=8.1)
    for r in (tr(), cnn()):
        s = hw.resolve(r, t4, "fp32", tf32_matmul=True)
        assert setup_tuple(s) == ("fp32", "fp32", 8.1, "fp32")
        assert s.notes == ()
    a = amd(fp32_tflops=60.0, tensor_tf32_tflops=120.0)
    s = hw.resolve(cnn(), a, "fp32", tf32_matmul=True)
    assert setup_tuple(s) == ("fp32", "fp32", 60.0, "fp32")
    assert s.notes == ()


def test_volta_chips_share_one_power_reference():
    # GV100 (7.0) and Xavier (7.2) use the same flagship reference, V100 SXM2's 300 W / 15.7
    # (pinned in tests/test_gpu_peaks_datasheet_values.py): 250 / (15.7 x 300 / 15.7) = 0.833
    v100 = hw.power_headroom(card(cc="7.0", tdp_w=250, fp32_tflops=15.7))
    xavier = hw.power_headroom(card(cc="7.2", tdp_w=250, fp32_tflops=15.7))
    assert v100 is not None and xavier is not None
    assert v100 == xavier
    assert 0.7 < v100 <= 1.0


def test_compute_setup_is_frozen():
    import dataclasses
    with pytest.raises(dataclasses.FrozenInstanceError):
        hw.resolve(tr(), card(), "amp").mode = "fp32"  # type: ignore[misc]


def test_resolve_no_half_rate_note_off_geforce():
    dc = card(name="A40", form="datacenter", arch="Ampere", cc="8.6", tensor_fp16_tflops=149.7,
              tensor_accumulate="fp16")
    s = hw.resolve(tr(), dc, "amp")
    assert (s.peak_tflops, s.notes) == (149.7, ())
