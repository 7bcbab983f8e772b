"""`estimate --all-gpus`: a GPU the run does not fit shows no speed it cannot reach, but how
many of it would hold the run."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from rigcheck.ui.app import app


def test_rows_that_do_not_fit_name_the_gpu_count_instead_of_a_speed():
    # Llama 3.1 70B in bf16 for inference: 141 GB of weights, more than any single card but the
    # 180-288 GB ones; a 24 GB card needs 8 with tensor parallel (141 / 8 = 17.6 GB of weights).
    res = CliRunner().invoke(app, ["estimate", "--model", "llama-3.1-70b", "--method", "infer",
                                   "--all-gpus"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert re.match(r"Llama 3\.1 70B, infer: 1\d\d\.\d GB per GPU needed; \d+ of \d+ GPUs fit", lines[0])
    fits = [ln for ln in lines if ln.lstrip().startswith("fits")]
    nos = [ln for ln in lines if ln.lstrip().startswith("no ")]
    assert fits and nos
    assert all("tokens/s decode" in ln for ln in fits)
    assert not any("tokens/s" in ln for ln in nos)
    assert all("GPUs of this size with tensor parallel" in ln or "does not fit" in ln for ln in nos)
