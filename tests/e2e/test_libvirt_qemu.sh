#!/usr/bin/env bash
# The libvirt hook under a real libvirtd booting a real QEMU guest (TCG, never KVM): the
# test runs its own virtlogd and libvirtd in a private mount namespace (private
# /etc/libvirt, /run, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt, so the
# host's libvirt config is untouched), with the hook installed in the private
# /etc/libvirt/hooks/qemu.d and pointed at this run's vfswitchd. The guest
# (tests/e2e/guest: Debian's cloud kernel + a busybox initramfs) has one virtio vNIC on the
# sim's tap VF wire <sim>vf0 (vfswitchd --sim-tap-vfs: the sim makes a persistent tap
# and reads its host side; QEMU opens it by name with <target dev='<sim>vf0'
# managed='no'/>), its profile named in vfswitch's domain metadata.
# Checks: `virsh create` binds the vNIC to its profile and the guest pings its VLAN peer (a
# namespace on VF 1) and answers it; a guest whose profile is missing does not start and
# virsh shows the hook's reason; `virsh destroy` unbinds the vNIC and removes its rules.
# Skips (exit 77, with the reason) only when QEMU or libvirt cannot be installed.
source "$(dirname "$0")/lib.sh"

skip() { echo "SKIP: $*"; exit 77; }

HOOK=${VFS_HOOK:-$VFS_BIN/vfswitch-libvirt-hook}
[[ -x $HOOK ]] || e2e_fail "$HOOK is missing: run tools/build"
need_tools() { command -v qemu-system-x86_64 && command -v libvirtd && command -v virtlogd && command -v virsh; } >/dev/null
if ! need_tools; then
  "$VFS_ROOT/tools/deps" >&2 || true
  need_tools || skip "qemu-system-x86_64/libvirtd/virtlogd/virsh cannot be installed (tools/deps failed)"
fi
# The guest: kernel + initramfs, cached across runs (the first run downloads ~27 MB).
GUEST=$("$VFS_ROOT/tests/e2e/guest/make-guest") || skip "the guest kernel cannot be fetched (apt-get download)"

e2e_init
e2e_write_startup_config "$WORK/startup-config"
e2e_step "vfswitchd with tap VF wires ${SIM}vf0 and ${SIM}vf2 (--sim-tap-vfs 0,2) for the guests"
e2e_daemon_start --startup-config "$WORK/startup-config" --sim-tap-vfs 0,2
for vf in 0 2; do
  [[ -e /sys/class/net/${SIM}vf$vf/tun_flags ]] || e2e_fail "${SIM}vf$vf is not a tap device: $(ip -d link show "${SIM}vf$vf" 2>&1)"
done

e2e_step "peer: a namespace on VF 1, profile web (VLAN 10)"
e2e_vm peer 1 10.10.0.1 02:00:00:00:10:01
e2e_attach peer web
GUEST_IP=10.10.0.5

# ---------------------------------------------------------------- private libvirt
LV=$WORK/libvirt
mkdir -p "$LV"/{etc,run/libvirt,lib,log,cache}
cp -a /etc/libvirt/. "$LV/etc/"
# Nothing of the host's: no autostarted network (it would make a bridge) or domain.
rm -rf "$LV/etc/qemu/networks/autostart" "$LV/etc/qemu/autostart" "$LV/etc/hooks"
mkdir -p "$LV/etc/hooks/qemu.d"
# QEMU as root without a security driver or cgroups: the guest's files are under /tmp and
# /var/cache, and this container has neither AppArmor nor a delegated cgroup tree.
cat >>"$LV/etc/qemu.conf" <<'EOF'
user = "root"
group = "root"
security_driver = "none"
namespaces = [ ]
cgroup_controllers = [ ]
remember_owner = 0
EOF
cat >"$WORK/hook.conf" <<EOF
sim-name = $SIM
log = $WORK/hook.log
EOF
# libvirt runs hooks with an empty environment; the wrapper names this run's daemon.
cat >"$LV/etc/hooks/qemu.d/vfswitch" <<EOF
#!/bin/sh
export VFSWITCH_SOCKET='$SOCK' VFSWITCH_HOOK_CONFIG='$WORK/hook.conf'
exec '$HOOK' "\$@"
EOF
chmod 755 "$LV/etc/hooks/qemu.d/vfswitch"

