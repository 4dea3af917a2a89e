#!/usr/bin/env bash
# Builds or removes the network-namespace lab: two hosts and a client on one bridge.
#
#   tools/netlab.sh up|down|status
#
#   namespace   interface   address            role
#   PREFIX-a    mig0        SUBNET.1/24        host A (runs a daemon: ip netns exec PREFIX-a tools/migration host ...)
#   PREFIX-b    mig0        SUBNET.2/24        host B
#   PREFIX-c    br0         SUBNET.3/24        client, and the bridge joining the hosts' veth pairs (ports veth-a, veth-b)
#
# A VM's service address (SUBNET.100/24@mig0 by convention) is on no interface until a daemon claims it.
# Everything lives inside the three namespaces it creates: nothing is added to or removed from the calling namespace.
# PREFIX (NETLAB_PREFIX, default mig) and SUBNET (NETLAB_SUBNET, default 10.77.0) let tests run a lab of their own.
# Both commands are idempotent; every step is bounded by a timeout.
set -euo pipefail

prefix=${NETLAB_PREFIX:-mig}
subnet=${NETLAB_SUBNET:-10.77.0}
limit=5

[[ $prefix =~ ^[a-z][a-z0-9]{0,7}$ ]] || { echo "netlab: NETLAB_PREFIX '$prefix' must be 1-8 lowercase letters and digits" >&2; exit 2; }
[[ $subnet =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || { echo "netlab: NETLAB_SUBNET '$subnet' must be three octets, e.g. 10.77.0" >&2; exit 2; }

a=$prefix-a
b=$prefix-b
c=$prefix-c

run() { timeout "$limit" "$@"; }
exists() { [[ -e /run/netns/$1 ]]; }

up() {
  for ns in "$a" "$b" "$c"; do
    exists "$ns" || run ip netns add "$ns"
    run ip -n "$ns" link set lo up
  done

  if ! run ip -n "$c" link show br0 >/dev/null 2>&1; then
    run ip -n "$c" link add br0 type bridge
  fi
  run ip -n "$c" link set br0 up
  run ip -n "$c" addr replace "$subnet.3/24" dev br0

  local ns port address
  for pair in "$a:veth-a:1" "$b:veth-b:2"; do
    IFS=: read -r ns port address <<<"$pair"
    if ! run ip -n "$ns" link show mig0 >/dev/null 2>&1; then
      # Created inside the host's namespace, its peer straight in the client's: never an interface in the caller's.
      run ip -n "$ns" link add mig0 type veth peer name "$port" netns "$c"
    fi
    run ip -n "$c" link set "$port" master br0 up
    run ip -n "$ns" addr replace "$subnet.$address/24" dev mig0
    run ip -n "$ns" link set mig0 up
  done
  echo "netlab: up: $a $subnet.1, $b $subnet.2, $c $subnet.3 (bridge br0); service addresses go on mig0" >&2
}

down() {
  for ns in "$a" "$b" "$c"; do
    # Deleting a namespace deletes its interfaces, the bridge and the veth pairs with it.
    if exists "$ns"; then
      run ip netns del "$ns"
    fi
  done
  echo "netlab: down: $a $b $c removed" >&2
}

status() {
  for ns in "$a" "$b" "$c"; do
    if exists "$ns"; then
      echo "$ns:"
      run ip -n "$ns" -brief addr show | sed 's/^/  /'
    else
      echo "$ns: absent"
    fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: tools/netlab.sh up|down|status   (NETLAB_PREFIX, NETLAB_SUBNET to change names and subnet)" >&2; exit 2 ;;
esac
