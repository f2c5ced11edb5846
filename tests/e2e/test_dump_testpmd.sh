#!/usr/bin/env bash
# vfsw-dump against a daemon with real rules (vm1 <-> vm2 have pinged): every --testpmd
# line is the dump's own match and actions text (so it parses back to the same rule), and
# a real dpdk-testpmd accepts each one as `flow validate` (no "Bad arguments"; the ring
# PMD's "Function not implemented" means the line parsed). --explain walks the ping to its
# output port; --watch --count refreshes with delta columns and no screen clearing off a tty.
# Skips (exit 77, with the reason) when dpdk-testpmd is not installed (tools/deps: dpdk-dev).
source "$(dirname "$0")/lib.sh"

TESTPMD=$(command -v dpdk-testpmd || true)
if [[ -z $TESTPMD ]]; then
  echo "SKIP: dpdk-testpmd is not installed (Debian package dpdk-dev, see tools/deps)"
  exit 77
fi

e2e_setup vm1 vm2
e2e_step "vm1 <-> vm2 so that rules exist"
e2e_expect_reach vm1 vm2
e2e_expect_reach vm2 vm1
e2e_wait_rules 15 'sum(1 for r in rules if r.get("state") == "hw" and r.get("group", 0) > 0) >= 2' \
  "hw rules past group 0"

dump_bin=("$VFS_BIN/vfsw-dump" --socket "$SOCK")

e2e_step "vfsw-dump --testpmd: one line per rule, the dump's own match and actions"
"${dump_bin[@]}" --json >"$WORK/rules.json" || e2e_fail "vfsw-dump --json failed"
"${dump_bin[@]}" --testpmd >"$WORK/rules.testpmd" 2>"$WORK/testpmd.err" ||
  e2e_fail "vfsw-dump --testpmd failed: $(cat "$WORK/testpmd.err")"
"$PY" - "$WORK/rules.json" "$WORK/rules.testpmd" <<'EOF' || e2e_fail "--testpmd does not say what the dump says"
import json, sys
rules = json.load(open(sys.argv[1]))
lines = [l for l in open(sys.argv[2]).read().splitlines() if l.startswith("flow create ")]
if len(lines) != len(rules) or not rules:
    sys.exit(f"{len(lines)} flow lines for {len(rules)} rules")
for r in rules:
    want = (f"flow create 0 transfer group {r['group']} priority {r['priority']} "
            f"pattern {r['match']} actions {r['actions']}")
    if want not in lines:
        sys.exit(f"no line {want!r}")
EOF
veth1=${VM_VETH[vm1]}
n_all=$(grep -c '^flow create ' "$WORK/rules.testpmd")
n_v1=$("${dump_bin[@]}" --testpmd --veth "$veth1" | grep -c '^flow create ') || true
n_v1_json=$(e2e_rules "sum(1 for r in rules if veth(r) == $veth1)")
((n_v1 == n_v1_json && n_v1 < n_all)) ||
  e2e_fail "--testpmd --veth $veth1 printed $n_v1 rules; the dump has $n_v1_json of $n_all"

e2e_step "dpdk-testpmd validates all $n_all lines"
# Every port a line names must exist in testpmd: one net_ring vdev per port id up to the
# largest.
max_port=$(grep -oE '(ethdev_port_id( is)?|port_id( id)?|flow create) [0-9]+' "$WORK/rules.testpmd" |
  grep -oE '[0-9]+$' | sort -n | tail -n 1)
vdevs=()
for ((i = 0; i <= max_port || i < 2; i++)); do vdevs+=(--vdev "net_ring$i"); done
sed 's/^flow create /flow validate /' "$WORK/rules.testpmd" >"$WORK/testpmd.cmds"
echo quit >>"$WORK/testpmd.cmds"
prefix="vfsdump$SIM"
rc=0
timeout 120 "$TESTPMD" --no-huge -m 256 --no-pci --file-prefix "$prefix" "${vdevs[@]}" -- -i \
  --total-num-mbufs=2048 <"$WORK/testpmd.cmds" >"$WORK/testpmd.out" 2>&1 || rc=$?
rm -rf "/var/run/dpdk/$prefix"
((rc == 0)) || e2e_fail "dpdk-testpmd exited $rc: $(tail -n 20 "$WORK/testpmd.out")"
if grep -inE 'bad arguments|\bbad\b' "$WORK/testpmd.out" >"$WORK/testpmd.bad"; then
  e2e_fail "testpmd refused lines: $(head -n 5 "$WORK/testpmd.bad"); see $WORK/testpmd.out"
fi
answered=$(grep -cE 'Caught PMD error|Flow rule validated' "$WORK/testpmd.out") || true
((answered == n_all)) ||
  e2e_fail "testpmd answered $answered of $n_all flow validate commands; see $WORK/testpmd.out"

e2e_step "vfsw-dump --explain walks vm1's ping to vm2's port"
out=$("${dump_bin[@]}" --explain "$veth1" "icmp ${E2E_IP[vm1]} > ${E2E_IP[vm2]} to ${E2E_MAC[vm2]}") ||
  e2e_fail "--explain failed: $out"
while IFS= read -r line; do echo "   $line"; done <<<"$out"
grep -q "from ${E2E_MAC[vm1]} (its group-0 rules)" <<<"$out" || e2e_fail "--explain did not use vm1's MAC: $out"
grep -q '^verdict: forwarded by the NIC out of port ' <<<"$out" ||
  e2e_fail "--explain did not find the hardware path of a working ping: $out"
out=$("${dump_bin[@]}" --explain "$veth1" "icmp ${E2E_IP[vm1]} > ${E2E_IP[vm2]} from 02:00:00:00:99:99") ||
  e2e_fail "--explain failed: $out"
grep -q '^verdict: the slow path decides' <<<"$out" || e2e_fail "a spoofed source MAC found a hardware path: $out"
e2e_run 10 "${dump_bin[@]}" --explain "$veth1" "tcp ${E2E_IP[vm1]}:1 > nowhere:2"
e2e_expect_error "a bad packet" "'nowhere:2'"

e2e_step "vfsw-dump --watch 0.2 --count 2 (not a tty)"
out=$("${dump_bin[@]}" --watch 0.2 --count 2) || e2e_fail "--watch failed: $out"
(($(grep -c '^vfsw-dump: refresh ' <<<"$out") == 2)) || e2e_fail "--watch --count 2 did not refresh twice: $out"
grep -q '+PACKETS' <<<"$out" || e2e_fail "--watch has no delta column: $out"
[[ $out != *$'\033'* ]] || e2e_fail "--watch cleared the screen of a pipe"
