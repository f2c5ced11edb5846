#!/usr/bin/env bash
# Under a steady flow, after the first packets the traffic is switched by offloaded rules:
# over a window of 200 echo round trips vm1 <-> vm2 (>= 390 frames through the switch),
#  - the slow path's exception_packets grows by at most 4 (1 % of the frames): flat;
#  - the hw rules' packet counters grow by at least the frames that crossed minus those
#    the slow path saw (every frame is counted by a rule or by the slow path; counters are
#    read from the NIC periodically, so this is awaited with a deadline);
#  - every rule whose counter grew is in state hw, and no rule failed.
# Static neighbour entries keep ARP refreshes out of the window; the other wires are quiet
# (lib.sh), so the slow path sees only what this flow sends it.
source "$(dirname "$0")/lib.sh"

e2e_setup vm1 vm2
e2e_in vm1 ip neigh replace "${E2E_IP[vm2]}" lladdr "${E2E_MAC[vm2]}" dev "${VM_DEV[vm1]}" nud permanent
e2e_in vm2 ip neigh replace "${E2E_IP[vm1]}" lladdr "${E2E_MAC[vm1]}" dev "${VM_DEV[vm2]}" nud permanent

e2e_step "first packets: vm1 <-> vm2 until rules of both vEthernets are in hw"
e2e_expect_reach vm1 vm2
v1=${VM_VETH[vm1]} v2=${VM_VETH[vm2]}
e2e_wait_rules 15 "any(veth(r) == $v1 and r['state'] == 'hw' for r in rules) and any(veth(r) == $v2 and r['state'] == 'hw' for r in rules) and not any(r['state'] == 'pending' for r in rules)" \
  "hw rules for vEthernet $v1 and $v2, none pending"

e2e_step "steady flow: 200 echoes at 10 ms"
e2e_dump >"$WORK/before.json"
exc0=$(e2e_counter 'd["exception_packets"]')
out=$(e2e_ping vm1 "${E2E_IP[vm2]}" -c 200 -i 0.01 -W 1) || true
exc1=$(e2e_counter 'd["exception_packets"]')
received=$(sed -nE 's/.* ([0-9]+) received.*/\1/p' <<<"$out")
echo "   $(grep transmitted <<<"$out")"
((${received:-0} >= 195)) || e2e_fail "the steady flow lost packets: $(grep transmitted <<<"$out")"
frames=$((2 * received)) exc_growth=$((exc1 - exc0))
e2e_step "frames through the switch >= $frames; exception_packets +$exc_growth"
((exc_growth <= 4)) || e2e_fail "exception_packets grew by $exc_growth during a steady flow of $frames frames (allowed: 4)"

# Sets hw_growth (packets counted by hw rules since before.json) and not_hw (rules not in
# hw whose counter grew, or "-") from a fresh dump.
_GROWTH_PY='
import json, sys
def load(p):
    d = json.load(open(p))
    return d if isinstance(d, list) else d.get("rules", [])
def key(r):
    return json.dumps([r.get(k) for k in ("veth", "group", "priority", "match", "actions")], sort_keys=True)
before = {key(r): r for r in load(sys.argv[1])}
hw, not_hw = 0, []
for r in load(sys.argv[2]):
    grown = r.get("packets", 0) - before.get(key(r), {}).get("packets", 0)
    if grown <= 0:
        continue
    if r.get("state") == "hw":
        hw += grown
    else:
        not_hw.append("veth %s group %s state %s (+%d)" % (r.get("veth"), r.get("group"), r.get("state"), grown))
print(hw, "; ".join(not_hw) or "-")
'
measure_growth() {
  local g
  e2e_dump >"$WORK/after.json" || return 1
  g=$("$PY" -c "$_GROWTH_PY" "$WORK/before.json" "$WORK/after.json") || e2e_fail "could not compare the rule dumps"
  read -r hw_growth not_hw <<<"$g"
}
counted_by_hw() { measure_growth && ((hw_growth >= frames - exc_growth)); }
e2e_wait_until 10 counted_by_hw ||
  e2e_fail "hw rules counted $hw_growth packets, fewer than the $frames - $exc_growth frames not seen by the slow path"
echo "   hw rule packets +$hw_growth"
[[ $not_hw == - ]] || e2e_fail "rules not in hw carried the flow: $not_hw"
e2e_rules "not any(r['state'] == 'failed' for r in rules)" ||
  e2e_fail "rules failed: $(e2e_rules "[r for r in rules if r['state'] == 'failed']")"
