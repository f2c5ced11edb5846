#!/usr/bin/env bash
# Ping within a VLAN works through the sim, both ways: vm1 <-> vm2 in VLAN 10 (profile
# web) and, as the same check for the other VLAN, vm3 <-> vm4 in VLAN 20 (profile db).
source "$(dirname "$0")/lib.sh"

e2e_setup vm1 vm2 vm3 vm4
e2e_step "vm1 -> vm2 and back (VLAN 10)"
e2e_expect_reach vm1 vm2
e2e_expect_reach vm2 vm1
e2e_step "vm3 -> vm4 and back (VLAN 20)"
e2e_expect_reach vm3 vm4
e2e_expect_reach vm4 vm3
e2e_step "distinct vEthernet numbers: ${VM_VETH[*]}"
[[ $(printf '%s\n' "${VM_VETH[@]}" | sort -u | wc -l) == 4 ]] ||
  e2e_fail "the four VMs did not get four distinct vEthernet numbers: ${VM_VETH[*]}"
