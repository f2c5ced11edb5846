# shellcheck shell=bash
# tests/e2e/lib.sh owns what the end-to-end tests, tools/demo and tests/bench share: a
# private vfswitchd on the sim driver (own sim name, socket and state dir), VMs made of
# network namespaces on its VF wires, waits on the daemon's API and on events instead of
# sleeps, and a cleanup that runs even when the script fails or is interrupted.
#
# Use: source it, then `e2e_setup vm1 vm2 ...` (or e2e_init + e2e_daemon_start + e2e_vm).
# Every name it makes carries the run's unique sim name, so runs never collide.

set -euo pipefail

VFS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VFS_BIN=${VFS_BIN:-$VFS_ROOT/build/bin}
# Debian's python3, which has scapy; the first python3 on PATH may be another one.
PY=/usr/bin/python3
# Proving that a frame did NOT arrive needs an observation window; it follows a positive
# control (the same send reached its legitimate receiver), so it only covers in-flight time.
E2E_QUIET_S=${E2E_QUIET_S:-1}
E2E_LABEL=${E2E_LABEL:-FAIL}

# The standard VMs: VF, address, MAC, port-profile. vm1 and vm2 are in VLAN 10 ("web"),
# vm3 and vm4 in VLAN 20 ("db"); all share one IP subnet so that only VLANs separate them.
declare -A E2E_VF=([vm1]=0 [vm2]=1 [vm3]=2 [vm4]=3)
declare -A E2E_IP=([vm1]=10.10.0.1 [vm2]=10.10.0.2 [vm3]=10.10.0.3 [vm4]=10.10.0.4)
declare -A E2E_MAC=([vm1]=02:00:00:00:10:01 [vm2]=02:00:00:00:10:02 [vm3]=02:00:00:00:20:03 [vm4]=02:00:00:00:20:04)
declare -A E2E_PROFILE=([vm1]=web [vm2]=web [vm3]=db [vm4]=db)
# Filled as things are made: namespace and device per VM ("up" is the uplink's VM end),
# vEthernet number and UUID per attached VM.
declare -A VM_NS=() VM_DEV=() VM_VETH=() VM_UUID=()
declare -A _E2E_SNIFF_PID=()
_e2e_pids=() _e2e_daemon_logs=() _e2e_sims=() _e2e_netns=() _e2e_links=() _e2e_users=()
_e2e_failed_once=0

e2e_fail() { # MESSAGE: records why the script failed and exits non-zero
  if ((_e2e_failed_once == 0)) && [[ -n ${E2E_REASON:-} ]]; then printf '%s\n' "$*" >"$E2E_REASON"; fi
  _e2e_failed_once=1
  echo "$E2E_LABEL: $*" >&2
  exit 1
}

e2e_step() { echo "-> $*"; }

# Remembers an object for the runner's leftover sweep (tests/e2e/run) as well as for ours.
_e2e_record() { if [[ -n ${E2E_RECORD:-} ]]; then echo "$*" >>"$E2E_RECORD"; fi; }

e2e_now_us() { echo "${EPOCHREALTIME/./}"; }

e2e_wait_until() { # SECONDS CMD...: polls CMD every 0.1 s until it succeeds; 1 past the deadline
  local end=$(($(e2e_now_us) + $1 * 1000000))
  shift
  while :; do
    "$@" && return 0
    (($(e2e_now_us) < end)) || return 1
    sleep 0.1
  done
}

# A fresh name [a-z0-9], 7 chars, that no link or namespace here starts with.
e2e_new_name() { # LETTER
  local n taken
  taken=$'\n'$(e2e_links_with_prefix "$1")$'\n'$(ip netns list)
  while :; do
    n="$1$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
    [[ $taken == *$'\n'"$n"* ]] || break
  done
  echo "$n"
}

# Names this run (SIM, WORK, SOCK, STATE, LOG) and arms the cleanup. The sim name starts
# with E2E_LETTER (default t).
e2e_init() {
  ((EUID == 0)) || e2e_fail "must run as root (it makes network namespaces and veth wires)"
  local b
  for b in vfswitchd vfsw vfsw-dump; do
    [[ -x $VFS_BIN/$b ]] || e2e_fail "$VFS_BIN/$b is missing: run tools/build"
  done
  SIM=$(e2e_new_name "${E2E_LETTER:-t}")
  SIM_VFS=${SIM_VFS:-4}
  WORK=$(mktemp -d "/tmp/vfs-$SIM.XXXXXX")
  SOCK=$WORK/vfswitchd.sock
  STATE=$WORK/state
  LOG=$WORK/vfswitchd.log
  e2e_track_sim "$SIM" "$SIM_VFS"
  trap _e2e_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
}