LV_SOCK=$LV/run/libvirt/libvirt-sock
export LIBVIRT_DEFAULT_URI="qemu:///system?socket=$LV_SOCK"
e2e_step "virtlogd + libvirtd in a private mount namespace"
# One shell in the new namespace: it mounts, starts virtlogd, then becomes libvirtd.
# shellcheck disable=SC2016 # expanded by the inner shell
unshare -m --propagation private bash -c '
  set -e
  lv=$1
  mount --bind "$lv/etc" /etc/libvirt
  mount --bind "$lv/run" /run
  mount --bind "$lv/lib" /var/lib/libvirt
  mount --bind "$lv/log" /var/log/libvirt
  mount --bind "$lv/cache" /var/cache/libvirt
  virtlogd </dev/null >>"$lv/virtlogd.log" 2>&1 &
  echo $! >"$lv/virtlogd.pid"
  exec libvirtd </dev/null >>"$lv/libvirtd.log" 2>&1
' lq "$LV" &
LIBVIRTD_PID=$!
_e2e_daemon_logs+=("$LV/libvirtd.log" "$LV/virtlogd.log")
e2e_wait_until 10 test -s "$LV/virtlogd.pid" || e2e_fail "the private namespace did not start virtlogd: $(cat "$LV/libvirtd.log")"
VIRTLOGD_PID=$(cat "$LV/virtlogd.pid")
# Stopped in reverse order: libvirtd, then virtlogd (after _lq_cleanup destroyed the guests).
e2e_track_pid "$VIRTLOGD_PID"
e2e_track_pid "$LIBVIRTD_PID"
e2e_wait_socket "$LV_SOCK" "$LIBVIRTD_PID" 60 || e2e_fail "libvirtd's socket $LV_SOCK did not come up"

