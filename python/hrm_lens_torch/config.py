"""The model configuration as the engine writes it (engine/model/config.ts HrmConfig, the checkpoint's
__metadata__["config"] JSON): the same field names, the same derived sizes, and the weight names and PyTorch-layout
shapes of engine/model/weights.ts."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Mapping, Tuple

FIELDS = ("gridSize", "hidden", "heads", "expansion", "interMultiple", "H_layers", "L_layers", "H_cycles", "L_cycles",
          "haltMaxSteps", "haltExplorationProb", "positions", "ropeTheta", "rmsEps", "puzzleEmbLen", "variant")
INT_FIELDS = ("gridSize", "hidden", "heads", "interMultiple", "H_layers", "L_layers", "H_cycles", "L_cycles",
              "haltMaxSteps", "puzzleEmbLen")


class ConfigError(ValueError):
    """A config the engine would not accept, naming the field."""


@dataclass(frozen=True)
class ModelConfig:
    gridSize: int
    hidden: int
    heads: int
    expansion: float
    interMultiple: int
    H_layers: int
    L_layers: int
    H_cycles: int
    L_cycles: int
    haltMaxSteps: int
    haltExplorationProb: float
    positions: str
    ropeTheta: float
    rmsEps: float
    puzzleEmbLen: int
    variant: str

    @staticmethod
    def from_json(obj: Mapping[str, object]) -> "ModelConfig":
        if not isinstance(obj, Mapping):
            raise ConfigError("config must be a JSON object")
        missing = [k for k in FIELDS if k not in obj]
        unknown = [k for k in obj if k not in FIELDS]
        if missing or unknown:
            raise ConfigError(f"config fields: missing {missing}, unknown {unknown}")
        for k in FIELDS:
            v = obj[k]
            if k in ("positions", "variant"):
                if not isinstance(v, str):
                    raise ConfigError(f'config field "{k}" must be a string')
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f'config field "{k}" must be a finite number')
            elif k in INT_FIELDS and (v != int(v) or v < 0):
                raise ConfigError(f'config field "{k}" must be a non-negative integer, got {v}')
        c = ModelConfig(**{k: (int(obj[k]) if k in INT_FIELDS else obj[k]) for k in FIELDS})  # type: ignore[arg-type]
        c.check()
        return c

    def check(self) -> None:
        if self.gridSize not in (4, 6, 9):
            raise ConfigError(f'config field "gridSize" must be 4, 6 or 9, got {self.gridSize}')
        if self.variant not in ("hrm", "trm"):
            raise ConfigError(f'config field "variant" must be hrm or trm, got {self.variant!r}')
        if self.positions not in ("rope", "learned"):
            raise ConfigError(f'config field "positions" must be rope or learned, got {self.positions!r}')
        if self.hidden < 1 or self.heads < 1 or self.hidden % self.heads:
            raise ConfigError(f'config field "heads": hidden {self.hidden} must be a multiple of heads {self.heads}')
        if self.positions == "rope" and self.head_dim % 2:
            raise ConfigError(f'config field "heads": RoPE needs an even head dim, got {self.head_dim}')
        for k in ("L_layers", "H_cycles", "L_cycles", "haltMaxSteps", "interMultiple"):
            if getattr(self, k) < 1:
                raise ConfigError(f'config field "{k}" must be at least 1')
        if self.variant == "hrm" and self.H_layers < 1:
            raise ConfigError('config field "H_layers" must be at least 1 for an HRM')

    # Derived sizes (engine/model/config.ts modelDims).
    @property
    def cells(self) -> int:
        return self.gridSize * self.gridSize

    @property
    def vocab(self) -> int:
        return self.gridSize + 2

    @property
    def total_len(self) -> int:
        return self.puzzleEmbLen + self.cells

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def inter(self) -> int:
        # JavaScript's Math.round (halves round up), then up to a multiple of interMultiple.
        r = math.floor(self.expansion * self.hidden * 2 / 3 + 0.5)
        return math.ceil(r / self.interMultiple) * self.interMultiple

    def levels(self) -> List[Tuple[str, int]]:
        """The reasoning modules that exist: HRM H_level and L_level, TRM only the shared L_level."""
        if self.variant == "trm":
            return [("L_level", self.L_layers)]
        return [("H_level", self.H_layers), ("L_level", self.L_layers)]

    def weight_shapes(self) -> Dict[str, List[int]]:
        """Every weight name with its PyTorch-layout shape (engine/model/weights.ts weightSpecs)."""
        D, V = self.hidden, self.vocab
        out: Dict[str, List[int]] = {"embed_tokens.embedding_weight": [V, D]}
        if self.positions == "learned":
            out["embed_pos.embedding_weight"] = [self.total_len, D]
        if self.puzzleEmbLen > 0:
            out["puzzle_emb.weights"] = [1, D]
        for level, layers in self.levels():
            for i in range(layers):
                p = f"{level}.layers.{i}."
                out[p + "self_attn.qkv_proj.weight"] = [3 * D, D]
                out[p + "self_attn.o_proj.weight"] = [D, D]
                out[p + "mlp.gate_up_proj.weight"] = [2 * self.inter, D]
                out[p + "mlp.down_proj.weight"] = [D, self.inter]
        out.update({"lm_head.weight": [V, D], "q_head.weight": [2, D], "q_head.bias": [2], "H_init": [D], "L_init": [D]})
        return out
