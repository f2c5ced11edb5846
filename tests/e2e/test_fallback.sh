#!/usr/bin/env bash
# Fallback: the NIC refuses rules and traffic stays correct in software.
# 1. A sim with room for 2 rules: vm3 (VLAN 20) takes them, then vm1 and vm2 (VLAN 10)
#    get none: their rules are state sw with the sim's "flow table full", vfsw-dump
#    --state sw lists them, vm1 and vm2 still talk (slow path) and nothing they send
#    reaches vm3 (sniffer, after a positive control). Detaching vm3 frees its rules: the
#    refused ones are retried and reach hw, and traffic goes on; vm1's counters never go
#    back across its own detach and re-attach.
# 2. The same VMs after a restart with --sim-unsupported of_push_vlan (the compiler tags
#    frames from access ports with OF_PUSH_VLAN): those rules stay sw with the sim's
#    ENOTSUP words, never failed, and vm1 and vm2 still talk.
source "$(dirname "$0")/lib.sh"

e2e_init
e2e_write_startup_config "$WORK/startup-config"

e2e_step "a sim with room for 2 rules"
e2e_daemon_start --startup-config "$WORK/startup-config" --sim-capacity 2
e2e_vm vm1
e2e_vm vm2
e2e_vm vm3
e2e_attach vm3
v3=${VM_VETH[vm3]}
# vm3 asks for an absent neighbour: its MAC is learned and its rules fill the table.
e2e_ping vm3 10.10.0.44 -c 2 -i 0.2 -W 1 >/dev/null || true
e2e_wait_rules 15 "sum(r['state'] == 'hw' for r in rules) == 2 and all(veth(r) == $v3 for r in rules if r['state'] == 'hw')" \
  "vm3's rules fill the sim (2 in hw)"

e2e_step "vm1 and vm2 attach to a full NIC: their rules stay in software, and they talk"
e2e_attach vm1
e2e_attach vm2
v1=${VM_VETH[vm1]} v2=${VM_VETH[vm2]}
e2e_expect_reach vm1 vm2
e2e_expect_reach vm2 vm1
mine="veth(r) in [$v1, $v2]"
e2e_wait_rules 15 "any($mine for r in rules) and all(r['state'] == 'sw' for r in rules if $mine)" \
  "vm1's and vm2's rules all in state sw"
e2e_rules "any($mine and 'flow table full' in r['reason'] for r in rules)" ||
  e2e_fail "no rule of vm1/vm2 gives the sim's reason (flow table full): $(e2e_dump)"
e2e_rules "not any(r['state'] == 'failed' for r in rules)" || e2e_fail "rules failed: $(e2e_dump)"

e2e_step "vfsw-dump --state sw lists them with the reason; --state failed lists nothing"
sw_json=$("$VFS_BIN/vfsw-dump" --socket "$SOCK" --state sw --json) || e2e_fail "vfsw-dump --state sw --json failed"
e2e_json "len(rules) > 0 and all(r['state'] == 'sw' for r in rules) and any(veth(r) == $v1 for r in rules)" <<<"$sw_json" ||
  e2e_fail "vfsw-dump --state sw --json: $sw_json"
sw_text=$("$VFS_BIN/vfsw-dump" --socket "$SOCK" --state sw --veth "$v1") || e2e_fail "vfsw-dump --state sw --veth $v1 failed"
grep -q "flow table full" <<<"$sw_text" || e2e_fail "vfsw-dump --state sw does not show the NIC's reason: $sw_text"
failed_json=$("$VFS_BIN/vfsw-dump" --socket "$SOCK" --state failed --json) || e2e_fail "vfsw-dump --state failed failed"
e2e_json "rules == []" <<<"$failed_json" || e2e_fail "vfsw-dump --state failed: $failed_json"

