#!/usr/bin/python3
"""Which BLAS PyTorch runs on, with how many threads, and how fast a matrix product is on it.

A PyTorch figure is an anchor only if PyTorch runs on an optimised BLAS. Debian's python3-torch (BLAS_INFO=generic)
calls whatever `libblas.so.3` the dynamic loader finds: with `libopenblas0-pthread` installed that is OpenBLAS;
without it, the reference (netlib) BLAS of `libblas3`, on which PyTorch's matrix products are ~20x slower. Nothing
else tells the two apart: torch imports and computes the same numbers either way.

The check reads the libraries actually mapped into this process (/proc/self/maps, after torch has run a product, so
the loader has resolved `libblas.so.3` through /etc/alternatives, LD_LIBRARY_PATH or whatever else) and torch's build
configuration (`torch.__config__.show()`: BLAS_INFO=mkl for a torch with MKL built in), classifies them
(`classify`, a pure function of those two texts), adds the threading (OpenBLAS pthread / serial / openmp, torch's
intra-op threads, the thread variables of the environment) and a short single-GEMM GFLOP/s probe.

  /usr/bin/python3 bench/reference/blas_check.py [--probe-size 512] [--allow-reference-blas]
  /usr/bin/python3 bench/reference/blas_check.py --maps MAPS.txt --torch-config CONFIG.txt   (classify recorded texts)

Prints one JSON object. Exit status 3 (EXIT_REFERENCE_BLAS) with a message naming the Debian package to install when
the BLAS is the reference one, unless --allow-reference-blas (then `label` says so, and every figure carries it).
"""
from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep bench/reference/ free of __pycache__

import argparse
import ctypes
import json
import os
import re
import statistics
import time
from typing import Dict, List, Optional

#: The Debian package that puts OpenBLAS (pthread build) behind libblas.so.3.
OPENBLAS_PACKAGE = "libopenblas0-pthread"
#: Exit status of a bench that refuses to measure PyTorch on the reference BLAS.
EXIT_REFERENCE_BLAS = 3
#: The flag that measures anyway (every figure is then labelled).
ALLOW_FLAG = "--allow-reference-blas"
#: Kinds of BLAS `classify` returns.
KINDS = ("openblas", "mkl", "blis", "atlas", "flexiblas", "reference", "unknown")
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
              "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

_SO = re.compile(r"\.so(\.\d+)*$")


def mapped_libraries(maps_text: str) -> List[str]:
    """The shared objects named in a /proc/<pid>/maps text, in order of first mapping, each once."""
    seen: Dict[str, None] = {}
    for line in maps_text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6:
            continue
        p = parts[5].strip()
        if p.endswith(" (deleted)"):
            p = p[: -len(" (deleted)")]
        if p.startswith("/") and _SO.search(os.path.basename(p)):
            seen.setdefault(p, None)
    return list(seen)


def _threading_from_dir(d: str) -> Optional[str]:
    for mode in ("pthread", "openmp", "serial"):
        if d.endswith("-" + mode):
            return mode
    return None


def _blas_info(torch_config: str) -> Optional[str]:
    m = re.search(r"BLAS_INFO=([^,\s]+)", torch_config)
    return m.group(1) if m else None


