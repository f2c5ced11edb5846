#!/usr/bin/env bash
# VLAN 20 is isolated from VLAN 10 in both directions, broadcasts, ARP and unicast to a
# MAC of the other VLAN included. Each send has a positive control: the same frames reach
# the sender's VLAN peer, and only then are the other VLAN's sniffers stopped.
source "$(dirname "$0")/lib.sh"

e2e_setup vm1 vm2 vm3 vm4
e2e_step "both VLANs work, so every MAC is known to the switch"
e2e_expect_reach vm1 vm2
e2e_expect_reach vm3 vm4

# FROM PEER OTHER1 OTHER2: FROM's broadcasts, ARP and unicast reach PEER, not OTHER1/2.
check_direction() {
  local from=$1 peer=$2 o1=$3 o2=$4
  local subnet_bcast=10.10.0.255
  e2e_step "$from's frames stay in its VLAN: not seen by $o1 or $o2"
  e2e_sniff_start "peer" "$peer" "ether src ${E2E_MAC[$from]} and ether broadcast"
  e2e_sniff_start "o1" "$o1" "$(e2e_from "$from")"
  e2e_sniff_start "o2" "$o2" "$(e2e_from "$from")"

  # Broadcast ICMP (nobody answers: broadcast echoes are ignored by default).
  e2e_ping "$from" "$subnet_bcast" -b -c 5 -i 0.05 -W 1 >/dev/null || true
  # ARP: resolving the other VLAN's address floods a broadcast request that must not cross.
  e2e_expect_no_reach "$from" "$o1"
  # Unicast to the other VLAN's MAC (as if the VM knew it): unknown in this VLAN, so
  # flooded within it at most.
  e2e_in "$from" ip neigh replace "${E2E_IP[$o1]}" lladdr "${E2E_MAC[$o1]}" dev "${VM_DEV[$from]}" nud permanent
  e2e_expect_no_reach "$from" "$o1"
  e2e_in "$from" ip neigh del "${E2E_IP[$o1]}" dev "${VM_DEV[$from]}"

  # 5 broadcast echoes + at least 1 ARP request must have reached the peer.
  e2e_sniff_wait peer 6 10 || e2e_fail "positive control: $peer saw only $(e2e_sniff_count peer) of $from's 6+ broadcasts"
  e2e_sniff_stop peer
  sleep "$E2E_QUIET_S" # observation window for frames still in flight
  e2e_sniff_expect_none o1 "$from's frames crossed into $o1's VLAN"
  e2e_sniff_expect_none o2 "$from's frames crossed into $o2's VLAN"
}

check_direction vm1 vm2 vm3 vm4
check_direction vm3 vm4 vm1 vm2
