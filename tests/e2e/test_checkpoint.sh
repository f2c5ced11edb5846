#!/usr/bin/env bash
# Issue 4: checkpoint and rollback, and the startup-config across a restart.
# - `checkpoint base`, then edits (a VLAN, an ACL, a profile setting); `rollback
#   running-config checkpoint base` gives back exactly the checkpoint's text, and traffic
#   still flows; a rollback to a checkpoint that does not exist changes nothing.
# - `copy running-config startup-config`, a stop, and a start with the same state dir:
#   the running-config is the saved one, byte for byte, and vm1 reaches vm2 again.
source "$(dirname "$0")/lib.sh"

e2e_setup vm1 vm2
e2e_expect_reach vm1 vm2
e2e_vfsw -c "conf t ; vlan 30 ; name spare ; ip access-list web-in ; 10 permit ip any any ; exit ; port-profile type vethernet web ; ip port access-group web-in in" >/dev/null ||
  e2e_fail "could not build the configuration to checkpoint"
e2e_vfsw -c "checkpoint base" >/dev/null || e2e_fail "checkpoint base failed"
base=$(e2e_vfsw -c "show running-config")
e2e_vfsw -c "show checkpoint summary" | grep -q base || e2e_fail "show checkpoint summary does not list base"

e2e_step "edits after the checkpoint"
e2e_vfsw -c "conf t ; no vlan 30 ; ip access-list web-in ; 5 deny icmp any any ; exit ; port-profile type vethernet web ; description edited" >/dev/null ||
  e2e_fail "could not edit the configuration"
e2e_expect_no_reach vm1 vm2  # the new entry 5 denies ICMP
[[ $(e2e_vfsw -c "show running-config") != "$base" ]] || e2e_fail "the edits did not change the running-config"

e2e_step "a rollback to a missing checkpoint changes nothing"
edited=$(e2e_vfsw -c "show running-config")
e2e_run 10 "$VFS_BIN/vfsw" --socket "$SOCK" -c "rollback running-config checkpoint nosuch"
e2e_expect_error "rollback to a missing checkpoint" "nosuch"
[[ $(e2e_vfsw -c "show running-config") == "$edited" ]] || e2e_fail "a failed rollback changed the running-config"

e2e_step "rollback to base restores it exactly, and traffic with it"
e2e_vfsw -c "rollback running-config checkpoint base" >/dev/null || e2e_fail "rollback to base failed"
now=$(e2e_vfsw -c "show running-config")
if [[ $now != "$base" ]]; then
  diff <(echo "$base") <(echo "$now") >&2
  e2e_fail "the running-config after rollback differs from checkpoint base"
fi
e2e_expect_reach vm1 vm2

e2e_step "copy running-config startup-config, stop, start: the same configuration and traffic"
e2e_vfsw -c "copy running-config startup-config" >/dev/null || e2e_fail "copy running-config startup-config failed"
_e2e_stop_pid "$DAEMON_PID" TERM 20
e2e_daemon_start --startup-config "$WORK/startup-config"
after=$(e2e_vfsw -c "show running-config")
if [[ $after != "$base" ]]; then
  diff <(echo "$base") <(echo "$after") >&2
  e2e_fail "the running-config after the restart differs from the one saved"
fi
e2e_expect_reach vm1 vm2
e2e_vfsw -c "show checkpoint summary" | grep -q base || e2e_fail "checkpoint base did not survive the restart"
