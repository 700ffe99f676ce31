"""torchrun (`python -m torch.distributed.run`) for the PyTorch builds whose launcher cannot start on Python 3.11 and
later: their Std.from_str looks the stream setting up by iterating the IntFlag Std, which no longer yields the zero
member (Std.NONE), so even the default "--redirects 0" fails. This module replaces that lookup by Std(value) and then
runs torch.distributed.run's own main with the same arguments. hrm-lens uses it only where the probe
`Std.from_str("0") is None` shows the fault; elsewhere it runs torch.distributed.run itself.
"""
from __future__ import annotations

import re
import sys


def _patch() -> None:
    from torch.distributed.elastic.multiprocessing import api

    if api.Std.from_str("0") is not None:
        return

    def from_str(cls, vm: str):
        if re.match(api._VALUE_REGEX, vm):
            return cls(int(vm))
        if re.match(api._MAPPING_REGEX, vm):
            return {int(i): cls(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
        raise ValueError(f"{vm} does not match: <{api._VALUE_REGEX}> or <{api._MAPPING_REGEX}>")

    api.Std.from_str = classmethod(from_str)


def main() -> None:
    _patch()
    from torch.distributed.run import main as torchrun_main
    sys.argv[0] = "torchrun"
    torchrun_main()


if __name__ == "__main__":
    main()
