#!/usr/bin/env bash
# The libvirt hook binary against a running vfswitchd, called the way libvirt calls it
# (`NAME OP SUBOP -`, domain XML from tests/data/libvirt on stdin, VFSWITCH_SOCKET and
# VFSWITCH_HOOK_CONFIG pointing at this run): prepare begin binds the vNIC to its profile
# (the guest's traffic then flows in its VLAN), release end unbinds it and its rules go,
# the same vNIC gets the same vEthernet again; it fails closed, with one line, on
# malformed XML, a missing profile, a second vNIC that cannot attach (the first is rolled
# back), no daemon, and a daemon that does not answer (within VFSWITCH_HOOK_TIMEOUT);
# migrate begin echoes the XML; reconnect begin is idempotent. No libvirt is involved.
source "$(dirname "$0")/lib.sh"

HOOK=${VFS_HOOK:-$VFS_BIN/vfswitch-libvirt-hook}
[[ -x $HOOK ]] || e2e_fail "$HOOK is missing: run tools/build"

e2e_setup vm1
cat >"$WORK/hook.conf" <<EOF
sim-name = $SIM
log = $WORK/hook.log
EOF
# The domain files name sim "vfs"; this run's sim has its own name.
for f in ethernet_sim qbh_sim malformed network_portgroup; do
  sed "s/'vfsvf/'${SIM}vf/g" "$VFS_ROOT/tests/data/libvirt/$f.xml" >"$WORK/$f.xml"
done

hook() { # NAME OP SUBOP XMLFILE [ENV=VALUE...]: sets RUN_RC, RUN_OUT (stdout), RUN_ERR
  local name=$1 op=$2 sub=$3 xml=$4
  shift 4
  RUN_RC=0
  RUN_OUT=$(env VFSWITCH_HOOK_CONFIG="$WORK/hook.conf" VFSWITCH_SOCKET="$SOCK" "$@" \
    timeout -k 5 30 "$HOOK" "$name" "$op" "$sub" - <"$xml" 2>"$WORK/hook.err") || RUN_RC=$?
  RUN_ERR=$(cat "$WORK/hook.err")
}
expect_refused() { # WHAT REGEX: the last hook call exited 1 with one matching line on stderr
  ((RUN_RC == 1)) || e2e_fail "$1: exit status $RUN_RC, expected 1 (stderr: $RUN_ERR)"
  [[ $(wc -l <"$WORK/hook.err") == 1 ]] || e2e_fail "$1: stderr is not one line: $RUN_ERR"
  grep -qE -- "$2" <<<"$RUN_ERR" || e2e_fail "$1: stderr does not match /$2/: $RUN_ERR"
  echo "   refused: $RUN_ERR"
}
bindings() { e2e_vfsw -c "show interface virtual | json"; }
binding() { # EXPR over the attached interfaces `i` (a list)
  local b
  b=$(bindings) || e2e_fail "vfsw could not read the bindings"
  e2e_json "(lambda i: $1)(d['interfaces'])" <<<"$b"
}
veth_of_vf() { binding "next((x['vethernet'] for x in i if x['vf'] == $1), 0)"; }

e2e_step "prepare begin: sim-guest's vNIC on wire ${SIM}vf1 is bound to profile web"
e2e_vm guest 1 10.10.0.2 52:54:00:aa:00:01
hook sim-guest prepare begin "$WORK/ethernet_sim.xml"
((RUN_RC == 0)) || e2e_fail "prepare begin failed ($RUN_RC): $RUN_ERR"
[[ -z $RUN_OUT && -z $RUN_ERR ]] || e2e_fail "prepare begin printed something: $RUN_OUT $RUN_ERR"
binding "any(x['vf'] == 1 and x['vm'] == 'sim-guest' and x['vm_uuid'] == '0b9e8f7a-6d5c-4b3a-9281-7f6e5d4c3b2a'
             and x['mac'] == '52:54:00:aa:00:01' and x['port_profile'] == 'web' for x in i)" ||
  e2e_fail "VF 1 is not bound to sim-guest's vNIC with profile web: $(bindings)"
v=$(veth_of_vf 1)
grep -q "sim-guest prepare begin: VM sim-guest interface 0 (MAC 52:54:00:aa:00:01) on wire ${SIM}vf1 -> Vethernet$v" \
  "$WORK/hook.log" || e2e_fail "the hook log does not say what it did: $(cat "$WORK/hook.log")"
e2e_step "the guest reaches vm1 in VLAN 10 through Vethernet$v"
e2e_expect_reach guest vm1
e2e_expect_reach vm1 guest

