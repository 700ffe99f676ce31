#!/usr/bin/env bash
# Installs what the in-VS-Code tests, the UI tests and `npm start` need on a Debian machine, idempotently:
#   1. Debian packages chromium, libkrb5-dev, ripgrep, build-essential, python3, and the optional PyTorch backend's
#      python3-torch (with libopenblas0-pthread), python3-numpy, python3-protobuf (only the missing ones; one apt-get update)
#   2. code-server 4.100.3 from npm (the last release that runs on Node 20) into a cache folder outside the repo,
#      unless that folder already holds a working 4.100.3.
# Recipe and pitfalls (ripgrep seed, unsafe-perm, nodedir, npm_config_yes): docs/testing.md §Running a real VS Code.
#
# Usage: scripts/install-code-server.sh [--apt-only | --skip-apt] [--quiet]
# Env:   HRM_LENS_CODE_SERVER_HOME  install folder (default /opt/hrm-lens/code-server-4.100.3;
#                                   scripts/code-server.mjs looks in the same place)
# Last line printed on success: "code-server: <path of the code-server executable>".
set -euo pipefail

CS_VERSION=4.100.3
RG_CACHE_VERSION=1.15.11   # @vscode/ripgrep version that code-server 4.100.3 depends on
CS_HOME=${HRM_LENS_CODE_SERVER_HOME:-/opt/hrm-lens/code-server-$CS_VERSION}
CS_BIN=$CS_HOME/node_modules/.bin/code-server
APT_PACKAGES=(chromium libkrb5-dev ripgrep build-essential python3 python3-torch libopenblas0-pthread python3-numpy python3-protobuf)

do_apt=1
do_cs=1
quiet=0
for arg in "$@"; do
  case $arg in
    --apt-only) do_cs=0 ;;
    --skip-apt) do_apt=0 ;;
    --quiet) quiet=1 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "install-code-server: unknown argument $arg" >&2; exit 2 ;;
  esac
done

say() { [ "$quiet" = 1 ] || echo "install-code-server: $*"; }
die() { echo "install-code-server: ERROR: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = 'install ok installed' ]; }

# ---------------------------------------------------------------- 1. Debian packages
if [ "$do_apt" = 1 ]; then
  command -v dpkg-query >/dev/null 2>&1 || die "this script expects a Debian/Ubuntu machine (no dpkg-query)"
  missing=()
  for p in "${APT_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  if [ ${#missing[@]} -eq 0 ]; then
    say "apt packages present: ${APT_PACKAGES[*]}"
  else
    say "installing apt packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Another apt/dpkg process (unattended upgrades, a parallel job) holds the lock for a while: wait for it.
    apt_log=$(mktemp -t hrm-lens-apt.XXXXXX.log)
    if ! { as_root apt-get -o DPkg::Lock::Timeout=300 update -qq \
        && as_root apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}"; } \
        >"$apt_log" 2>&1 </dev/null; then
      tail -n 60 "$apt_log" >&2
      die "apt-get install ${missing[*]} failed (full log: $apt_log)"
    fi
    rm -f "$apt_log"
    for p in "${missing[@]}"; do installed "$p" || die "apt package $p did not install"; done
  fi
fi

[ "$do_cs" = 1 ] || exit 0

# ---------------------------------------------------------------- 2. code-server
cs_ok() {
  # Without --config, any code-server run (even --version) writes ~/.config/code-server/config.yaml.
  [ -x "$CS_BIN" ] && [ -f "$CS_HOME/.hrm-lens-installed" ] \
    && "$CS_BIN" --config /dev/null --version 2>/dev/null | grep -q "^$CS_VERSION "
}

mkdir -p "$CS_HOME" 2>/dev/null || as_root mkdir -p "$CS_HOME"
[ -w "$CS_HOME" ] || die "$CS_HOME is not writable; set HRM_LENS_CODE_SERVER_HOME to a folder you own"

# One installer at a time (two CI jobs or `npm start` racing on the same cache folder).
exec 9>"$CS_HOME/.install.lock"
if command -v flock >/dev/null 2>&1; then flock -w 900 9 || die "timed out waiting for another install into $CS_HOME"; fi

if cs_ok; then
  say "code-server $CS_VERSION present in $CS_HOME"
  echo "code-server: $CS_BIN"
  exit 0
fi

for tool in node npm rg tar cc python3 make; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing (run without --skip-apt, or install it)"
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || say "warning: code-server $CS_VERSION wants Node 20, this is Node $(node -v)"
[ -f /usr/include/node/node.h ] || say "warning: /usr/include/node/node.h missing; node-gyp may try to download headers"

case $(uname -m) in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64 | arm64) rg_target=aarch64-unknown-linux-musl ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac

say "installing code-server $CS_VERSION into $CS_HOME (about 1-2 minutes)"
t0=$(date +%s)
rm -rf "$CS_HOME/node_modules" "$CS_HOME/package-lock.json" "$CS_HOME/.hrm-lens-installed" "$CS_HOME/tmp"
echo '{ "private": true, "description": "code-server for HRM Lens tests (scripts/install-code-server.sh)" }' > "$CS_HOME/package.json"

# @vscode/ripgrep's postinstall downloads rg from GitHub, which CI cannot reach: seed its download cache
# (in $TMPDIR) with Debian's rg.
tmp=$CS_HOME/tmp
mkdir -p "$tmp/rg-seed" "$tmp/vscode-ripgrep-cache-$RG_CACHE_VERSION"
cp "$(command -v rg)" "$tmp/rg-seed/rg"
tar czf "$tmp/vscode-ripgrep-cache-$RG_CACHE_VERSION/ripgrep-v13.0.0-10-$rg_target.tar.gz" -C "$tmp/rg-seed" rg

# unsafe_perm: code-server's postinstall refuses to run as root without it.
# nodedir: node-gyp uses the installed headers instead of downloading them from nodejs.org.
# yes: node-pty's postinstall runs `npx node-gyp`, which would otherwise stop at a prompt.
if ! (cd "$CS_HOME" && TMPDIR=$tmp npm_config_unsafe_perm=true npm_config_nodedir=/usr npm_config_yes=true \
  npm install --no-audit --no-fund --no-save --loglevel=warn "code-server@$CS_VERSION" >"$CS_HOME/install.log" 2>&1 </dev/null); then
  tail -n 80 "$CS_HOME/install.log" >&2
  die "npm install code-server@$CS_VERSION failed (full log: $CS_HOME/install.log)"
fi
rm -rf "$tmp"
touch "$CS_HOME/.hrm-lens-installed"
if ! cs_ok; then
  tail -n 40 "$CS_HOME/install.log" >&2
  rm -f "$CS_HOME/.hrm-lens-installed"
  die "code-server installed but '$CS_BIN --version' does not report $CS_VERSION"
fi
say "code-server $CS_VERSION installed in $(($(date +%s) - t0)) s"
echo "code-server: $CS_BIN"