e2e_step "VLAN isolation holds in software: vm1's broadcasts reach vm2, not vm3"
e2e_sniff_start peer vm2 "ether src ${E2E_MAC[vm1]} and ether broadcast"
e2e_sniff_start other vm3 "$(e2e_from vm1 vm2)"
e2e_ping vm1 10.10.0.255 -b -c 5 -i 0.05 -W 1 >/dev/null || true
e2e_in vm1 ip neigh replace "${E2E_IP[vm3]}" lladdr "${E2E_MAC[vm3]}" dev "${VM_DEV[vm1]}" nud permanent
e2e_expect_no_reach vm1 vm3
e2e_sniff_wait peer 5 10 || e2e_fail "positive control: vm2 saw only $(e2e_sniff_count peer) of vm1's 5 broadcasts"
e2e_sniff_stop peer
sleep "$E2E_QUIET_S" # observation window for frames still in flight
e2e_sniff_expect_none other "vm1's frames reached vm3 in VLAN 20"

e2e_step "detach vm3: capacity returns and refused rules reach hw"
e2e_vfsw detach --vf "${E2E_VF[vm3]}" || e2e_fail "detach of vm3 failed"
e2e_expect_reach vm1 vm2
e2e_wait_rules 15 "any($mine and r['state'] == 'hw' for r in rules)" "a refused rule of vm1/vm2 retried into hw"
e2e_rules "sum(r['state'] == 'hw' for r in rules) <= 2 and not any(veth(r) == $v3 for r in rules)" ||
  e2e_fail "the sim holds more than its capacity, or vm3's rules: $(e2e_dump)"
e2e_expect_reach vm2 vm1

e2e_step "vm1's counters never go back across its own detach and re-attach"
rx_of() { # VETH: its rx_packets
  local j
  j=$(e2e_vfsw -c "show interface vethernet $1 counters detail | json") || { echo "$j" >&2; return 1; }
  e2e_json 'd.get("counters", d)["rx_packets"]' <<<"$j" || { echo "counters of vEthernet $1: $j" >&2; return 1; }
}
before=$(rx_of "$v1") || e2e_fail "could not read vEthernet $v1's counters"
((before > 0)) || e2e_fail "vEthernet $v1 counted no rx after its pings"
e2e_vfsw detach --vf "${E2E_VF[vm1]}" || e2e_fail "detach of vm1 failed"
e2e_attach vm1
[[ ${VM_VETH[vm1]} == "$v1" ]] || e2e_fail "vm1 came back as vEthernet ${VM_VETH[vm1]}, not $v1"
after=$(rx_of "$v1") || e2e_fail "could not read vEthernet $v1's counters"
((after >= before)) || e2e_fail "vEthernet $v1's rx_packets went back: $before -> $after"
e2e_expect_reach vm1 vm2
grown=$(rx_of "$v1")
((grown > after)) || e2e_fail "vEthernet $v1's rx_packets did not grow with traffic: $after -> $grown"

e2e_step "restart with --sim-unsupported of_push_vlan"
e2e_daemon_kill9
e2e_daemon_start --startup-config "$WORK/startup-config" --sim-unsupported of_push_vlan
e2e_expect_reach vm1 vm2
e2e_expect_reach vm2 vm1
e2e_wait_rules 15 "any('push_vlan' in r['actions'] and r['state'] == 'sw' and 'OF_PUSH_VLAN' in r['reason'] for r in rules)" \
  "rules with OF_PUSH_VLAN in state sw with the sim's ENOTSUP reason"
e2e_rules "not any('push_vlan' in r['actions'] and r['state'] == 'hw' for r in rules) and not any(r['state'] == 'failed' for r in rules)" ||
  e2e_fail "a rule with OF_PUSH_VLAN reached hw, or a rule failed: $(e2e_dump)"
sw_text=$("$VFS_BIN/vfsw-dump" --socket "$SOCK" --state sw) || e2e_fail "vfsw-dump --state sw failed"
grep -q "OF_PUSH_VLAN" <<<"$sw_text" || e2e_fail "vfsw-dump --state sw does not name OF_PUSH_VLAN: $sw_text"

e2e_step "a bad --sim-unsupported name is refused, naming it"
out=$("$VFS_BIN/vfswitchd" --driver sim --sim-name "$SIM" --socket "$WORK/bad.sock" --state-dir "$WORK/bad" \
  --foreground --sim-unsupported ipv6,of_push_vlna 2>&1) && e2e_fail "vfswitchd accepted --sim-unsupported of_push_vlna"
grep -q "of_push_vlna" <<<"$out" || e2e_fail "the error does not name the word: $out"
