#!/usr/bin/env bash
# GPU figures for HRM Lens, on a machine with an NVIDIA GPU and no internet, from files carried with the repository.
# Not yet run on a GPU machine (docs/benchmarks.md §GPU). Every step prints what
# it does and a failure in one backend does not stop the others.
#
# 0. On a machine that has PyTorch 2.x with CUDA, Node 20, and a copy of the working tree with node_modules/ and dist/:
#      bash bench/gpu-check.sh [--runs 3]
#    (no bundle, no network; about 10 minutes at most). It reports the GPU and PyTorch, then compares the PyTorch
#    backend as HRM Lens runs it (the worker through the engine) with plain PyTorch on the same model, on CUDA:
#      - the 27M configuration's 16-segment capture of one 9×9 puzzle, puzzle-segments/s
#      - the ensemble of 1,000 puzzles × 9 relabelings × 10 checkpoints of the 27M configuration, 16 segments; when
#        that does not fit the time left, fewer puzzles and checkpoints, the full run's time extrapolated (printed)
#                                                          bench/torch-backend.ts --device cuda
#    then the reference model's own CUDA figures            bench/reference/torch_device_bench.py --device cuda
#    and writes bench/results/gpu-check-local.json and .md. The interpreter: env HRM_LENS_PYTHON, else the first of
#    python3, /usr/bin/python3, python that imports torch and numpy.
#      bash bench/gpu-check.sh --rehearse DIR
#    runs that same mode on this machine's CPU (tiny-4x4 in place of the 27M model, one run, a 5 s ensemble) and
#    writes DIR/gpu-check-local.json and .md (and the backend bench's own files): the whole script checked before a GPU
#    machine's minutes are spent, with nothing written into the repository.
#
# 1. On a machine WITH internet (same OS and CPU architecture as the GPU machine, x86-64 Linux):
#      bash bench/gpu-check.sh --make-bundle gpu-bundle
#    fills gpu-bundle/ with: node_modules.tgz (this repo's npm ci plus the optional GPU packages `webgpu` (Dawn for
#    Node, Vulkan), `@tensorflow/tfjs-backend-webgpu` and `@tensorflow/tfjs-node-gpu` with the libtensorflow it
#    downloads at install), wheels/ (a CUDA build of PyTorch and its dependencies, `pip download`), and node/ (the
#    Node 20 tarball, for machines without Node).
# 2. Copy the repository and gpu-bundle/ to the GPU machine, then:
#      bash bench/gpu-check.sh --bundle gpu-bundle [--runs 5]
#    It unpacks the bundle (no network), reports the driver (nvidia-smi), Vulkan (vulkaninfo if present), CUDA
#    libraries, then measures on the same model as `npm run bench` (9×9, hidden 128, 2+2 layers, batch 32 / 256, and
#    the 27M configuration's 16-segment capture):
#      - HRM Lens on webgpu (Dawn over Vulkan)              bench/summary-ts.ts --backend webgpu
#      - HRM Lens on tensorflow (tfjs-node-gpu, CUDA 11.2 + cuDNN 8.1 needed; the engine falls back to CPU and says so)
#      - HRM Lens on wasm (the CPU default), for scale
#      - PyTorch on CUDA                                   bench/reference/torch_device_bench.py --device cuda
#    and writes bench/results/gpu-check.json and a Markdown table (bench/results/gpu-check.md).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT=$PWD
NODE_VERSION=20.19.5
TORCH_INDEX=https://download.pytorch.org/whl/cu121
GPU_NPM=(webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0 @tensorflow/tfjs-node-gpu@4.22.0)

make_bundle() {
  local dir=$1
  mkdir -p "$dir/wheels" "$dir/node"
  dir=$(cd "$dir" && pwd)
  echo "gpu-check: npm ci + the optional GPU packages (tfjs-node-gpu downloads libtensorflow now, with internet)"
  npm ci --no-audit --no-fund || return 1
  npm install --no-save --no-audit --no-fund "${GPU_NPM[@]}" || return 1
  tar -czf "$dir/node_modules.tgz" node_modules || return 1
  echo "gpu-check: PyTorch CUDA wheels from $TORCH_INDEX"
  python3 -m pip download --dest "$dir/wheels" --index-url "$TORCH_INDEX" --extra-index-url https://pypi.org/simple torch numpy || return 1
  echo "gpu-check: Node $NODE_VERSION"
  curl -fsSL -o "$dir/node/node-v$NODE_VERSION-linux-x64.tar.xz" "https://nodejs.org/dist/v$NODE_VERSION/node-v$NODE_VERSION-linux-x64.tar.xz" || return 1
  echo "gpu-check: bundle ready in $dir ($(du -sh "$dir" | cut -f1))"
}

# The interpreter with torch and numpy (env HRM_LENS_PYTHON first).
find_python() {
  local c
  for c in ${HRM_LENS_PYTHON:-} python3 /usr/bin/python3 python; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import torch, numpy' >/dev/null 2>&1; then echo "$c"; return 0; fi
  done
  return 1
}