DOMAINS=()
_lq_cleanup() {
  local rc=$? d pidf
  set +e
  for d in "${DOMAINS[@]}"; do timeout 20 virsh -q destroy "$d" >/dev/null 2>&1; done
  # Whatever libvirt could not stop.
  for pidf in "$LV"/run/libvirt/qemu/*.pid; do
    [[ -s $pidf ]] && _e2e_stop_pid "$(cat "$pidf")" KILL 5
  done
  if ((rc != 0)); then
    for d in "${DOMAINS[@]}"; do
      [[ -s $WORK/console-$d.log ]] || continue
      echo "---- console of $d (last 20 lines) ----" >&2
      tail -n 20 "$WORK/console-$d.log" >&2
    done
    [[ -s $WORK/hook.log ]] && { echo "---- hook.log ----" >&2; tail -n 20 "$WORK/hook.log" >&2; }
  fi
  (exit "$rc")
  _e2e_cleanup
}
trap _lq_cleanup EXIT

lq_virsh() { timeout -k 5 60 virsh -q "$@"; }

domain_xml() { # NAME UUID MAC VF PROFILE PEER-ARGS
  cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <uuid>$2</uuid>
  <metadata>
    <vfswitch:ports xmlns:vfswitch='https://vfswitch.dev/xmlns/1'>
      <vfswitch:port mac='$3' profile='$5'/>
    </vfswitch:ports>
  </metadata>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST/vmlinuz</kernel>
    <initrd>$GUEST/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 $6</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='ethernet'>
      <mac address='$3'/>
      <target dev='${SIM}vf$4' managed='no'/>
      <model type='virtio'/>
      <rom enabled='no'/>
    </interface>
    <serial type='file'>
      <source path='$WORK/console-$1.log'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

bindings() { e2e_vfsw -c "show interface virtual | json"; }
binding() { # EXPR over the attached interfaces `i`
  local b
  b=$(bindings) || e2e_fail "vfsw could not read the bindings"
  e2e_json "(lambda i: $1)(d['interfaces'])" <<<"$b"
}

GOOD=$SIM-guest GOOD_UUID=$(cat /proc/sys/kernel/random/uuid) GOOD_MAC=52:54:00:5a:00:05
domain_xml "$GOOD" "$GOOD_UUID" "$GOOD_MAC" 0 web "vfsw_ip=$GUEST_IP/24 vfsw_peer=10.10.0.1" >"$WORK/$GOOD.xml"
DOMAINS+=("$GOOD")
e2e_step "virsh create $GOOD (VF 0, profile web): its vNIC is bound before QEMU runs"
t0=$SECONDS
out=$(lq_virsh create "$WORK/$GOOD.xml" 2>&1) || e2e_fail "virsh create $GOOD failed: $out"
binding "any(x['vf'] == 0 and x['vm'] == '$GOOD' and x['vm_uuid'] == '$GOOD_UUID'
             and x['mac'] == '$GOOD_MAC' and x['port_profile'] == 'web' for x in i)" ||
  e2e_fail "VF 0 is not bound to $GOOD's vNIC with profile web: $(bindings)"
v=$(binding "next((x['vethernet'] for x in i if x['vf'] == 0), 0)")
echo "   $GOOD's vNIC is Vethernet$v"
e2e_vfsw -c "show interface vethernet $v" || true

e2e_step "the guest boots and pings its VLAN peer 10.10.0.1 (marker on its console)"
console=$WORK/console-$GOOD.log
e2e_wait_until "${LQ_BOOT_S:-75}" grep -qa 'VFSW-GUEST-PING-' "$console" ||
  e2e_fail "no VFSW-GUEST-PING marker on $GOOD's console within ${LQ_BOOT_S:-75} s"
grep -qa 'VFSW-GUEST-PING-OK' "$console" || e2e_fail "$GOOD could not ping its peer: $(grep -a VFSW-GUEST "$console")"
echo "   $(grep -a 'VFSW-GUEST-PING' "$console" | tr -d '\r') after $((SECONDS - t0)) s"
e2e_step "the peer reaches the guest"
e2e_wait_until 15 e2e_ping peer "$GUEST_IP" -c 1 -W 1 >/dev/null || e2e_fail "the peer cannot ping $GOOD ($GUEST_IP)"
out=$(e2e_ping peer "$GUEST_IP" -c 3 -i 0.2 -W 1) || e2e_fail "peer -> $GOOD lost packets: $(grep transmitted <<<"$out")"

BAD=$SIM-nope BAD_UUID=$(cat /proc/sys/kernel/random/uuid)
domain_xml "$BAD" "$BAD_UUID" 52:54:00:5a:00:06 2 nope "vfsw_ip=10.10.0.6/24 vfsw_peer=10.10.0.1" >"$WORK/$BAD.xml"
DOMAINS+=("$BAD")
e2e_step "virsh create $BAD (profile nope, missing): refused with the hook's reason"
before=$(bindings)
rc=0
out=$(lq_virsh create "$WORK/$BAD.xml" 2>&1) || rc=$?
((rc != 0)) || e2e_fail "virsh create $BAD succeeded although its profile does not exist"
grep -q 'port-profile nope does not exist' <<<"$out" || e2e_fail "virsh's error does not give the hook's reason: $out"
echo "   virsh: $(tr '\n' ' ' <<<"$out")"
! lq_virsh list --name | grep -qx "$BAD" || e2e_fail "$BAD is running although it was refused"
[[ $(bindings) == "$before" ]] || e2e_fail "the refused guest changed the bindings: $before -> $(bindings)"

e2e_step "virsh destroy $GOOD: VF 0 unbound, no rule of Vethernet$v left, the guest cut off"
out=$(lq_virsh destroy "$GOOD" 2>&1) || e2e_fail "virsh destroy $GOOD failed: $out"
e2e_wait_until 10 binding "not any(x['vf'] == 0 for x in i)" || e2e_fail "VF 0 is still bound after virsh destroy: $(bindings)"
e2e_wait_rules 10 "not any(veth(r) == $v for r in rules)" "no rule of Vethernet$v"
grep -q "$GOOD release end: .*detached Vethernet$v" "$WORK/hook.log" ||
  e2e_fail "the hook log does not record the release: $(tail -n 5 "$WORK/hook.log")"
e2e_expect_no_reach peer "$GUEST_IP"
echo "PASS: libvirt + QEMU guest on the sim's tap VF wires in $SECONDS s"