e2e_track_sim() { # NAME VFS: its wires are torn down at exit
  _e2e_sims+=("$1:$2")
  _e2e_record "sim $1"
}
e2e_track_pid() {
  _e2e_pids+=("$1")
  _e2e_record "pid $1"
}
e2e_track_user() { # NAME: a Unix user this test made, deleted at exit
  _e2e_users+=("$1")
  _e2e_record "user $1"
}
e2e_track_link() {
  _e2e_links+=("$1")
  _e2e_record "link $1"
}

_e2e_alive() { # PID: running and not a zombie
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s:0:1} != Z ]]
}
_e2e_dead() { ! _e2e_alive "$1"; }

_e2e_stop_pid() { # PID SIGNAL SECONDS: signal, wait for it to go, then SIGKILL
  local pid=$1
  _e2e_alive "$pid" || return 0
  kill "-$2" "$pid" 2>/dev/null || return 0
  e2e_wait_until "$3" _e2e_dead "$pid" || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Root-namespace links whose name starts with PREFIX.
e2e_links_with_prefix() { ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | grep "^$1" || true; }

_e2e_cleanup() {
  local rc=$? i pid ns l entry name vfs
  set +e
  trap - EXIT INT TERM HUP
  if ((rc != 0)); then
    for l in "${_e2e_daemon_logs[@]}"; do
      [[ -s $l ]] || continue
      echo "---- ${l##*/} (last 30 lines) ----" >&2
      tail -n 30 "$l" >&2
    done
  fi
  for name in "${!_E2E_SNIFF_PID[@]}"; do _e2e_stop_pid "${_E2E_SNIFF_PID[$name]}" INT 3; done
  for name in "${_e2e_users[@]}"; do userdel "$name" 2>/dev/null; done
  for ((i = ${#_e2e_pids[@]} - 1; i >= 0; i--)); do _e2e_stop_pid "${_e2e_pids[i]}" TERM 10; done
  for entry in "${_e2e_sims[@]}"; do
    name=${entry%%:*} vfs=${entry##*:}
    # The daemon's own way to remove its wires first; ip link del catches what is left.
    timeout 30 "$VFS_BIN/vfswitchd" --driver sim --sim-name "$name" --sim-vfs "$vfs" --sim-teardown \
      >>"${WORK:-/tmp}/teardown.log" 2>&1
    for l in $(e2e_links_with_prefix "$name"); do ip link del "$l" 2>/dev/null; done
  done
  for l in "${_e2e_links[@]}"; do ip link del "$l" 2>/dev/null; done
  for ns in "${_e2e_netns[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [[ -n ${WORK:-} && -d $WORK && ${E2E_KEEP:-0} != 1 ]]; then rm -rf "$WORK"; fi
  exit "$rc"
}

# ---------------------------------------------------------------- the daemon

e2e_write_startup_config() { # FILE: VLAN 10 "web" and VLAN 20 "db", each with an access profile
  cat >"$1" <<'EOF'
vlan 10
  name web
vlan 20
  name db
port-profile type vethernet web
  switchport mode access
  switchport access vlan 10
  state enabled
port-profile type vethernet db
  switchport mode access
  switchport access vlan 20
  state enabled
EOF
}

# Exit 0 when PATH accepts a connection, 1 past the deadline, 2 when PID has died first.
_E2E_WAIT_SOCKET_PY='
import os, socket, sys, time
path, pid, end = sys.argv[1], int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
def alive():
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0] != "Z"
    except OSError:
        return False
while True:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        sys.exit(0)
    except OSError:
        pass
    finally:
        s.close()
    if pid > 0 and not alive():
        sys.exit(2)
    if time.monotonic() > end:
        sys.exit(1)
    time.sleep(0.05)
'
e2e_wait_socket() { # PATH PID SECONDS
  "$PY" -c "$_E2E_WAIT_SOCKET_PY" "$@"
}

# Starts vfswitchd in the foreground, in the background, and waits until it is ready
# (its socket accepts connections). Extra arguments are passed on. Sets DAEMON_PID.
e2e_daemon_start() {
  [[ " ${_e2e_daemon_logs[*]} " == *" $LOG "* ]] || _e2e_daemon_logs+=("$LOG")
  echo "==== $(date '+%T') vfswitchd $*" >>"$LOG"
  "$VFS_BIN/vfswitchd" --driver sim --sim-vfs "$SIM_VFS" --sim-name "$SIM" --socket "$SOCK" \
    --state-dir "$STATE" --foreground "$@" </dev/null >>"$LOG" 2>&1 &
  DAEMON_PID=$!
  e2e_track_pid "$DAEMON_PID"
  local rc=0
  e2e_wait_socket "$SOCK" "$DAEMON_PID" "${E2E_READY_S:-60}" || rc=$?
  case $rc in
    0) ;;
    2) e2e_fail "vfswitchd exited before its socket accepted connections" ;;
    *) e2e_fail "vfswitchd's socket $SOCK accepted no connection within ${E2E_READY_S:-60} s" ;;
  esac
  _e2e_quiet_wires
}

# The sim brings the VM ends of its wires up in the root namespace, where IPv6 would send
# router solicitations and MLD reports into the switch: traffic no test sent, counted by
# the slow path. Wires a test uses get the same treatment when they move (_e2e_move_wire).
_e2e_quiet_wires() {
  local dev
  for dev in $(e2e_links_with_prefix "$SIM"); do
    if [[ $dev =~ ^${SIM}(vf[0-9]+|up)$ ]]; then sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"; fi
  done
}

e2e_daemon_kill9() {
  kill -KILL "$DAEMON_PID"
  wait "$DAEMON_PID" 2>/dev/null || true
}

e2e_vfsw() { "$VFS_BIN/vfsw" --socket "$SOCK" "$@"; }
e2e_dump() { "$VFS_BIN/vfsw-dump" --socket "$SOCK" --json; }

# Evaluates a Python expression over JSON read on stdin: `d` is the document, `rules` the
# rule list of a vfsw-dump, veth(r) a rule's vEthernet number (or None), text(r) a rule
# flattened to lower-case text. A bool result becomes the exit status, anything else is
# printed (lists and dicts as JSON).
_E2E_JSON_PY='
import json, re, sys
d = json.load(sys.stdin)
rules = d if isinstance(d, list) else (d.get("rules", []) if isinstance(d, dict) else [])
def veth(r):
    v = r.get("veth")
    if v is None or isinstance(v, int):
        return v
    m = re.search(r"\d+", str(v))
    return int(m.group()) if m else None
def text(r):
    return json.dumps(r).lower()
res = eval(sys.argv[1], {"d": d, "rules": rules, "veth": veth, "text": text, "json": json, "re": re})
if isinstance(res, bool):
    sys.exit(0 if res else 1)
print(json.dumps(res) if isinstance(res, (list, dict)) else res)
'
e2e_json() { "$PY" -c "$_E2E_JSON_PY" "$1"; }

e2e_rules() { # EXPR: evaluates EXPR over the daemon's current rule dump
  local dump
  dump=$(e2e_dump) || return 2
  e2e_json "$1" <<<"$dump"
}

e2e_counters() { e2e_vfsw -c "show slowpath counters | json"; }
e2e_counter() { # EXPR over the slow path's counters, e.g. 'd["exception_packets"]'
  local c
  c=$(e2e_counters) || e2e_fail "vfsw could not read the slow path counters"
  e2e_json "$1" <<<"$c"
}

# The daemon's whole counters JSON (API op "counters": slowpath, veths, acl_entries).
_E2E_API_COUNTERS_PY='
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"{\"op\": \"counters\"}\n")
buf = b""
while not buf.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
reply = json.loads(buf)
if not reply.get("ok"):
    sys.exit("counters request failed: " + json.dumps(reply))
