#!/usr/bin/env bash
# kill -9 and restart of the daemon with the same state dir and sim name: the wires are
# adopted and the bindings restored (traffic resumes in both VLANs), the rebuilt rule
# table holds nothing stale (every rule's vEthernet is bound, every unicast MAC in a rule
# is a live VM's, nothing failed), and no frame crosses VLANs meanwhile: sniffers in every
# VM watch for the other VLAN's MACs across the whole restart while both VLANs keep
# sending unicast and broadcast.
source "$(dirname "$0")/lib.sh"

e2e_setup up vm1 vm2 vm3 vm4
e2e_expect_reach vm1 vm2
e2e_expect_reach vm3 vm4
e2e_wait_rules 15 "any(r['state'] == 'hw' for r in rules)" "some rules in hw"
bound="${VM_VETH[*]}"

e2e_step "sniffers for cross-VLAN frames in all four VMs"
e2e_sniff_start vm1 vm1 "$(e2e_from vm3 vm4)"
e2e_sniff_start vm2 vm2 "$(e2e_from vm3 vm4)"
e2e_sniff_start vm3 vm3 "$(e2e_from vm1 vm2)"
e2e_sniff_start vm4 vm4 "$(e2e_from vm1 vm2)"

e2e_step "steady unicast and broadcast traffic in both VLANs"
for pair in "vm1 ${E2E_IP[vm2]}" "vm1 10.10.0.255 -b" "vm3 ${E2E_IP[vm4]}" "vm3 10.10.0.255 -b"; do
  read -r vm dest opt <<<"$pair"
  e2e_bg "$vm" ping -n -q -i 0.05 -w 120 ${opt:+"$opt"} "$dest"
done

e2e_step "kill -9 vfswitchd (pid $DAEMON_PID)"
e2e_daemon_kill9
for vm in vm1 vm2 vm3 vm4; do
  e2e_in "$vm" ip link show dev "${VM_DEV[$vm]}" >/dev/null || e2e_fail "$vm's wire vanished with the daemon"
done

e2e_step "restart with the same state dir and sim name"
e2e_daemon_start --startup-config "$WORK/startup-config"

e2e_step "traffic resumes in both VLANs"
e2e_expect_reach vm1 vm2
e2e_expect_reach vm2 vm1
e2e_expect_reach vm3 vm4
e2e_expect_reach vm4 vm3
e2e_wait_rules 15 "any(r['state'] == 'hw' for r in rules) and not any(r['state'] == 'pending' for r in rules)" \
  "rules rebuilt in hw, none pending"

e2e_step "the rule table holds nothing stale (bound vEthernets: $bound)"
macs="$(printf "'%s'," "${E2E_MAC[@]}")"
stale=$(e2e_rules "[r for r in rules if (veth(r) is not None and veth(r) not in [${bound// /,}]) or r['state'] == 'failed' or any(m not in [$macs] and (int(m[:2], 16) & 1) == 0 and m != '00:00:00:00:00:00' for m in re.findall(r'(?:[0-9a-f]{2}:){5}[0-9a-f]{2}', text(r)))]") ||
  e2e_fail "could not read the rule table"
[[ $stale == "[]" ]] || e2e_fail "stale or failed rules after the restart: $stale"

e2e_step "no frame crossed VLANs across the restart"
for vm in vm1 vm2 vm3 vm4; do
  e2e_sniff_expect_none "$vm" "frames from the other VLAN reached $vm during the restart"
done