def classify(maps_text: str, torch_config: str) -> Dict[str, object]:
    """The BLAS a process runs on, from its /proc/self/maps text and torch's `torch.__config__.show()` text.

    Returns kind (one of KINDS), threading (pthread | openmp | serial | sequential | tbb | None when the library does
    not say), library (the mapped file that decided it, or None), libraries (the BLAS-related files mapped),
    torch_blas_info (BLAS_INFO of torch's build) and reason (one sentence)."""
    libs = mapped_libraries(maps_text)
    info = _blas_info(torch_config)

    def out(kind: str, threading: Optional[str], library: Optional[str], reason: str) -> Dict[str, object]:
        related = [p for p in libs if re.match(r"lib(open)?blas|libcblas|libmkl_|libblis|lib[st]?atlas|libflexiblas",
                                               os.path.basename(p))]
        return {"kind": kind, "threading": threading, "library": library, "libraries": related,
                "torch_blas_info": info, "reason": reason}

    def by_library(p: str, why: str) -> Dict[str, object]:
        """The kind of BLAS whose file `p` is, from its name and its folder."""
        base, folder = os.path.basename(p), os.path.dirname(p)
        d = os.path.basename(folder)
        if base.startswith("libopenblas") or d.startswith("openblas"):
            # Debian: <libdir>/openblas-{pthread,openmp,serial}/ (libblas.so.3 there calls the libopenblas* beside
            # it, which is the library to ask for its build and threads); upstream and wheel builds: libopenblasp-r*
            # (pthread), libopenblaso-r* (OpenMP).
            lib = next((q for q in libs if os.path.dirname(q) == folder and os.path.basename(q).startswith("libopenblas")), p)
            lb = os.path.basename(lib)
            threading = _threading_from_dir(d) or ("pthread" if lb.startswith("libopenblasp-")
                                                   else "openmp" if lb.startswith("libopenblaso-") else None)
            return out("openblas", threading, lib, f"{why} {p}: OpenBLAS")
        if base.startswith("libblis") or d.startswith("blis"):
            return out("blis", _threading_from_dir(d), p, f"{why} {p}: BLIS")
        if re.match(r"lib[st]?atlas", base) or d == "atlas":
            return out("atlas", None, p, f"{why} {p}: ATLAS")
        if base.startswith("libflexiblas") or d.startswith("flexiblas"):
            return out("flexiblas", None, p, f"{why} {p}: FlexiBLAS, whose backend is chosen at run time")
        # Debian's libblas3 installs the netlib reference BLAS in <libdir>/blas/; a libblas.so.3 that is a file of
        # its own straight in a library folder (no alternatives, not a link to an optimised BLAS) is the reference one
        # on the other distributions too.
        where = "the reference BLAS's own folder" if d == "blas" else "a library folder, outside any optimised BLAS's folder"
        return out("reference", "serial", p, f"{why} {p}, in {where}: the netlib reference BLAS")

    mkl = [p for p in libs if os.path.basename(p).startswith("libmkl_")]
    generic = next((p for p in libs if re.match(r"libblas\.so", os.path.basename(p))), None)
    # A torch built with BLAS_INFO=generic calls the libblas.so.3 the loader resolved: that file decides, whatever
    # else (a numpy wheel's own OpenBLAS, say) is mapped beside it.
    if generic and info in (None, "generic"):
        return by_library(generic, "torch (BLAS_INFO=generic) calls libblas.so.3, resolved to")
    if mkl:
        names = " ".join(os.path.basename(p) for p in mkl)
        threading = ("openmp" if re.search(r"libmkl_(gnu|intel)_thread", names) else "tbb" if "libmkl_tbb_thread" in names
                     else "sequential" if "libmkl_sequential" in names else None)
        return out("mkl", threading, mkl[0], "Intel MKL is mapped into the process")
    for p in libs:
        base = os.path.basename(p)
        if re.match(r"libopenblas|libblis|lib[st]?atlas|libflexiblas", base):
            return by_library(p, "mapped into the process:")
    if generic:
        return by_library(generic, "libblas.so.3 resolved to")
    if info == "mkl":
        return out("mkl", None, None, "torch is built with MKL (BLAS_INFO=mkl), linked in statically")
    if info in ("open", "openblas"):
        return out("openblas", None, None, f"torch is built with OpenBLAS (BLAS_INFO={info}), linked in statically")
    if info in ("accelerate", "veclib"):
        return out("unknown", None, None, f"torch is built with Apple's Accelerate (BLAS_INFO={info})")
    return out("unknown", None, None, f"no BLAS library is mapped into the process and torch's BLAS_INFO is {info or 'not given'}")