# The PyTorch backend against plain PyTorch on CUDA (bench/torch-backend.ts): its last stdout line is JSON.
# DEVICE, REHEARSE_ARGS and BUDGET (the rehearsal): the same rows on the CPU with a small model and a short ensemble.
REHEARSE_ARGS=()
DEVICE=cuda
torch_backend_on_cuda() {
  local py=$1 runs=$2 budget=$3 limit=$4 err=/tmp/gpu-check-torch-backend.err
  echo "=== the PyTorch backend (the worker through the engine) against plain PyTorch, $DEVICE"
  if r=$(timeout "$limit" node --import tsx bench/torch-backend.ts --device "$DEVICE" --rows capture-27m,ensemble-27m --python "$py" --runs "$runs" --budget "$budget" "${REHEARSE_ARGS[@]}" 2>"$err" | tee >(cat >&2) | tail -n 1) \
     && [ "${r:0:1}" = "{" ]; then
    TORCH_BACKEND_JSON=$r
  else
    echo "  failed: $(tail -n 1 "$err") (the whole output: $err)"
    TORCH_BACKEND_JSON="{\"error\": $(tail -n 1 "$err" | node -p 'JSON.stringify(require("fs").readFileSync(0, "utf8").trim())')}"
  fi
}

run_local() {
  local runs=$1 out=${2:-$ROOT/bench/results} t0=$SECONDS py
  mkdir -p "$out"
  command -v node >/dev/null || { echo "gpu-check: no node on PATH (Node 20 is needed)"; exit 1; }
  echo "gpu-check: node $(node -v)"
  [ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ] || echo "gpu-check: warning: Node 20 is expected"
  [ -d node_modules ] || { echo "gpu-check: no node_modules/ in $ROOT (copy the working tree with it)"; exit 1; }
  py=$(find_python) || { echo "gpu-check: no Python with torch and numpy (set HRM_LENS_PYTHON)"; exit 1; }
  echo "=== the machine"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | sed 's/^/  /'
  "$py" -c 'import sys, torch; print(f"  Python {sys.version.split()[0]} ({sys.executable}), torch {torch.__version__}, CUDA {torch.version.cuda}, available: {torch.cuda.is_available()}, devices: {torch.cuda.device_count()}")'
  # The time left of the 10 minutes, less what the reference bench and the report need (about 2 minutes).
  local left=$(( 570 - (SECONDS - t0) - 120 ))
  torch_backend_on_cuda "$py" "$runs" "${BUDGET:-$(( left * 45 / 100 ))}" "$left"
  echo "=== the reference model on $DEVICE (bench/reference/torch_device_bench.py)"
  local dev
  if dev=$(timeout 110 "$py" bench/reference/torch_device_bench.py --device "$DEVICE" --runs "$runs" 2>/tmp/gpu-check-torch.err | tail -n 1) && [ "${dev:0:1}" = "{" ]; then
    echo "  $dev"
  else
    echo "  failed: $(tail -n 3 /tmp/gpu-check-torch.err)"; dev='{"error": "see /tmp/gpu-check-torch.err"}'
  fi
  echo "{\"torch_backend\": $TORCH_BACKEND_JSON, \"torch_cuda_reference\": $dev}" > "$out/gpu-check-local.json"
  # shellcheck disable=SC2016  # JavaScript, not shell
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const f = (x, d) => (x == null ? "–" : x.toFixed(d));
    const rows = ["| | torch backend | plain PyTorch | backend / plain | note |", "|---|---|---|---|---|"];
    if (r.torch_backend.error) rows.push(`| torch backend | ${r.torch_backend.error} | | | |`);
    else for (const x of r.torch_backend.results) rows.push(`| ${x.row} (${x.unit}) | ${f(x.backend, 1)} | ${f(x.plain, 1)} | ${f(x.ratio, 2)} | ${x.note ?? ""} |`);
    const d = r.torch_cuda_reference;
    if (!d.error) rows.push(`| reference model on ${d.gpu ?? d.device}: training steps/s ${f(d.train.median, 2)}, inference puzzle-segments/s ${f(d.infer.median, 0)}, 27M 16-segment capture ${f(d.capture27m.median, 3)} s | | | | |`);
    require("fs").writeFileSync(process.argv[2], rows.join("\n") + "\n");
    console.log(rows.join("\n"));
  ' "$out/gpu-check-local.json" "$out/gpu-check-local.md"
  echo "gpu-check: done in $(( SECONDS - t0 )) s; $out/gpu-check-local.{json,md}"
}