print(json.dumps(reply["counters"]))
'
e2e_veth_counter() { # VM EXPR: EXPR over VM's vEthernet counters (v), e.g. 'v["rx_packets"]'
  local c
  c=$("$PY" -c "$_E2E_API_COUNTERS_PY" "$SOCK") || e2e_fail "could not read the daemon's counters"
  e2e_json "(lambda v: $2)(d[\"veths\"][\"${VM_VETH[$1]}\"])" <<<"$c"
}

e2e_wait_rules() { # SECONDS EXPR WHAT: waits until EXPR holds over the rule dump
  e2e_wait_until "$1" e2e_rules "$2" || {
    echo "rules at the deadline:" >&2
    e2e_dump >&2 || true
    e2e_fail "rules never got to: $3 (within $1 s)"
  }
}

# ---------------------------------------------------------------- VMs

_e2e_netns_add() { # NAME
  ip netns add "$1"
  _e2e_netns+=("$1")
  _e2e_record "netns $1"
  # No IPv6: its router solicitations and MLD reports would be traffic the tests did not send.
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$1" link set lo up
}

_e2e_move_wire() { # DEV NS: moves a wire's VM end into NS and brings it up
  local dev=$1 ns=$2
  ip link show dev "$dev" >/dev/null 2>&1 || e2e_fail "the sim made no wire named $dev"
  ip link set dev "$dev" netns "$ns"
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
  # Checksums are left to the sim's far end otherwise, and segments unsplit.
  ip netns exec "$ns" ethtool -K "$dev" rx off tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
}

