#!/usr/bin/env bash
# Bad command lines: an unknown option, a missing value, a malformed value, to vfswitchd,
# vfsw and vfsw-dump, each give a clear error and a non-zero exit; vfswitchd makes no wire
# and no socket on the way out. vfsw on a socket nobody serves names the socket.
source "$(dirname "$0")/lib.sh"
e2e_init

d=("$VFS_BIN/vfswitchd" --driver sim --sim-name "$SIM" --socket "$SOCK" --state-dir "$STATE" --foreground)

e2e_step "vfswitchd --no-such-option"
e2e_run 20 "${d[@]}" --sim-vfs 2 --no-such-option
e2e_expect_error "vfswitchd with an unknown option" 'no-such-option'
e2e_step "vfswitchd --sim-vfs (no value)"
e2e_run 20 "${d[@]}" --sim-vfs
e2e_expect_error "vfswitchd with a missing value" 'sim-vfs'
e2e_step "vfswitchd --sim-vfs many"
e2e_run 20 "${d[@]}" --sim-vfs many
e2e_expect_error "vfswitchd with a malformed value" 'sim-vfs' 'many'
e2e_step "vfswitchd --sim-name 'Bad_Name'"
e2e_run 20 "$VFS_BIN/vfswitchd" --driver sim --sim-vfs 2 --sim-name Bad_Name --socket "$SOCK" --state-dir "$STATE" --foreground
e2e_expect_error "vfswitchd with a bad sim name" 'sim-name'
e2e_step "vfswitchd --driver nosuch"
e2e_run 20 "$VFS_BIN/vfswitchd" --driver nosuch --sim-vfs 2 --sim-name "$SIM" --socket "$SOCK" --state-dir "$STATE" --foreground
e2e_expect_error "vfswitchd with an unknown driver" 'nosuch'
e2e_expect_no_wires "$SIM" "vfswitchd's rejected command lines"
[[ ! -e $SOCK ]] || e2e_fail "a rejected command line left the socket $SOCK"

e2e_step "vfsw --no-such-option; vfsw-dump --no-such-option; vfsw attach --vf (no value)"
e2e_run 20 "$VFS_BIN/vfsw" --socket "$SOCK" --no-such-option
e2e_expect_error "vfsw with an unknown option" 'no-such-option'
e2e_run 20 "$VFS_BIN/vfsw-dump" --socket "$SOCK" --no-such-option
e2e_expect_error "vfsw-dump with an unknown option" 'no-such-option'
e2e_run 20 "$VFS_BIN/vfsw" --socket "$SOCK" attach --vf
e2e_expect_error "vfsw attach with a missing value" 'vf'

e2e_step "vfsw and vfsw-dump on a socket nobody serves"
e2e_run 20 "$VFS_BIN/vfsw" --socket "$WORK/nobody.sock" -c "show interface brief"
e2e_expect_error "vfsw without a daemon" "$WORK/nobody.sock"
e2e_run 20 "$VFS_BIN/vfsw-dump" --socket "$WORK/nobody.sock" --json
e2e_expect_error "vfsw-dump without a daemon" "$WORK/nobody.sock"
