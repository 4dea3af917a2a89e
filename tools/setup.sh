#!/usr/bin/env bash
# Installs what a fresh Debian machine with the .NET SDK lacks, then builds everything.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  gcc-riscv64-unknown-elf   # rebuilds the committed guest ELFs; tests check they are byte-identical
  make
  gcc                       # native build of the guests: the host-side reference their output is checked against
  libc6-dev
  redis-tools               # redis-benchmark and redis-cli: real clients of the kv guest in tests
  netcat-openbsd            # nc: real client of the echo guest in tests
  nftables                  # libnftables: the network lock that drops a migrating connection's packets while no socket owns it
  iproute2                  # ip: tools/netlab.sh's namespaces, and a service address moving between hosts
  procps                    # pkill: tools/soak.sh stops its load loop's running client
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: building" >&2
dotnet build Migration.sln -c Release -nologo "-clp:ErrorsOnly;NoSummary" -v:q
mkdir -p tools/Migration.Cli/bin/Release && touch tools/Migration.Cli/bin/Release/.built
