#!/usr/bin/env bash
# A sim name whose wire names clash with an existing interface that is not a sim wire
# (named like the VM end of VF 0, of VF 1, or of the uplink) stops vfswitchd with an
# error naming the interface and a non-zero exit; no wire is left, and the existing
# interface is untouched.
source "$(dirname "$0")/lib.sh"
e2e_init
SIM_VFS=2

for clash in "${SIM}vf0" "${SIM}vf1" "${SIM}up"; do
  # A dummy where the kernel has the module, a bridge otherwise: both are not veth.
  kind=dummy
  ip link add "$clash" type dummy 2>/dev/null || { kind=bridge && ip link add "$clash" type bridge; }
  e2e_track_link "$clash"
  e2e_step "a $kind named $clash exists"
  e2e_run 60 "$VFS_BIN/vfswitchd" --driver sim --sim-vfs "$SIM_VFS" --sim-name "$SIM" \
    --socket "$SOCK" --state-dir "$STATE" --foreground
  e2e_expect_error "sim wires clashing with $clash" "$clash"
  e2e_expect_no_wires "$SIM" "the refused start" "$clash"
  ip -d link show dev "$clash" | grep -qw "$kind" || e2e_fail "$clash is no longer the $kind it was"
  [[ ! -e $SOCK ]] || e2e_fail "the refused start left the socket $SOCK"
  ip link del "$clash"
done
