#!/usr/bin/env bash
# Issue 4: roles from three Unix users. Identity is the socket peer's uid (SO_PEERCRED)
# mapped to `username NAME role ROLE`; the socket is group vfswitch, mode 0660.
# - network-admin configures;
# - network-operator may show, and is refused a configuration change (nothing changes);
# - server-admin may attach and detach, and is refused configuration;
# - a member of the group with no username is refused everything;
# every refusal and change lands in the accounting log with the user's name.
source "$(dirname "$0")/lib.sh"

e2e_setup vm1
getent group vfswitch >/dev/null || e2e_fail "group vfswitch is missing: tools/deps creates it"
chmod 711 "$WORK"  # the socket lives here; the users only need to reach it
sock_mode=$(stat -c '%a %G' "$SOCK")
[[ $sock_mode == "660 vfswitch" ]] || e2e_fail "the API socket is '$sock_mode', expected mode 660, group vfswitch"

admin=${SIM}a oper=${SIM}o srv=${SIM}s nobody_=${SIM}n
for u in "$admin" "$oper" "$srv" "$nobody_"; do
  useradd -M -N -G vfswitch -s /usr/sbin/nologin "$u" || e2e_fail "useradd $u failed"
  e2e_track_user "$u"
done
e2e_vfsw -c "conf t ; username $admin role network-admin ; username $oper role network-operator ; username $srv role server-admin" >/dev/null ||
  e2e_fail "could not define the three usernames"
as() { local u=$1; shift; runuser -u "$u" -- "$VFS_BIN/vfsw" --socket "$SOCK" "$@"; }

e2e_step "network-admin ($admin) configures"
as "$admin" -c "conf t ; vlan 77 ; name by-admin" >/dev/null || e2e_fail "network-admin could not create VLAN 77"
e2e_vfsw -c "show vlan brief" | grep -q '^77 ' || e2e_vfsw -c "show running-config" | grep -q '^vlan 77' ||
  e2e_fail "VLAN 77 is not in the configuration after network-admin created it"

e2e_step "network-operator ($oper) shows but may not configure"
as "$oper" -c "show running-config" | grep -q 'vlan 77' || e2e_fail "network-operator could not show the running-config"
before=$(e2e_vfsw -c "show running-config")
e2e_run 10 runuser -u "$oper" -- "$VFS_BIN/vfsw" --socket "$SOCK" -c "conf t ; vlan 78"
e2e_expect_error "network-operator configuring" "[Pp]ermission denied" "$oper" "network-operator"
[[ $(e2e_vfsw -c "show running-config") == "$before" ]] || e2e_fail "a refused command of network-operator changed the configuration"

e2e_step "server-admin ($srv) attaches and detaches, may not configure"
e2e_run 10 runuser -u "$srv" -- "$VFS_BIN/vfsw" --socket "$SOCK" -c "conf t ; vlan 79"
e2e_expect_error "server-admin configuring" "[Pp]ermission denied" "$srv" "server-admin"
e2e_vm vm2
as "$srv" attach --vf "${E2E_VF[vm2]}" --profile web --vm vm2 --vm-uuid "${VM_UUID[vm2]}" --mac "${E2E_MAC[vm2]}" >/dev/null ||
  e2e_fail "server-admin could not attach vm2"
e2e_expect_reach vm1 vm2
as "$srv" detach --vf "${E2E_VF[vm2]}" >/dev/null || e2e_fail "server-admin could not detach vm2"

e2e_step "a group member with no username ($nobody_) is refused"
e2e_run 10 runuser -u "$nobody_" -- "$VFS_BIN/vfsw" --socket "$SOCK" -c "show running-config"
e2e_expect_error "a user with no role" "$nobody_" "no role"

e2e_step "the accounting log names the users"
acct=$(e2e_vfsw -c "show accounting log")
grep -q "user=$admin:cmd=vlan 77" <<<"$acct" || e2e_fail "the accounting log lacks network-admin's change: $(tail -n 5 <<<"$acct")"
grep -q "user=$oper:cmd=conf t (FAILURE: Permission denied" <<<"$acct" || e2e_fail "the accounting log lacks network-operator's refused change: $(tail -n 8 <<<"$acct")"