def refusal(info: Dict[str, object], allow: bool) -> Optional[str]:
    """The message a bench refuses with when `info` (classify's result) is the reference BLAS; None otherwise."""
    if info.get("kind") != "reference" or allow:
        return None
    library = str(info.get("library"))
    triplet = os.path.basename(os.path.dirname(os.path.dirname(library)))
    if not triplet.endswith("-linux-gnu"):
        triplet = os.path.basename(os.path.dirname(library))
    if not triplet.endswith("-linux-gnu"):
        triplet = "x86_64-linux-gnu"
    return (f"PyTorch runs on the reference BLAS (netlib, {library}): its matrix products are ~20x slower than on "
            f"OpenBLAS, so its figures are no anchor for the engine's. Install Debian's {OPENBLAS_PACKAGE} "
            f"(`sudo apt-get install {OPENBLAS_PACKAGE}`; `update-alternatives --display libblas.so.3-{triplet}` "
            f"should then point into openblas-pthread/) and run again, or pass {ALLOW_FLAG} to measure anyway "
            f"(every PyTorch figure is then labelled 'reference BLAS').")


# ---------------------------------------------------------------------------------------------------------------
# The live process
# ---------------------------------------------------------------------------------------------------------------
def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def read_maps() -> str:
    return _read("/proc/self/maps")


def _alternative() -> Optional[str]:
    """Where /etc/alternatives points libblas.so.3 (Debian), for the record; the mapped library is what counts."""
    for name in sorted(os.listdir("/etc/alternatives")) if os.path.isdir("/etc/alternatives") else []:
        if name.startswith("libblas.so.3"):
            return os.path.realpath(os.path.join("/etc/alternatives", name))
    return None


def _openblas_runtime(library: Optional[str]) -> Optional[Dict[str, object]]:
    """OpenBLAS's own account (build, kernel, threads, threading model), asked through the mapped library."""
    if not library:
        return None
    try:
        lib = ctypes.CDLL(library)
        lib.openblas_get_config.restype = ctypes.c_char_p
        lib.openblas_get_corename.restype = ctypes.c_char_p
        parallel = {0: "serial", 1: "pthread", 2: "openmp"}.get(lib.openblas_get_parallel())
        return {"config": lib.openblas_get_config().decode(), "kernel": lib.openblas_get_corename().decode(),
                "threads": lib.openblas_get_num_threads(), "parallel": parallel}
    except (OSError, AttributeError):
        return None


def _mkl_threads(library: Optional[str]) -> Optional[int]:
    try:
        return int(ctypes.CDLL(library or "libmkl_rt.so").MKL_Get_Max_Threads())
    except (OSError, AttributeError, TypeError):
        return None


def gemm_probe(n: int = 512, min_seconds: float = 0.2, max_reps: int = 50) -> Dict[str, object]:
    """GFLOP/s of float32 n×n torch.mm (one BLAS sgemm each), on the threads as they are set: one untimed product,
    then timed ones until min_seconds have passed (at least 3, at most max_reps); rate from the median time."""
    import torch

    g = torch.Generator().manual_seed(0)
    a = torch.rand(n, n, generator=g)
    b = torch.rand(n, n, generator=g)
    torch.mm(a, b)
    times: List[float] = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < min_seconds and len(times) < max_reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return {"n": n, "dtype": "float32", "reps": len(times), "median_seconds": med, "gflops": round(2 * n ** 3 / med / 1e9, 2)}