run_checks() {
  local bundle=$1 runs=$2 out="$ROOT/bench/results"
  mkdir -p "$out"
  if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" != 20 ]; then
    echo "gpu-check: using the bundled Node $NODE_VERSION"
    mkdir -p /tmp/gpu-check-node && tar -xJf "$bundle"/node/node-v*-linux-x64.tar.xz -C /tmp/gpu-check-node --strip-components=1
    export PATH=/tmp/gpu-check-node/bin:$PATH
  fi
  echo "gpu-check: node $(node -v)"
  [ -d node_modules ] || { echo "gpu-check: unpacking node_modules"; tar -xzf "$bundle/node_modules.tgz"; }
  echo "gpu-check: PyTorch from the bundled wheels (a virtual environment in /tmp/gpu-check-venv)"
  local py=/tmp/gpu-check-venv/bin/python
  if ! { python3 -m venv /tmp/gpu-check-venv && "$py" -m pip install -q --no-index --find-links "$bundle/wheels" torch numpy; }; then
    # No python3-venv (Debian/Ubuntu ship it separately): install into a plain directory instead.
    echo "gpu-check: no venv; installing the wheels into /tmp/gpu-check-py"
    python3 -m pip install -q --no-index --find-links "$bundle/wheels" --target /tmp/gpu-check-py torch numpy
    py=python3; export PYTHONPATH=/tmp/gpu-check-py${PYTHONPATH:+:$PYTHONPATH}
  fi
  echo "=== the machine"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | sed 's/^/  /'
  command -v vulkaninfo >/dev/null && vulkaninfo --summary 2>&1 | grep -E 'deviceName|apiVersion' | sed 's/^/  /'
  ldconfig -p | grep -E 'libcudart|libcudnn|libvulkan' | sed 's/^/  /'
  local results=()
  for backend in webgpu tensorflow wasm; do
    echo "=== HRM Lens on $backend"
    local rows=train,infer,capture27m
    if r=$(HRM_LENS_BACKEND=$backend timeout 1800 node --import tsx bench/summary-ts.ts --backend "$backend" --runs "$runs" --rows "$rows" 2>/tmp/gpu-check-$backend.err | tail -n 1); then
      echo "  $r"; results+=("\"$backend\": $r")
    else
      echo "  failed: $(tail -n 3 /tmp/gpu-check-$backend.err)"; results+=("\"$backend\": {\"error\": $(tail -n 1 /tmp/gpu-check-$backend.err | node -p 'JSON.stringify(require("fs").readFileSync(0, "utf8").trim())')}")
    fi
  done
  echo "=== PyTorch on CUDA"
  if r=$(timeout 1800 "$py" bench/reference/torch_device_bench.py --device cuda --runs "$runs" 2>/tmp/gpu-check-torch.err | tail -n 1); then
    echo "  $r"; results+=("\"torch_cuda\": $r")
  else
    echo "  failed: $(tail -n 3 /tmp/gpu-check-torch.err)"
  fi
  torch_backend_on_cuda "$py" "$runs" 600 1800
  results+=("\"torch_backend\": $TORCH_BACKEND_JSON")
  (IFS=,; echo "{${results[*]}}") > "$out/gpu-check.json"
  # shellcheck disable=SC2016  # JavaScript, not shell
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const med = (xs) => (xs && xs.length ? [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] : null);
    const f = (x, d) => (x == null ? "–" : x.toFixed(d));
    const rows = ["| | training steps/s | inference puzzle-segments/s | 27M 16-segment capture, s |", "|---|---|---|---|"];
    for (const [k, v] of Object.entries(r)) {
      if (v.error) { rows.push(`| ${k} | ${v.error} | | |`); continue; }
      if (k === "torch_backend") {
        for (const x of v.results) rows.push(`| PyTorch backend vs plain PyTorch, ${x.row}: ${x.backend.toFixed(1)} vs ${x.plain.toFixed(1)} ${x.unit} (${x.ratio.toFixed(2)}×) | | | |`);
        continue;
      }
      if (k === "torch_cuda") rows.push(`| PyTorch CUDA (${v.gpu ?? v.device}) | ${f(v.train.median, 2)} | ${f(v.infer.median, 0)} | ${f(v.capture27m.median, 3)} |`);
      else rows.push(`| HRM Lens ${k}: ${v.detail ?? ""} | ${f(med(v.train?.stepsPerSecond), 2)} | ${f(med(v.infer?.segmentsPerSecond), 0)} | ${f(med(v.capture27m?.seconds), 3)} |`);
    }
    require("fs").writeFileSync(process.argv[2], rows.join("\n") + "\n");
    console.log(rows.join("\n"));
  ' "$out/gpu-check.json" "$out/gpu-check.md"
}

case ${1:-} in
  '') run_local 3 ;;
  --runs) run_local "${2:?--runs N}" ;;
  --rehearse)
    # The local mode on this machine's CPU, end to end (a tiny-4x4 model in the 27M rows, one run, a short ensemble),
    # writing to DIR: what a GPU machine will run, checked before its few minutes are spent.
    DEVICE=cpu; BUDGET=5
    mkdir -p "${2:?--rehearse DIR}" && REHEARSE_ARGS=(--big-config tiny-4x4 --results "$(cd "$2" && pwd)")
    run_local 1 "$2" ;;
  --make-bundle) make_bundle "${2:?--make-bundle DIR}" ;;
  --bundle)
    bundle=$(cd "${2:?--bundle DIR}" && pwd); runs=5
    [ "${3:-}" = --runs ] && runs=${4:?--runs N}
    run_checks "$bundle" "$runs" ;;
  *) sed -n '2,40p' "$0"; exit 2 ;;
esac
