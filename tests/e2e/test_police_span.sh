#!/usr/bin/env bash
# Issue 5: QoS policing and local SPAN on real wires.
# - SPAN: `monitor session 1` copies what vm1 sends and receives to vm3 (another VLAN's
#   vEthernet): during 20 echoes vm1 <-> vm2, vm3 sees each request and each reply.
# - Police: `policy-map type qos` with `police cir 4 mbps bc 64 kbytes`, bound as
#   `service-policy input` to web: a TCP stream from vm1 to vm2 stays within the CIR
#   (plus the burst), and police violations are counted.
source "$(dirname "$0")/lib.sh"

e2e_setup vm1 vm2 vm3
e2e_expect_reach vm1 vm2

e2e_step "SPAN: monitor session 1, vEthernet${VM_VETH[vm1]} both -> vEthernet${VM_VETH[vm3]}"
e2e_vfsw -c "conf t ; monitor session 1 ; source interface vethernet ${VM_VETH[vm1]} both ; destination interface vethernet ${VM_VETH[vm3]} ; no shut" >/dev/null ||
  e2e_fail "could not configure monitor session 1"
e2e_sniff_start span vm3 "icmp and host ${E2E_IP[vm1]} and host ${E2E_IP[vm2]}"
e2e_ping vm1 "${E2E_IP[vm2]}" -c 20 -i 0.05 -W 1 >/dev/null || e2e_fail "vm1 could not ping vm2 with the monitor session on"
e2e_sniff_wait span 40 10 || e2e_fail "the SPAN destination saw $(e2e_sniff_count span) of the 40 copies (20 requests, 20 replies)"
sleep "$E2E_QUIET_S"
e2e_sniff_stop span
n=$(e2e_sniff_count span)
((n == 40)) || { e2e_sniff_lines span | tail -n 5 >&2; e2e_fail "the SPAN destination saw $n copies, expected exactly 40"; }
req=$(grep -c 'echo request' "$WORK/sniff-span.txt" || true)
((req == 20)) || e2e_fail "the SPAN destination saw $req echo requests, expected 20"

e2e_step "police: cir 4 mbps on vm1's input"
e2e_vfsw -c "conf t ; no monitor session 1 ; policy-map type qos cap4m ; class class-default ; police cir 4 mbps bc 64 kbytes conform transmit violate drop ; exit ; exit ; port-profile type vethernet web ; service-policy input cap4m" >/dev/null ||
  e2e_fail "could not bind a 4 mbps policer to port-profile web"
viol0=$(e2e_veth_counter vm1 'v["drops"]["police"]')
# A TCP sink in vm2 counts what arrives; vm1 sends as fast as it can for 3 s.
e2e_in vm2 "$PY" - "${E2E_IP[vm2]}" "$WORK/sink.txt" <<'PY' &
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5001)); s.listen(1)
open(sys.argv[2] + ".ready", "w").close()
c, _ = s.accept(); total = 0; start = None
while True:
    b = c.recv(65536)
    if not b:
        break
    if start is None:
        start = time.monotonic()
    total += len(b)
open(sys.argv[2], "w").write(f"{total} {time.monotonic() - (start or time.monotonic())}\n")
PY
e2e_track_pid $!
e2e_wait_until 10 test -e "$WORK/sink.txt.ready" || e2e_fail "the TCP sink in vm2 did not start"
e2e_in vm1 "$PY" - "${E2E_IP[vm2]}" <<'PY' || e2e_fail "the TCP stream from vm1 to vm2 failed"
import socket, sys, time
c = socket.create_connection((sys.argv[1], 5001), timeout=10)
buf = b"x" * 16384; end = time.monotonic() + 3
while time.monotonic() < end:
    c.sendall(buf)
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
PY
e2e_wait_until 20 test -s "$WORK/sink.txt" || e2e_fail "the TCP sink never finished"
read -r bytes secs <"$WORK/sink.txt"
rate=$("$PY" -c "print(int($bytes * 8 / max($secs, 0.5)))")
e2e_step "TCP goodput under the policer: $rate bit/s over $secs s ($bytes bytes)"
((bytes > 0)) || e2e_fail "nothing got through the policer"
# CIR 4 Mb/s plus the 64 KB burst spread over the run; generous, since slower is fine.
((rate <= 4000000 * 13 / 10 + 64 * 1024 * 8)) || e2e_fail "the stream ran at $rate bit/s, over the 4 Mb/s CIR"
viol1=$(e2e_veth_counter vm1 'v["drops"]["police"]')
((viol1 > viol0)) || e2e_fail "no police drop was counted ($viol0 -> $viol1)"