e2e_step "reconnect begin is idempotent; migrate begin echoes the XML unchanged"
hook sim-guest reconnect begin "$WORK/ethernet_sim.xml"
((RUN_RC == 0)) || e2e_fail "reconnect begin failed: $RUN_ERR"
[[ $(veth_of_vf 1) == "$v" ]] || e2e_fail "reconnect changed the vEthernet of VF 1 ($v -> $(veth_of_vf 1))"
hook sim-guest migrate begin "$WORK/ethernet_sim.xml"
((RUN_RC == 0)) || e2e_fail "migrate begin failed: $RUN_ERR"
[[ $RUN_OUT == "$(cat "$WORK/ethernet_sim.xml")" ]] || e2e_fail "migrate begin did not print the XML back unchanged"
hook sim-guest started begin "$WORK/ethernet_sim.xml"
((RUN_RC == 0)) && [[ -z $RUN_OUT$RUN_ERR ]] || e2e_fail "started begin was not a silent no-op ($RUN_RC): $RUN_ERR"

e2e_step "fail closed: malformed XML, missing profile, no daemon, a mute daemon"
before=$(bindings)
hook broken prepare begin "$WORK/malformed.xml"
expect_refused "malformed XML" "malformed domain XML"
sed "s/profileid='db'/profileid='nope'/" "$WORK/qbh_sim.xml" >"$WORK/nope.xml"
hook qbh-guest prepare begin "$WORK/nope.xml"
expect_refused "missing profile" "port-profile nope does not exist"
# Two vNICs: VF 2 (web) attaches, VF 3 (profile nope) does not -> VF 2 is detached again.
cat >"$WORK/two.xml" <<EOF
<domain type='qemu'><name>two</name><uuid>33333333-4444-4555-8666-777777777777</uuid><devices>
<interface type='ethernet'><mac address='52:54:00:00:22:02'/><target dev='${SIM}vf2'/>
<virtualport type='802.1Qbh'><parameters profileid='web'/></virtualport></interface>
<interface type='ethernet'><mac address='52:54:00:00:22:03'/><target dev='${SIM}vf3'/>
<virtualport type='802.1Qbh'><parameters profileid='nope'/></virtualport></interface>
</devices></domain>
EOF
hook two prepare begin "$WORK/two.xml"
expect_refused "second vNIC refused" "interface 1 .* port-profile nope does not exist \(the 1 attached before were detached\)"
hook sim-guest prepare begin "$WORK/ethernet_sim.xml" VFSWITCH_SOCKET="$WORK/nobody.sock"
expect_refused "no daemon" "nobody.sock.*is vfswitchd running"
"$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' "$WORK/mute.sock" </dev/null >/dev/null 2>&1 &
e2e_track_pid $!
e2e_wait_socket "$WORK/mute.sock" "$!" 10 || e2e_fail "the mute socket did not come up"
t0=$(e2e_now_us)
hook qbh-guest prepare begin "$WORK/qbh_sim.xml" VFSWITCH_SOCKET="$WORK/mute.sock" VFSWITCH_HOOK_TIMEOUT=1
elapsed_ms=$((($(e2e_now_us) - t0) / 1000))
expect_refused "mute daemon" "within 1000 ms|no response"
((elapsed_ms < 3000)) || e2e_fail "the hook took $elapsed_ms ms against a mute daemon (timeout 1 s)"
echo "   gave up after $elapsed_ms ms"
[[ $(bindings) == "$before" ]] || e2e_fail "a refused prepare changed the bindings: $before -> $(bindings)"

e2e_step "release end: VF 1 unbound, no rule of Vethernet$v left, the guest cut off"
hook sim-guest release end "$WORK/ethernet_sim.xml"
((RUN_RC == 0)) || e2e_fail "release end failed: $RUN_ERR"
binding "not any(x['vf'] == 1 for x in i)" || e2e_fail "VF 1 is still bound after release end: $(bindings)"
e2e_wait_rules 10 "not any(veth(r) == $v for r in rules)" "no rule of Vethernet$v"
e2e_expect_no_reach vm1 guest
e2e_step "release end again (libvirt also runs it after a refused prepare): nothing to do, exit 0"
hook sim-guest release end "$WORK/ethernet_sim.xml"
((RUN_RC == 0)) || e2e_fail "a second release end failed: $RUN_ERR"

e2e_step "prepare begin again: the same vEthernet for the same VM UUID + MAC"
hook sim-guest prepare begin "$WORK/ethernet_sim.xml"
((RUN_RC == 0)) || e2e_fail "prepare begin failed: $RUN_ERR"
[[ $(veth_of_vf 1) == "$v" ]] || e2e_fail "VF 1 came back as Vethernet$(veth_of_vf 1), was $v"
e2e_expect_reach guest vm1
