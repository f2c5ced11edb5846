#!/usr/bin/env bash
# Bad configuration: an unreadable --config (missing, or a directory), a malformed one
# (a line that is not `name = value`, an unknown option, a bad value) and a malformed
# --startup-config each stop vfswitchd with an error naming the file (and the line where
# there is one), a non-zero exit, and nothing half-made: no wire, no socket.
source "$(dirname "$0")/lib.sh"
e2e_init
mkdir -p "$STATE"

d=("$VFS_BIN/vfswitchd" --driver sim --sim-vfs 2 --sim-name "$SIM" --socket "$SOCK" --state-dir "$STATE" --foreground)
nothing_made() {
  e2e_expect_no_wires "$SIM" "$1"
  [[ ! -e $SOCK ]] || e2e_fail "$1 left the socket $SOCK"
}

e2e_step "--config naming a missing file"
e2e_run 30 "${d[@]}" --config "$WORK/missing.conf"
e2e_expect_error "a missing config file" "$WORK/missing.conf"
nothing_made "a missing config file"

e2e_step "--config naming a directory"
mkdir "$WORK/conf.d"
e2e_run 30 "${d[@]}" --config "$WORK/conf.d"
e2e_expect_error "a directory as config file" "$WORK/conf.d"
nothing_made "a directory as config file"

# FILE LINE WHAT: the config FILE is refused with an error naming FILE and LINE.
expect_config_error() {
  e2e_run 30 "${d[@]}" --config "$1"
  e2e_expect_error "$3" "$1(:$2\\b|.*line $2\\b)"
  nothing_made "$3"
}
e2e_step "config line 3 is not name = value"
printf '# a comment\nsim-vfs = 2\nthis line is broken\n' >"$WORK/broken.conf"
expect_config_error "$WORK/broken.conf" 3 "a config line without ="
e2e_step "config line 2 names an unknown option"
printf '# a comment\nno-such-option = 1\n' >"$WORK/unknown.conf"
expect_config_error "$WORK/unknown.conf" 2 "an unknown option in the config file"
e2e_step "config line 3 has a malformed value"
# An option the command line does not set too (there it would win, unparsed).
printf '# a comment\nlog-level = info\nmac-aging = soon\n' >"$WORK/badvalue.conf"
expect_config_error "$WORK/badvalue.conf" 3 "a malformed value in the config file"

e2e_step "startup-config line 7 is not a command"
e2e_write_startup_config "$WORK/startup-config"
sed -i '7s/.*/  switchport mode sideways/' "$WORK/startup-config"
e2e_run 60 "${d[@]}" --startup-config "$WORK/startup-config"
e2e_expect_error "a malformed startup-config" "$WORK/startup-config" '(:7\b|line 7\b)'
nothing_made "a malformed startup-config"

e2e_step "--startup-config naming a missing file"
e2e_run 60 "${d[@]}" --startup-config "$WORK/no-startup-config"
e2e_expect_error "a missing startup-config" "$WORK/no-startup-config"
nothing_made "a missing startup-config"