e2e_vm() { # NAME [VF IP MAC]: a namespace holding VF wire <SIM>vf<VF>, addressed
  local vm=$1 vf=${2:-${E2E_VF[$1]}} ip=${3:-${E2E_IP[$1]}} mac=${4:-${E2E_MAC[$1]}}
  local ns=$SIM-$vm dev=${SIM}vf$vf
  _e2e_netns_add "$ns"
  _e2e_move_wire "$dev" "$ns"
  ip -n "$ns" link set dev "$dev" address "$mac"
  ip -n "$ns" addr add "$ip/24" dev "$dev"
  ip -n "$ns" link set dev "$dev" up
  VM_NS[$vm]=$ns VM_DEV[$vm]=$dev
  E2E_VF[$vm]=$vf E2E_IP[$vm]=$ip E2E_MAC[$vm]=$mac
  VM_UUID[$vm]=$(cat /proc/sys/kernel/random/uuid)
}

e2e_uplink() { # the uplink's VM end, up and unaddressed, in namespace <SIM>-up, as VM "up"
  local ns=$SIM-up dev=${SIM}up
  _e2e_netns_add "$ns"
  _e2e_move_wire "$dev" "$ns"
  ip -n "$ns" link set dev "$dev" up
  VM_NS[up]=$ns VM_DEV[up]=$dev
}

e2e_in() { # VM CMD...: runs CMD inside VM's namespace
  local ns=${VM_NS[$1]:?no VM named $1}
  shift
  ip netns exec "$ns" "$@"
}

e2e_attach() { # VM [PROFILE]: binds VM's VF to a vEthernet; sets VM_VETH[VM]
  local vm=$1 profile=${2:-${E2E_PROFILE[$1]}} out n
  out=$(e2e_vfsw attach --vf "${E2E_VF[$vm]}" --profile "$profile" --vm "$vm" \
    --vm-uuid "${VM_UUID[$vm]}" --mac "${E2E_MAC[$vm]}" 2>&1) ||
    e2e_fail "attach of $vm (vf ${E2E_VF[$vm]}, profile $profile) failed: $out"
  n=$(grep -oE '[0-9]+' <<<"$out" | tail -n 1) || true
  [[ -n $n ]] || e2e_fail "attach of $vm printed no vEthernet number: $out"
  # shellcheck disable=SC2034 # read by the scripts that source this file
  VM_VETH[$vm]=$n
}

# The standard scene: the daemon with VLAN 10/20 and profiles web/db, then each VM named
# (vm1..vm4) made and attached; "up" moves the uplink's wire into a namespace too.
e2e_setup() {
  e2e_init
  e2e_write_startup_config "$WORK/startup-config"
  e2e_daemon_start --startup-config "$WORK/startup-config"
  local vm
  for vm; do
    if [[ $vm == up ]]; then
      e2e_uplink
    else
      e2e_vm "$vm"
      e2e_attach "$vm"
    fi
  done
}

# ---------------------------------------------------------------- traffic

# Runs CMD in VM's namespace in the background until the script ends (sets BG_PID). Not
# through a function: `ip netns exec` execs CMD, so BG_PID is CMD itself.
e2e_bg() { # VM CMD...
  ip netns exec "${VM_NS[$1]:?no VM named $1}" "${@:2}" </dev/null >/dev/null 2>&1 &
  BG_PID=$!
  e2e_track_pid "$BG_PID"
}

e2e_ping() { # FROM DEST [ping options]: ping's own exit status (0 replies, 1 none, 2 error)
  local from=$1 dest=$2
  shift 2
  e2e_in "$from" ping -n -q "$@" "$dest"
}

e2e_expect_reach() { # FROM TO: the first reply is awaited, then 5 of 5 must come back
  local from=$1 to=$2 out
  e2e_wait_until "${E2E_REACH_S:-15}" e2e_ping "$from" "${E2E_IP[$to]}" -c 1 -W 1 >/dev/null ||
    e2e_fail "$from cannot reach $to (${E2E_IP[$to]}): no reply within ${E2E_REACH_S:-15} s"
  out=$(e2e_ping "$from" "${E2E_IP[$to]}" -c 5 -i 0.1 -W 1) ||
    e2e_fail "$from -> $to lost packets once reachable: $(grep transmitted <<<"$out")"
  grep -q ' 5 received' <<<"$out" || e2e_fail "$from -> $to: $(grep transmitted <<<"$out")"
}

