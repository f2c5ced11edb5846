#!/usr/bin/env bash
# Toward the uplink, frames of an access port carry the port's VLAN: a broadcast from vm1
# (VLAN 10) leaves on the uplink tagged 10 and never untagged or tagged otherwise, one
# from vm3 (VLAN 20) tagged 20.
source "$(dirname "$0")/lib.sh"

e2e_setup up vm1 vm3

# VM VID: VM's broadcasts show up on the uplink with VID and only with it.
check_tag() {
  local vm=$1 vid=$2
  e2e_step "$vm's broadcasts leave on the uplink tagged $vid"
  e2e_sniff_start "$vm" up "$(e2e_from "$vm")"
  e2e_ping "$vm" 10.10.0.255 -b -c 3 -i 0.05 -W 1 >/dev/null || true
  e2e_wait_until 10 grep -q "vlan $vid," "$WORK/sniff-$vm.txt" ||
    e2e_fail "no frame from $vm reached the uplink tagged $vid: $(head -n 3 "$WORK/sniff-$vm.txt")"
  e2e_sniff_stop "$vm"
  if grep . "$WORK/sniff-$vm.txt" | grep -v "ethertype 802.1Q (0x8100), length [0-9]*: vlan $vid," >&2; then
    e2e_fail "frames from $vm left on the uplink untagged or with another tag"
  fi
}
check_tag vm1 10
check_tag vm3 20
