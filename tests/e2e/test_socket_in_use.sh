#!/usr/bin/env bash
# A second vfswitchd on a socket path that a running one serves stops with an error
# naming the socket and a non-zero exit; it makes no wire, and the first daemon is
# unharmed: alive, its socket still there and answering, its wires in place.
source "$(dirname "$0")/lib.sh"
e2e_init
SIM_VFS=2
e2e_daemon_start

second=$(e2e_new_name u)
e2e_track_sim "$second" 2
e2e_step "a second daemon (sim $second) on the same socket"
e2e_run 60 "$VFS_BIN/vfswitchd" --driver sim --sim-vfs 2 --sim-name "$second" --socket "$SOCK" \
  --state-dir "$WORK/state2" --foreground
e2e_expect_error "a second daemon on a served socket" "$SOCK"
e2e_expect_no_wires "$second" "the refused second daemon"

e2e_step "the first daemon is unharmed"
_e2e_alive "$DAEMON_PID" || e2e_fail "the first daemon died"
[[ -S $SOCK ]] || e2e_fail "the socket $SOCK is gone"
e2e_rules "isinstance(d, list)" || e2e_fail "the first daemon no longer answers vfsw-dump"
for l in "${SIM}vf0" "${SIM}vf1" "${SIM}up"; do
  ip link show dev "$l" >/dev/null 2>&1 || e2e_fail "the first daemon's wire $l is gone"
done
