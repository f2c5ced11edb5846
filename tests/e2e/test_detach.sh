#!/usr/bin/env bash
# Detach removes every rule of that vEthernet: none carries its number and none matches or
# forwards to its MAC (the rule table equals the compiled desired state). The detached VF
# then forwards nothing (fail closed), and attaching the same VM vNIC again gives the same
# vEthernet number and working traffic.
source "$(dirname "$0")/lib.sh"

e2e_setup vm1 vm2
v1=${VM_VETH[vm1]} mac1=${E2E_MAC[vm1]}
e2e_step "traffic vm1 <-> vm2 until vEthernet $v1 has hw rules"
e2e_expect_reach vm1 vm2
e2e_expect_reach vm2 vm1
e2e_wait_rules 15 "any(veth(r) == $v1 and r['state'] == 'hw' for r in rules)" "hw rules for vEthernet $v1"
echo "   $(e2e_rules "len(rules)") rules, $(e2e_rules "sum(1 for r in rules if veth(r) == $v1)") of vEthernet $v1"

e2e_step "detach vf ${E2E_VF[vm1]} (vEthernet $v1)"
e2e_vfsw detach --vf "${E2E_VF[vm1]}" || e2e_fail "detach --vf ${E2E_VF[vm1]} failed"
e2e_wait_rules 10 "not any(veth(r) == $v1 or '$mac1' in text(r) for r in rules)" \
  "no rule of vEthernet $v1 and none naming $mac1"

e2e_step "the detached VF forwards nothing"
nopol0=$(e2e_counter 'd["dropped"]["no-policy"]')
e2e_expect_no_reach vm1 vm2
nopol1=$(e2e_counter 'd["dropped"]["no-policy"]')
((nopol1 > nopol0)) || e2e_fail "dropped.no-policy did not grow ($nopol0 -> $nopol1) while the unbound VF sent"
e2e_rules "not any(veth(r) == $v1 for r in rules)" || e2e_fail "rules of detached vEthernet $v1 came back"

e2e_step "attach the same VM vNIC again"
e2e_attach vm1
[[ ${VM_VETH[vm1]} == "$v1" ]] || e2e_fail "re-attach gave vEthernet ${VM_VETH[vm1]}, was $v1"
e2e_expect_reach vm1 vm2
