#!/usr/bin/env bash
# tests/data/netlink/capture.sh regenerates the netlink fixtures of this folder: for each
# VF administration operation, the exact bytes iproute2 sends for the same command on
# this machine. tests/unit/drivers/netlink_messages_test.cpp builds the same operation
# with drivers/netlink and compares byte for byte (except nlmsg_seq and nlmsg_pid, which
# each process numbers its own way).
#
#   tests/data/netlink/capture.sh        (as root; needs ip, devlink, strace, cc)
#
# - `ip link set DEV vf 3 ...` and `ip -s link show dev DEV`: run under strace on a veth
#   made for the occasion (a unique name, removed at exit). A veth has no VFs, so the
#   kernel refuses the settings (EOPNOTSUPP), but iproute2 has sent them by then; the
#   RTM_NEWLINK carrying IFLA_VFINFO_LIST (or the RTM_GETLINK by name) is recorded.
# - `devlink dev eswitch show|set`: run with fake_genl_kernel.so preloaded, which plays
#   the kernel's generic netlink (kernels without devlink, like this one's, make devlink
#   stop before sending its command). Only the family id comes from the fake.
#
# Each fixture NAME.nlmsg has `key: value` lines: command (exactly what ran), ifindex /
# ifname / family (what the bytes depend on), bytes (hex, the whole message).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
((EUID == 0)) || { echo "capture.sh: must run as root (it makes a veth pair)" >&2; exit 1; }
for tool in ip devlink strace cc python3; do
  command -v "$tool" >/dev/null || { echo "capture.sh: $tool is missing (tools/deps installs it)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/vfs-nlcap.XXXXXX)
dev=""
cleanup() {
  [[ -n $dev ]] && ip link del "$dev" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

while :; do
  dev="vfsnl$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
  ip link show "$dev" >/dev/null 2>&1 || break
done
ip link add "$dev" type veth peer name "${dev}p"
ifindex=$(cat "/sys/class/net/$dev/ifindex")
family=0x1c
versions="$(ip -V | head -n 1); $(devlink -V 2>/dev/null | head -n 1); Linux $(uname -r)"

# The hex bytes of the first sendmsg in strace log FILE whose decoded text has every
# MARKER.
pick_message() { # FILE MARKER...
  python3 - "$@" <<'EOF'
import re, sys
path, markers = sys.argv[1], sys.argv[2:]
calls, cur = [], None
for line in open(path):
    if line.startswith("sendmsg("):
        cur = [line, []]
        calls.append(cur)
    elif cur is not None and line.startswith(" | "):
        m = re.match(r" \| [0-9a-f]{5}  ((?:[0-9a-f]{2}  ?)+)", line)
        if m:
            cur[1].extend(m.group(1).split())
for text, data in calls:
    if all(k in text for k in markers):
        print(" ".join(data))
        sys.exit(0)
sys.exit("no sendmsg with " + ", ".join(markers) + " in " + path)
EOF
}

write_fixture() { # NAME COMMAND KEYLINES BYTES
  {
    echo "# Captured by tests/data/netlink/capture.sh with $versions."
    echo "command: $2"
    [[ -n $3 ]] && printf '%s\n' "$3"
    echo "bytes: $4"
  } >"$here/$1.nlmsg"
  echo "wrote $1.nlmsg ($(wc -w <<<"$4") bytes)"
}

capture_ip() { # NAME "ARGS" MARKER...
  local name=$1 args=$2 log=$work/$1.strace
  shift 2
  # shellcheck disable=SC2086 # ARGS is a word list
  strace -o "$log" -e trace=sendmsg -e write=all -xx -s 4096 ip $args >/dev/null 2>&1 || true
  write_fixture "$name" "ip $args" "ifindex: $ifindex"$'\n'"ifname: $dev" "$(pick_message "$log" "$@")"
}

capture_ip vf_mac "link set $dev vf 3 mac 02:11:22:33:44:55" RTM_NEWLINK IFLA_VF_MAC
capture_ip vf_vlan "link set $dev vf 3 vlan 100 qos 3" RTM_NEWLINK IFLA_VF_VLAN
capture_ip vf_vlan_none "link set $dev vf 3 vlan 0" RTM_NEWLINK IFLA_VF_VLAN
capture_ip vf_vlan_8021ad "link set $dev vf 3 vlan 100 qos 3 proto 802.1ad" RTM_NEWLINK IFLA_VF_VLAN_LIST
capture_ip vf_rate "link set $dev vf 3 min_tx_rate 100 max_tx_rate 1000" RTM_NEWLINK IFLA_VF_RATE
capture_ip vf_spoofchk_on "link set $dev vf 3 spoofchk on" RTM_NEWLINK IFLA_VF_SPOOFCHK
capture_ip vf_spoofchk_off "link set $dev vf 3 spoofchk off" RTM_NEWLINK IFLA_VF_SPOOFCHK
capture_ip vf_trust_on "link set $dev vf 3 trust on" RTM_NEWLINK IFLA_VF_TRUST
capture_ip vf_trust_off "link set $dev vf 3 trust off" RTM_NEWLINK IFLA_VF_TRUST
capture_ip vf_state_auto "link set $dev vf 3 state auto" RTM_NEWLINK IFLA_VF_LINK_STATE
capture_ip vf_state_enable "link set $dev vf 3 state enable" RTM_NEWLINK IFLA_VF_LINK_STATE
capture_ip vf_state_disable "link set $dev vf 3 state disable" RTM_NEWLINK IFLA_VF_LINK_STATE
capture_ip get_link "-s link show dev $dev" RTM_GETLINK AF_PACKET IFLA_IFNAME

cc -shared -fPIC -O1 -o "$work/fake_genl_kernel.so" "$here/fake_genl_kernel.c" -ldl
capture_devlink() { # NAME "ARGS": records the family query and the command
  local name=$1 args=$2 cap=$work/$1.hex
  : >"$cap"
  # shellcheck disable=SC2086
  FAKE_GENL_CAPTURE=$cap FAKE_GENL_FAMILY_ID=$family LD_PRELOAD=$work/fake_genl_kernel.so \
    devlink $args >/dev/null 2>&1 || true
  (($(wc -l <"$cap") == 2)) || { echo "capture.sh: devlink $args sent $(wc -l <"$cap") messages, expected 2" >&2; exit 1; }
  write_fixture "$name" "devlink $args" "family: $family" "$(sed -n 2p "$cap")"
  [[ -f $here/genl_get_family_devlink.nlmsg ]] ||
    write_fixture genl_get_family_devlink "devlink $args (its first message)" "" "$(sed -n 1p "$cap")"
}
rm -f "$here/genl_get_family_devlink.nlmsg"
capture_devlink eswitch_show "dev eswitch show pci/0000:03:00.0"
capture_devlink eswitch_set_switchdev "dev eswitch set pci/0000:03:00.0 mode switchdev"
capture_devlink eswitch_set_legacy "dev eswitch set pci/0000:03:00.0 mode legacy"
