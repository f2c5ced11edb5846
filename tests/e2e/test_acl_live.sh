#!/usr/bin/env bash
# Issue 4/5: a profile's ACL changes reach flowing traffic. Under a steady ping vm1 ->
# vm2 (VLAN 10, profile web), the input ACL bound to web is switched from permit to deny:
# the echoes stop — in the slow path and in the hardware rules alike — and the rule
# table shows the deny; switching back restores them. vm1's vEthernet counters only grow
# across both changes, and the denied echoes are counted as ACL drops.
source "$(dirname "$0")/lib.sh"

e2e_setup vm1 vm2
e2e_step "bind an input ACL that permits everything"
e2e_vfsw -c "conf t ; ip access-list web-in ; statistics per-entry ; 10 permit icmp any any ; 20 permit ip any any ; exit ; port-profile type vethernet web ; ip port access-group web-in in" >/dev/null ||
  e2e_fail "could not bind ip access-list web-in to port-profile web"
e2e_expect_reach vm1 vm2

e2e_step "steady ping vm1 -> vm2"
PINGLOG=$WORK/ping.log
ip netns exec "${VM_NS[vm1]}" ping -n -i 0.05 -W 1 "${E2E_IP[vm2]}" >"$PINGLOG" 2>&1 &
e2e_track_pid $!
replies() { grep -c 'bytes from' "$PINGLOG" || true; }
replies_reach() { (($(replies) >= $1)); }
e2e_wait_until 10 replies_reach 20 || e2e_fail "the steady ping got no replies"
e2e_wait_rules 10 'any(r["group"] == 2 and "proto is 1" in r["match"] and r["state"] == "hw" for r in rules)' \
  "entry 10 of web-in in the NIC"
rx0=$(e2e_veth_counter vm1 'v["rx_packets"]')

e2e_step "change the ACL to deny ICMP: the echoes stop"
e2e_vfsw -c "conf t ; ip access-list web-in ; no 10 ; 10 deny icmp any any" >/dev/null ||
  e2e_fail "could not change entry 10 of web-in to deny"
e2e_wait_rules 10 'any(r["group"] == 2 and "proto is 1" in r["match"] and "drop" in r["actions"] for r in rules)' \
  "a deny rule for ICMP in the ACL group"
# The change is in force when vfsw returns; echoes already in flight may still come back.
sleep "$E2E_QUIET_S"
r1=$(replies)
drops0=$(e2e_veth_counter vm1 'v["drops"]["acl"]')
acl_drops_grew() { (($(e2e_veth_counter vm1 'v["drops"]["acl"]') >= drops0 + 20)); }
e2e_wait_until 10 acl_drops_grew ||
  e2e_fail "the ACL drop counter of vEthernet${VM_VETH[vm1]} did not grow by 20 while the ping ran"
r2=$(replies)
((r2 == r1)) || e2e_fail "$((r2 - r1)) echo replies came back while ICMP was denied"
rx1=$(e2e_veth_counter vm1 'v["rx_packets"]')
((rx1 >= rx0)) || e2e_fail "vEthernet${VM_VETH[vm1]} rx_packets went backwards ($rx0 -> $rx1) across the ACL change"

e2e_step "undo: permit ICMP again, the echoes resume"
e2e_vfsw -c "conf t ; ip access-list web-in ; no 10 ; 10 permit icmp any any" >/dev/null ||
  e2e_fail "could not change entry 10 of web-in back to permit"
e2e_wait_until 10 replies_reach $((r2 + 20)) || e2e_fail "the echoes did not resume after the ACL permitted ICMP again"
rx2=$(e2e_veth_counter vm1 'v["rx_packets"]')
((rx2 >= rx1)) || e2e_fail "vEthernet${VM_VETH[vm1]} rx_packets went backwards ($rx1 -> $rx2) across the undo"
drops1=$(e2e_veth_counter vm1 'v["drops"]["acl"]')
((drops1 >= drops0 + 20)) || e2e_fail "ACL drops did not stay counted ($drops0 -> $drops1)"
e2e_step "per-entry statistics: entry 10 counted matches"
hits=$("$PY" -c "$_E2E_API_COUNTERS_PY" "$SOCK" | e2e_json 'd["acl_entries"]["ip:web-in"]["10"]')
((hits > 0)) || e2e_fail "ip access-list web-in entry 10 counted no matches"
