"""Load an `hrm-lens export --format hrm-official` folder the way the reference PyTorch code does, and report.

    python3 load_official.py JOBS.json

JOBS: a list of {"dir": export folder, "file": the torch.save file in it, "tokens": [[...]], "segments": S,
"out": folder}, all done in one process (PyTorch is slow to import). Exit status 3: torch, numpy or yaml is missing.

1. all_config.yaml is read with yaml.safe_load (as the reference's evaluate.py reads it) and its arch section becomes
   the model config of bench/reference/hrm_reference.py (the repository's one PyTorch reference), with the reference's
   SwiGLU rounding to 256 and the puzzle prefix rule of each variant (HRM: ceil(puzzle_emb_ndim / hidden); TRM:
   puzzle_emb_len).
2. The file is opened with torch.load (also with weights_only=True) and loaded with load_state_dict(strict=True) into
   the loss-head layout the reference saves: LossHead.model (the ACT wrapper) .inner (the model); a `_orig_mod.` key
   prefix is met by one more wrapper, as torch.compile's OptimizedModule holds the module.
3. Out: report.json (keys, shapes and dtypes as loaded, the module's own keys, the YAML), values.npy (every tensor
   as float32, flattened and concatenated in state-dict order) and logits.npy ([S, B, cells, vocab] from H_init /
   L_init, no halting).
"""
from __future__ import annotations

import collections
import json
import os
import sys

try:
    import numpy as np
    import torch
    import yaml
    from torch import nn
except ImportError as err:  # reported by the caller, which may try another interpreter
    print(f"missing module: {err}", file=sys.stderr)
    sys.exit(3)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "bench", "reference"))
import hrm_reference as ref  # noqa: E402


class LossHead(nn.Module):
    """The reference ACTLossHead's module layout: the ACT model as `model` (its weights under `model.inner.`)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model


class Compiled(nn.Module):
    """torch.compile's OptimizedModule layout: the compiled module as `_orig_mod`."""

    def __init__(self, mod: nn.Module):
        super().__init__()
        self._orig_mod = mod


def config_from_arch(arch: dict, vocab: int) -> ref.HRMConfig:
    name = arch["name"]
    variant = "trm" if name.split("@")[0].split(".")[-1] == "trm" else "hrm"
    hidden = int(arch["hidden_size"])
    ndim = int(arch.get("puzzle_emb_ndim", 0))
    prefix = -(ndim // -hidden)
    if variant == "trm" and int(arch.get("puzzle_emb_len", 16)) != 0:
        prefix = int(arch.get("puzzle_emb_len", 16)) if ndim > 0 else 0
    return ref.HRMConfig(
        grid_size=vocab - 2, hidden_size=hidden, num_heads=int(arch["num_heads"]), expansion=float(arch["expansion"]),
        inter_multiple=256, H_layers=int(arch["H_layers"]) if variant == "hrm" else 0, L_layers=int(arch["L_layers"]),
        H_cycles=int(arch["H_cycles"]), L_cycles=int(arch["L_cycles"]), halt_max_steps=int(arch["halt_max_steps"]),
        halt_exploration_prob=float(arch["halt_exploration_prob"]), pos_encodings=arch["pos_encodings"],
        rope_theta=float(arch.get("rope_theta", 10000.0)), rms_norm_eps=float(arch.get("rms_norm_eps", 1e-5)),
        puzzle_emb_len=prefix, variant=variant)


def run(job: dict) -> None:
    with open(os.path.join(job["dir"], "all_config.yaml")) as f:
        doc = yaml.safe_load(f)
    sd = torch.load(job["file"], map_location="cpu")
    try:
        safe = torch.load(job["file"], map_location="cpu", weights_only=True)
        assert list(safe.keys()) == list(sd.keys())
        weights_only = True
    except TypeError:  # a torch without weights_only
        weights_only = False
    assert isinstance(sd, collections.OrderedDict), type(sd)
    compiled = next(iter(sd)).startswith("_orig_mod.")
    vocab = next(v.shape[0] for k, v in sd.items() if k.endswith("embed_tokens.embedding_weight"))
    cfg = config_from_arch(doc["arch"], vocab)
    head = LossHead(ref.HRMACT(cfg, seed=0))
    module = Compiled(head) if compiled else head
    own = {k: list(v.shape) for k, v in module.state_dict().items()}
    module.load_state_dict(sd, strict=True)
    inner = head.model.inner
    out = ref.run_segments(inner, torch.tensor(job["tokens"], dtype=torch.int32), int(job["segments"]))
    np.save(os.path.join(job["out"], "logits.npy"), out["logits"].float().numpy().astype("<f4"))
    np.save(os.path.join(job["out"], "values.npy"),
            np.concatenate([v.float().numpy().ravel() for v in sd.values()]).astype("<f4"))
    report = {
        "torch": torch.__version__, "weights_only": weights_only, "compiled": compiled,
        "keys": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in sd.items()],
        "module_keys": own, "yaml": doc, "inter": cfg.inter_size, "prefix": cfg.puzzle_emb_len,
    }
    with open(os.path.join(job["out"], "report.json"), "w") as f:
        json.dump(report, f)


def main() -> None:
    torch.set_num_threads(1)
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    for job in jobs:
        run(job)


if __name__ == "__main__":
    main()
