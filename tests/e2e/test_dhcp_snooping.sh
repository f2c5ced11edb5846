#!/usr/bin/env bash
# DHCP snooping feeds IP source guard, with a real DHCP server and client: busybox udhcpd
# on the uplink's VLAN 10 (in the uplink's namespace) and busybox udhcpc in vm1, whose
# profile has `ip verify source`. Before the lease, traffic from the address it will get
# is dropped (ip-source-guard); once udhcpc has the lease, that address talks to the
# server's address, a spoofed one still does not, `show ip dhcp snooping binding` lists
# the lease and a priority-1 admission rule for it is in hardware. The lease survives a
# kill -9 and restart of the daemon. When udhcpc releases (SIGUSR2), the binding and the
# rule go away.
source "$(dirname "$0")/lib.sh"

command -v busybox >/dev/null || e2e_fail "busybox is missing: run tools/deps"
busybox --list | grep -qx udhcpd || e2e_fail "this busybox has no udhcpd"
busybox --list | grep -qx udhcpc || e2e_fail "this busybox has no udhcpc"

LEASED=10.10.0.100
SERVER=10.10.0.254
SPOOF=10.10.0.99

e2e_setup up vm1
dev=${VM_DEV[vm1]} veth=${VM_VETH[vm1]} mac=${E2E_MAC[vm1]}
# Saved, so that the restart below comes back with it (the leases of a vEthernet that
# no longer snoops are dropped).
e2e_vfsw -c "conf t ; port-profile type vethernet web ; ip verify source ; end ; copy running-config startup-config" >/dev/null ||
  e2e_fail "could not set (and save) ip verify source on port-profile web"

e2e_step "a DHCP server on the uplink's VLAN 10 ($SERVER, leases $LEASED only)"
# This kernel has no 802.1Q devices (nor tc vlan actions, nor VLAN-filtering bridges), so
# VLAN 10 of the uplink's wire reaches the server through a relay in the uplink's
# namespace: tagged 10 -> untagged onto a veth whose other end holds the server, and back.
updev=${VM_DEV[up]} srv=${SIM}srv
e2e_in up ip link add "$srv" type veth peer name "${srv}p"
e2e_in up ip link set dev "${srv}p" up
e2e_in up ip link set dev "$srv" up
e2e_in up ip addr add "$SERVER/24" dev "$srv"
server_mac=$(e2e_in up cat "/sys/class/net/$srv/address")
# The server computes its checksums: the relay copies frames as they are.
e2e_in up ethtool -K "$srv" rx off tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
cat >"$WORK/relay.py" <<'PY'
import os, select, socket, struct, sys
up, srv, ready = sys.argv[1:]
SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID, OUTGOING = 263, 8, 0x10, 4
def sock(dev):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((dev, 0))
    return s
a, b = sock(up), sock(srv)
open(ready, "w").close()
while True:
    for s in select.select([a, b], [], [])[0]:
        data, anc, _, addr = s.recvmsg(65536, socket.CMSG_SPACE(20))
        if addr[2] == OUTGOING:
            continue
        vid = None
        for level, kind, cd in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA:
                status, _, _, _, _, tci = struct.unpack("IIIHHH", cd[:18])
                if status & TP_STATUS_VLAN_VALID:
                    vid = tci & 0xfff
        if vid is None and data[12:14] == b"\x81\x00":
            vid, data = struct.unpack("!H", data[14:16])[0] & 0xfff, data[:12] + data[16:]
        if s is a and vid == 10:
            b.send(data)
        elif s is b:
            a.send(data[:12] + b"\x81\x00\x00\x0a" + data[12:])
PY
e2e_bg up "$PY" "$WORK/relay.py" "$updev" "${srv}p" "$WORK/relay.ready"
relay_ready() { [[ -e $WORK/relay.ready ]]; }
e2e_wait_until 10 relay_ready || e2e_fail "the VLAN 10 relay in the uplink's namespace did not start"
cat >"$WORK/udhcpd.conf" <<CONF
start $LEASED
end $LEASED
max_leases 1
interface $srv
lease_file $WORK/udhcpd.leases
pidfile $WORK/udhcpd.pid
option subnet 255.255.255.0
option lease 3600
CONF
: >"$WORK/udhcpd.leases"
e2e_bg up busybox udhcpd -f -a 100 "$WORK/udhcpd.conf"

isg() { e2e_veth_counter vm1 'v["drops"]["ip-source-guard"]'; }

e2e_step "before the lease: traffic from $LEASED is dropped by IP source guard"
e2e_in vm1 ip addr flush dev "$dev"
e2e_in vm1 ip addr add "$LEASED/24" dev "$dev"
e2e_in vm1 ip neigh replace "$SERVER" lladdr "$server_mac" dev "$dev" nud permanent
isg0=$(isg)
e2e_expect_no_reach vm1 "$SERVER"
isg_grew() { (($(isg) >= $1 + 3)); }
e2e_wait_until 10 isg_grew "$isg0" || e2e_fail "drops.ip-source-guard of vEthernet$veth: $isg0 -> $(isg), expected +3"
e2e_in vm1 ip neigh del "$SERVER" dev "$dev"
e2e_in vm1 ip addr flush dev "$dev"

