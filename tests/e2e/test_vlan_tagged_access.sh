#!/usr/bin/env bash
# A frame that a VM tags itself on an access port (vm1, VLAN 10) with VID 20 does not
# reach VLAN 20: neither vm3/vm4 nor the uplink as VLAN 20. The frames (broadcast ARP for
# vm3's address, broadcast ICMP, unicast ICMP to vm3's MAC) are crafted with scapy: no
# 8021q module is needed. A later untagged broadcast from vm1 reaching vm2 shows the
# tagged ones have been dealt with before the sniffers stop.
source "$(dirname "$0")/lib.sh"

e2e_setup up vm1 vm2 vm3 vm4
e2e_expect_reach vm1 vm2
e2e_expect_reach vm3 vm4

e2e_sniff_start vm3 vm3 "$(e2e_from vm1)"
e2e_sniff_start vm4 vm4 "$(e2e_from vm1)"
e2e_sniff_start up up "$(e2e_from vm1)"

e2e_step "vm1 sends 15 frames tagged VID 20: ARP and ICMP broadcasts, ICMP to vm3's MAC"
e2e_in vm1 "$PY" - "${VM_DEV[vm1]}" "${E2E_MAC[vm1]}" "${E2E_IP[vm1]}" "${E2E_MAC[vm3]}" "${E2E_IP[vm3]}" <<'PY' ||
import sys
from scapy.all import ARP, ICMP, IP, Dot1Q, Ether, sendp
dev, mac, ip, mac3, ip3 = sys.argv[1:]
bcast = "ff:ff:ff:ff:ff:ff"
frames = [
    Ether(src=mac, dst=bcast) / Dot1Q(vlan=20) / ARP(op=1, hwsrc=mac, psrc=ip, pdst=ip3),
    Ether(src=mac, dst=bcast) / Dot1Q(vlan=20) / IP(src=ip, dst="10.10.0.255") / ICMP(),
    Ether(src=mac, dst=mac3) / Dot1Q(vlan=20) / IP(src=ip, dst=ip3) / ICMP(),
]
sendp(frames * 5, iface=dev, verbose=False)
PY
  e2e_fail "scapy could not send the tagged frames"

e2e_step "marker: an untagged broadcast from vm1 reaches vm2"
e2e_sniff_start marker vm2 "ether src ${E2E_MAC[vm1]} and ether broadcast and not vlan"
e2e_ping vm1 10.10.0.255 -b -c 3 -i 0.05 -W 1 >/dev/null || true
e2e_sniff_wait marker 3 10 || e2e_fail "positive control: vm2 saw $(e2e_sniff_count marker) of vm1's 3 untagged broadcasts"
sleep "$E2E_QUIET_S" # observation window for frames still in flight

e2e_sniff_expect_none vm3 "vm1's VID 20 frames reached vm3"
e2e_sniff_expect_none vm4 "vm1's VID 20 frames reached vm4"
e2e_sniff_stop up
if grep -E 'vlan 20' "$WORK/sniff-up.txt" >&2; then
  e2e_fail "vm1's VID 20 frames left on the uplink carrying VLAN 20"
fi
