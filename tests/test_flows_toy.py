"""demos/deeper/flows_toy.py end to end at a tiny budget: files written, KL estimates sane."""

import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "demos", "deeper"))

import flows_toy  # noqa: E402


def test_flows_toy_tiny_run(tmp_path, capsys):
    out = tmp_path / "flows"
    argv = ["--targets", "banana", "ring", "--steps", "0", "2", "--iterations", "150"]
    argv += ["--restarts", "2", "--eval-samples", "4000", "--out", str(out), "--no-progress"]
    results = flows_toy.main(argv)
    assert {p.name for p in out.iterdir()} == {"flows.png", "table.md", "results.json"}
    saved = json.loads((out / "results.json").read_text())
    assert saved["kl"] == json.loads(json.dumps(results["kl"]))
    for name in ("banana", "ring"):
        for steps in ("0", "2"):
            kl, se = saved["kl"][name][steps]
            # a KL is >= 0; the estimate may dip below by its Monte Carlo error only
            assert np.isfinite(kl) and kl > -4 * se and se > 0
    # a banana is far from any diagonal Gaussian: even 150 steps of a 2-step flow beat it
    assert saved["kl"]["banana"]["2"][0] < saved["kl"]["banana"]["0"][0]
    assert "| banana |" in (out / "table.md").read_text()


def test_quick_writes_into_the_out_folder_asked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where the default folders, out/flows-toy(-quick), would go
    argv = ["--quick", "--targets", "banana", "--steps", "0", "--no-progress"]
    results = flows_toy.main([*argv, "--out", str(tmp_path / "mine")])
    assert os.listdir(tmp_path) == ["mine"]
    assert (tmp_path / "mine" / "results.json").exists()
    assert results["settings"]["iterations"] == 300  # the quick setting