e2e_step "udhcpc in vm1 gets the lease"
cat >"$WORK/udhcpc.script" <<'SCRIPT'
#!/bin/sh
# udhcpc's events: configure the lease it got, unconfigure on deconfig/release.
case "$1" in
  bound | renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    echo "$ip" >"$LEASE_FILE"
    ;;
  deconfig)
    ip addr flush dev "$interface"
    rm -f "$LEASE_FILE"
    ;;
esac
exit 0
SCRIPT
chmod +x "$WORK/udhcpc.script"
e2e_bg vm1 env LEASE_FILE="$WORK/vm1.lease" busybox udhcpc -f -i "$dev" -s "$WORK/udhcpc.script" -t 10 -T 1 -A 1
udhcpc_pid=$BG_PID
leased() { [[ -s $WORK/vm1.lease ]]; }
e2e_wait_until 30 leased || e2e_fail "udhcpc in vm1 got no lease within 30 s"
[[ $(cat "$WORK/vm1.lease") == "$LEASED" ]] || e2e_fail "vm1 leased $(cat "$WORK/vm1.lease"), expected $LEASED"

e2e_step "the lease is a DHCP snooping binding, and a priority-1 admission rule in hw"
listed() {
  local out
  out=$(e2e_vfsw -c "show ip dhcp snooping binding") || return 1
  grep -qE "^$mac +$LEASED +[0-9]+ +dhcp-snooping +10 +Vethernet$veth\$" <<<"$out"
}
e2e_wait_until 10 listed || e2e_fail "show ip dhcp snooping binding does not list $LEASED: $(e2e_vfsw -c "show ip dhcp snooping binding")"
e2e_vfsw -c "show ip dhcp snooping binding | json" |
  e2e_json "any(b['ip'] == '$LEASED' and b['mac'] == '$mac' and b['type'] == 'dhcp-snooping' and b['vlan'] == 10 and b['veth'] == $veth and 0 < b['lease_s'] <= 3600 for b in d)" ||
  e2e_fail "show ip dhcp snooping binding | json does not hold the lease"
rule="any(r['group'] == 0 and r['priority'] == 1 and veth(r) == $veth and '$LEASED' in text(r) and r['state'] == 'hw' for r in rules)"
e2e_wait_rules 10 "$rule" "a priority-1 rule admitting $LEASED from vEthernet$veth in hw"

e2e_step "vm1 reaches the server from its leased address"
e2e_wait_until 15 e2e_ping vm1 "$SERVER" -c 1 -W 1 >/dev/null || e2e_fail "vm1 cannot reach $SERVER from $LEASED"
out=$(e2e_ping vm1 "$SERVER" -c 5 -i 0.1 -W 1) || e2e_fail "vm1 -> $SERVER lost packets: $(grep transmitted <<<"$out")"

e2e_step "a spoofed source ($SPOOF) is still dropped"
isg1=$(isg)
e2e_in vm1 "$PY" - "$dev" "$mac" "$SPOOF" "$server_mac" "$SERVER" <<'PY' || e2e_fail "scapy could not send the spoofed frames"
import sys
from scapy.all import IP, UDP, Ether, sendp
dev, mac, ip, dmac, dip = sys.argv[1:]
sendp([Ether(src=mac, dst=dmac) / IP(src=ip, dst=dip) / UDP(sport=1, dport=7)] * 3, iface=dev, verbose=False)
PY
e2e_wait_until 10 isg_grew "$isg1" || e2e_fail "spoofed frames: drops.ip-source-guard $isg1 -> $(isg), expected +3"

e2e_step "kill -9 and restart: the lease is restored from the state dir"
e2e_daemon_kill9
e2e_daemon_start --startup-config "$WORK/startup-config"
e2e_wait_until 15 listed || e2e_fail "after the restart, show ip dhcp snooping binding does not list $LEASED"
e2e_wait_rules 15 "$rule" "after the restart, the rule admitting $LEASED in hw"
e2e_wait_until 15 e2e_ping vm1 "$SERVER" -c 1 -W 1 >/dev/null || e2e_fail "after the restart, vm1 cannot reach $SERVER"

e2e_step "udhcpc releases the lease: the binding and the rule go away"
kill -USR2 "$udhcpc_pid"
not_listed() { ! listed; }
e2e_wait_until 15 not_listed || e2e_fail "the binding of $LEASED is still listed after DHCPRELEASE"
e2e_wait_rules 10 "not ($rule) and not any(veth(r) == $veth and '$LEASED' in text(r) for r in rules)" \
  "no rule for $LEASED after DHCPRELEASE"
released=$(e2e_counter 'd["dhcp_snooping"]["releases"]')
((released >= 1)) || e2e_fail "the slow path counted no DHCPRELEASE"