def label(info: Dict[str, object]) -> str:
    """A short name for a figure's column: 'OpenBLAS 0.3.21 pthread (SkylakeX)', 'reference BLAS (netlib)', …"""
    kind = info.get("kind")
    ob = info.get("openblas")
    if kind == "openblas":
        version = ""
        if isinstance(ob, dict):
            m = re.search(r"OpenBLAS (\S+)", str(ob.get("config", "")))
            version = f" {m.group(1)}" if m else ""
        threading = (ob.get("parallel") if isinstance(ob, dict) else None) or info.get("threading")
        kernel = f" ({ob['kernel']})" if isinstance(ob, dict) and ob.get("kernel") else ""
        return f"OpenBLAS{version}{' ' + str(threading) if threading else ''}{kernel}"
    if kind == "reference":
        return "reference BLAS (netlib)"
    names = {"mkl": "MKL", "blis": "BLIS", "atlas": "ATLAS", "flexiblas": "FlexiBLAS", "unknown": "unknown BLAS"}
    threading = info.get("threading")
    return f"{names.get(str(kind), str(kind))}{' ' + str(threading) if threading else ''}"


def check(probe_size: int = 512) -> Dict[str, object]:
    """The live check of this process: imports torch, runs one product so that the BLAS is loaded, classifies the
    mapped libraries, adds threads and the GEMM probe (probe_size 0: no probe)."""
    import torch

    torch.mm(torch.ones(8, 8), torch.ones(8, 8))
    info = classify(read_maps(), torch.__config__.show())
    if info["kind"] == "openblas":
        info["openblas"] = _openblas_runtime(info["library"] if isinstance(info["library"], str) else None)
        ob = info["openblas"]
        if isinstance(ob, dict) and ob.get("parallel"):
            info["threading"] = ob["parallel"]
    info["alternative"] = _alternative()
    blas_threads = (info["openblas"] or {}).get("threads") if isinstance(info.get("openblas"), dict) else (
        _mkl_threads(info["library"] if isinstance(info["library"], str) else None) if info["kind"] == "mkl"
        else 1 if info["kind"] == "reference" else None)
    info["threads"] = {"torch": torch.get_num_threads(), "torch_interop": torch.get_num_interop_threads(),
                       "blas": blas_threads, "env": {k: os.environ.get(k) for k in THREAD_ENV}}
    info["torch"] = torch.__version__
    if probe_size > 0:
        info["gemm"] = gemm_probe(probe_size)
    info["label"] = label(info)
    return info


def enforce(info: Dict[str, object], allow: bool) -> Dict[str, object]:
    """Exits with EXIT_REFERENCE_BLAS and the refusal message on stderr when `info` is the reference BLAS and the
    override is not given; otherwise returns `info`, marked (`allowed_reference`, and a label that says so) when the
    override let a reference-BLAS run through."""
    msg = refusal(info, allow)
    if msg:
        print(f"error: {msg}", file=sys.stderr)
        raise SystemExit(EXIT_REFERENCE_BLAS)
    if info.get("kind") == "reference":
        info["allowed_reference"] = True
        info["label"] = f"reference BLAS (netlib; {ALLOW_FLAG}: not an anchor)"
    return info


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(prog="/usr/bin/python3 bench/reference/blas_check.py",
                                description="Which BLAS PyTorch runs on (refuses the reference BLAS).")
    p.add_argument("--probe-size", type=int, default=512, help="n of the n×n float32 GEMM probe (0: none)")
    p.add_argument(ALLOW_FLAG, dest="allow", action="store_true", help="report the reference BLAS without failing")
    p.add_argument("--maps", help="classify this recorded /proc/<pid>/maps text instead of this process's")
    p.add_argument("--torch-config", help="with --maps: the recorded torch.__config__.show() text")
    a = p.parse_args(argv)
    if a.maps:
        try:
            with open(a.maps) as f:
                maps = f.read()
            config = ""
            if a.torch_config:
                with open(a.torch_config) as f:
                    config = f.read()
        except OSError as e:
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(2)
        info = classify(maps, config)
        info["label"] = label(info)
    else:
        info = check(a.probe_size)
    # The JSON first, refused or not, so that a caller reads what was found; then the refusal (stderr, exit status).
    info["refused"] = refusal(info, a.allow) is not None
    if not info["refused"]:
        info = enforce(info, a.allow)
    print(json.dumps(info, indent=2), flush=True)
    enforce(info, a.allow)


if __name__ == "__main__":
    main()
