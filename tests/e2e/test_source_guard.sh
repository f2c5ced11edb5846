#!/usr/bin/env bash
# Issue 5: port security, IP source guard, ARP/ND inspection and DHCP snooping on a real
# wire. Profile web gets `switchport port-security` (maximum 1, restrict) and `ip verify
# source`; vm1 and vm2 have `ip source binding`s. vm1 then sends, with scapy: IPv4 from a
# spoofed IP, from a spoofed MAC, an ARP reply claiming vm2's address, an IPv6 neighbor
# advertisement claiming an address bound to nobody, a DHCP offer, a double-tagged frame
# and an 802.1ad frame. None reaches vm2 (sniffer); a legitimate frame sent after them
# does (positive control); each is counted under its drop reason (the spoofed MAC is
# stopped before the switch, by the VF's spoofchk that port security turns on).
source "$(dirname "$0")/lib.sh"

dotted() { local m=${1//:/}; echo "${m:0:4}.${m:4:4}.${m:8:4}"; }

e2e_setup vm1 vm2
e2e_expect_reach vm1 vm2
e2e_step "port security and IP source guard on port-profile web"
e2e_vfsw -c "conf t ; ip source binding ${E2E_IP[vm1]} $(dotted "${E2E_MAC[vm1]}") vlan 10 interface vethernet ${VM_VETH[vm1]} ; ip source binding ${E2E_IP[vm2]} $(dotted "${E2E_MAC[vm2]}") vlan 10 interface vethernet ${VM_VETH[vm2]} ; port-profile type vethernet web ; switchport port-security ; switchport port-security maximum 1 ; switchport port-security violation restrict ; ip verify source" >/dev/null ||
  e2e_fail "could not configure port security and ip verify source on port-profile web"
e2e_expect_reach vm1 vm2  # bound addresses still talk

drops() { e2e_veth_counter vm1 "v[\"drops\"][\"$1\"]"; }
ipsg0=$(drops ip-source-guard) arp0=$(drops arp-nd-inspection) dhcp0=$(drops dhcp-snooping)
vlan0=$(drops vlan)

e2e_sniff_start spoof vm2 "not (ether src ${E2E_MAC[vm1]} and ip src ${E2E_IP[vm1]} and udp port 9999) and not (arp and ether src ${E2E_MAC[vm1]} and arp[14:4] = $(printf '0x%02x%02x%02x%02x' ${E2E_IP[vm1]//./ }))"
e2e_step "vm1 sends spoofed IP, MAC, ARP, ND, a DHCP offer, double and 802.1ad tags"
e2e_in vm1 "$PY" - "${VM_DEV[vm1]}" "${E2E_MAC[vm1]}" "${E2E_IP[vm1]}" "${E2E_MAC[vm2]}" "${E2E_IP[vm2]}" <<'PY' ||
import sys
from scapy.all import ARP, BOOTP, DHCP, ICMPv6ND_NA, IP, IPv6, UDP, Dot1AD, Dot1Q, Ether, sendp
dev, mac, ip, mac2, ip2 = sys.argv[1:]
spoof_mac = "02:66:66:66:66:66"
frames = [
    Ether(src=mac, dst=mac2) / IP(src="10.10.0.99", dst=ip2) / UDP(sport=1, dport=7),          # spoofed IP
    Ether(src=spoof_mac, dst=mac2) / IP(src=ip, dst=ip2) / UDP(sport=1, dport=7),              # spoofed MAC
    Ether(src=mac, dst=mac2) / ARP(op=2, hwsrc=mac, psrc=ip2, hwdst=mac2, pdst=ip2),            # ARP spoof
    Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src="fe80::1", dst="ff02::1") /
        ICMPv6ND_NA(tgt="2001:db8::2", R=0, S=0, O=1),                                         # ND spoof
    Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src=ip, dst="255.255.255.255") /
        UDP(sport=67, dport=68) / BOOTP(op=2, yiaddr=ip2) / DHCP(options=[("message-type", "offer"), "end"]),
    Ether(src=mac, dst=mac2) / Dot1Q(vlan=10) / Dot1Q(vlan=10) / IP(src=ip, dst=ip2) / UDP(sport=1, dport=7),
    Ether(src=mac, dst=mac2) / Dot1AD(vlan=10) / IP(src=ip, dst=ip2) / UDP(sport=1, dport=7),
]
sendp(frames * 3, iface=dev, verbose=False)
PY
  e2e_fail "scapy could not send the spoofed frames"

e2e_step "positive control: a legitimate frame from vm1 reaches vm2"
e2e_sniff_start good vm2 "ether src ${E2E_MAC[vm1]} and ip src ${E2E_IP[vm1]} and udp port 9999"
e2e_in vm1 "$PY" - "${VM_DEV[vm1]}" "${E2E_MAC[vm1]}" "${E2E_IP[vm1]}" "${E2E_MAC[vm2]}" "${E2E_IP[vm2]}" <<'PY' ||
import sys
from scapy.all import IP, UDP, Ether, sendp
dev, mac, ip, mac2, ip2 = sys.argv[1:]
sendp([Ether(src=mac, dst=mac2) / IP(src=ip, dst=ip2) / UDP(sport=9999, dport=9999)] * 3, iface=dev, verbose=False)
PY
  e2e_fail "scapy could not send the legitimate frames"
e2e_sniff_wait good 3 10 || e2e_fail "positive control: vm2 saw $(e2e_sniff_count good) of vm1's 3 legitimate frames"
sleep "$E2E_QUIET_S" # observation window for frames still in flight
e2e_sniff_expect_none spoof "spoofed frames from vm1 reached vm2"
e2e_sniff_stop good

e2e_step "each refusal is counted under its reason"
grew() { local now; now=$(drops "$1"); ((now >= $2 + $3)) || e2e_fail "drops.$1 of vEthernet${VM_VETH[vm1]}: $2 -> $now, expected +$3"; }
# The spoofed MAC never reaches the switch: port security turned the VF's spoofchk on
# (slowpath/daemon/vf_knobs.h), and the VF drops it, as a NIC would.
grew ip-source-guard "$ipsg0" 3   # spoofed IP
grew arp-nd-inspection "$arp0" 6  # ARP and ND
grew dhcp-snooping "$dhcp0" 3
grew vlan "$vlan0" 6              # double tag, 802.1ad
