#!/usr/bin/env bash
# The files in configs/ work as shipped: configs/vfswitchd.conf through --config (the
# command line overrides its sim name, socket and state dir) and the sample startup-config,
# whose profiles web and db can be attached to.
source "$(dirname "$0")/lib.sh"
e2e_init
for f in configs/vfswitchd.conf configs/startup-config.sample; do
  [[ -f $VFS_ROOT/$f ]] || e2e_fail "$f is missing"
done
e2e_daemon_start --config "$VFS_ROOT/configs/vfswitchd.conf" --startup-config "$VFS_ROOT/configs/startup-config.sample"
e2e_step "attach vf0 to web and vf2 to db"
e2e_vm vm1
e2e_attach vm1 web
e2e_vm vm3
e2e_attach vm3 db
e2e_step "vEthernets ${VM_VETH[vm1]} and ${VM_VETH[vm3]}"
