#!/usr/bin/env bash
# GPU figures for HRM Lens, on a machine with an NVIDIA GPU and no internet, from files carried with the repository.
# Not yet run on a GPU machine (docs/benchmarks.md §GPU). Every step prints what
# it does and a failure in one backend does not stop the others.
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
  (IFS=,; echo "{${results[*]}}") > "$out/gpu-check.json"
  # shellcheck disable=SC2016  # JavaScript, not shell
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const med = (xs) => (xs && xs.length ? [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] : null);
    const f = (x, d) => (x == null ? "–" : x.toFixed(d));
    const rows = ["| | training steps/s | inference puzzle-segments/s | 27M 16-segment capture, s |", "|---|---|---|---|"];
    for (const [k, v] of Object.entries(r)) {
      if (v.error) { rows.push(`| ${k} | ${v.error} | | |`); continue; }
      if (k === "torch_cuda") rows.push(`| PyTorch CUDA (${v.gpu ?? v.device}) | ${f(v.train.median, 2)} | ${f(v.infer.median, 0)} | ${f(v.capture27m.median, 3)} |`);
      else rows.push(`| HRM Lens ${k}: ${v.detail ?? ""} | ${f(med(v.train?.stepsPerSecond), 2)} | ${f(med(v.infer?.segmentsPerSecond), 0)} | ${f(med(v.capture27m?.seconds), 3)} |`);
    }
    require("fs").writeFileSync(process.argv[2], rows.join("\n") + "\n");
    console.log(rows.join("\n"));
  ' "$out/gpu-check.json" "$out/gpu-check.md"
}

case ${1:-} in
  --make-bundle) make_bundle "${2:?--make-bundle DIR}" ;;
  --bundle)
    bundle=$(cd "${2:?--bundle DIR}" && pwd); runs=5
    [ "${3:-}" = --runs ] && runs=${4:?--runs N}
    run_checks "$bundle" "$runs" ;;
  *) sed -n '2,26p' "$0"; exit 2 ;;
esac