e2e_expect_no_reach() { # FROM TO|IP: 3 echoes with no reply (and not a local error)
  local from=$1 ip=${E2E_IP[$2]:-$2} rc=0
  e2e_ping "$from" "$ip" -c 3 -i 0.2 -W 1 >/dev/null || rc=$?
  case $rc in
    1) ;;
    0) e2e_fail "$from reached $2 ($ip), which it must not" ;;
    *) e2e_fail "ping from $from to $ip could not run (exit $rc)" ;;
  esac
}

# ---------------------------------------------------------------- sniffers

# Starts tcpdump on VM's device for inbound frames matching FILTER, one line per frame,
# and returns once it is capturing. ID names it for e2e_sniff_stop / e2e_sniff_count.
e2e_sniff_start() { # ID VM FILTER
  local id=$1 vm=$2 filter=$3
  local out=$WORK/sniff-$id.txt err=$WORK/sniff-$id.err
  : >"$err"
  ip netns exec "${VM_NS[$vm]}" tcpdump -i "${VM_DEV[$vm]}" -Q in -n -e -l --immediate-mode \
    "$filter" </dev/null >"$out" 2>"$err" &
  _E2E_SNIFF_PID[$id]=$!
  _e2e_record "pid $!"
  e2e_wait_until 10 grep -q 'listening on' "$err" || e2e_fail "tcpdump in $vm did not start: $(cat "$err")"
}

e2e_sniff_count() { grep -c . "$WORK/sniff-$1.txt" || true; }
e2e_sniff_lines() { cat "$WORK/sniff-$1.txt"; }
_e2e_sniff_has() { (($(e2e_sniff_count "$1") >= $2)); }
e2e_sniff_wait() { # ID N SECONDS: until the sniffer has seen at least N frames
  e2e_wait_until "$3" _e2e_sniff_has "$1" "$2"
}
e2e_sniff_stop() {
  _e2e_stop_pid "${_E2E_SNIFF_PID[$1]}" INT 5
  unset "_E2E_SNIFF_PID[$1]"
}

# tcpdump filter: frames whose source is one of the VMs named.
e2e_from() {
  local vm f=""
  for vm; do f+="${f:+ or }ether src ${E2E_MAC[$vm]}"; done
  echo "$f"
}

# Stops sniffer ID and fails if it saw anything, showing what.
e2e_sniff_expect_none() { # ID WHAT
  e2e_sniff_stop "$1"
  local n
  n=$(e2e_sniff_count "$1")
  if ((n > 0)); then
    e2e_sniff_lines "$1" | head -n 10 >&2
    e2e_fail "$2: $n frame(s) seen"
  fi
}

# ---------------------------------------------------------------- bad input

# Runs CMD (expected to fail fast) with a bound; sets RUN_RC and RUN_OUT (stdout+stderr).
e2e_run() { # SECONDS CMD...
  local t=$1
  shift
  RUN_RC=0
  RUN_OUT=$(timeout -k 5 "$t" "$@" </dev/null 2>&1) || RUN_RC=$?
}

# The last e2e_run failed promptly by itself (not by our timeout), saying something that
# matches each extended regex given.
e2e_expect_error() { # WHAT REGEX...
  local what=$1 re
  shift
  ((RUN_RC != 124 && RUN_RC != 137)) || e2e_fail "$what: still running after the time limit, expected an error exit"
  ((RUN_RC != 0)) || e2e_fail "$what: exit status 0, expected an error. Output: $RUN_OUT"
  [[ -n $RUN_OUT ]] || e2e_fail "$what: exit status $RUN_RC with no message"
  for re; do
    grep -qE -- "$re" <<<"$RUN_OUT" || e2e_fail "$what: the message does not match /$re/: $RUN_OUT"
  done
  echo "   ok ($RUN_RC): $(head -n 1 <<<"$RUN_OUT")"
}

# Nothing of sim NAME is left in the root namespace except the links listed.
e2e_expect_no_wires() { # NAME WHAT [ALLOWED...]
  local name=$1 what=$2 l left=()
  shift 2
  for l in $(e2e_links_with_prefix "$name"); do
    [[ " $* " == *" $l "* ]] || left+=("$l")
  done
  ((${#left[@]} == 0)) || e2e_fail "$what left links behind: ${left[*]}"
}
