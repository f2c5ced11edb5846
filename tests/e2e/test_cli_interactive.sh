#!/usr/bin/env bash
# The interactive vfsw in a real terminal (a pty): the NX-OS prompt follows the mode,
# `?` lists the next words with their help, TAB completes a keyword, a bad line shows the
# caret under the offending token, history recalls a line, and exit leaves with status 0.
source "$(dirname "$0")/lib.sh"
e2e_init
SIM_VFS=2
e2e_daemon_start

# Types into vfsw on a pty and waits (on the pty, without sleeps) for what must appear.
# Escape sequences and carriage returns are stripped before matching.
_PTY_PY='
import os, pty, re, select, sys, time
vfsw, sock = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "xterm"
    os.execv(vfsw, [vfsw, "--socket", sock])

screen = b""
mark = 0
def clean(b):
    b = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]|\x07", b"", b)
    return b.replace(b"\r", b"").decode("utf-8", "replace")

# mark: how much of the cleaned screen earlier steps matched.
def fail(why):
    print("FAIL: " + why, file=sys.stderr)
    print("---- terminal since the last step ----\n" + clean(screen)[mark:], file=sys.stderr)
    sys.exit(1)

def expect(pattern, what, timeout=20):
    global screen, mark
    end = time.monotonic() + timeout
    while True:
        m = re.search(pattern, clean(screen)[mark:], re.S)
        if m:
            mark += m.end()
            return m
        left = end - time.monotonic()
        if left <= 0:
            fail("no " + what)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                fail("vfsw closed the terminal before showing " + what)
            screen += data

def send(s):
    os.write(fd, s.encode())

expect(r"vfsw# $", "exec prompt")
send("conf t\r")
expect(r"vfsw\(config\)# $", "config prompt after conf t")

print("-> ? lists the next words with their help")
send("?")
m = expect(r"\n(.*)vfsw\(config\)# $", "help list and the prompt again")
listing = m.group(1)
for word, help_re in (("vlan", r"\S"), ("port-profile", r"\S"), ("end", r"Return to exec mode"),
                      ("show", r"Show running system information")):
    if not re.search(r"^  " + re.escape(word) + r" +" + help_re, listing, re.M):
        fail("? did not list " + word + " with its help:\n" + listing)

print("-> TAB completes a keyword; ? after it lists what follows")
send("port-pro\t")
expect(r"file $", "TAB completing port-pro to port-profile")
send("?")
m = expect(r"\n(.*)vfsw\(config\)# port-profile $", "the completed line redisplayed after ?")
if not re.search(r"^  type +\S", m.group(1), re.M):
    fail("? after port-profile did not list type:\n" + m.group(1))
send("\x15")  # Ctrl-U: kill the line

print("-> a bad line shows the caret under the offending token")
send("vlan 5000\r")
prompt = "vfsw(config)# "
expect(r"\n" + " " * (len(prompt) + 5) + r"\^\n% Invalid range at .\^. marker\.", "caret under 5000")
expect(r"vfsw\(config\)# $", "config prompt after the error")
send("show vlna brief ?")
expect(r"\n" + " " * (len(prompt) + 5) + r"\^\n% Invalid command at .\^. marker\.",
       "caret from ? on a bad line")
send("\x15")

print("-> end, history, exit")
send("end\r")
expect(r"vfsw# $", "exec prompt after end")
send("show version\r")
expect(r"vfswitch Software.*vfsw# $", "show version output")
send("\x1b[A\r")  # Up: the previous line again
expect(r"show version\n.*vfswitch Software.*vfsw# $", "show version recalled from history")
send("exit\r")
_, status = os.waitpid(pid, 0)
if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
    fail("vfsw did not exit with status 0 after exit (status %d)" % status)
print("ok")
'

e2e_step "vfsw on a pty"
"$PY" -c "$_PTY_PY" "$VFS_BIN/vfsw" "$SOCK" || e2e_fail "the interactive CLI misbehaved (see above)"

e2e_step "the accounting log has the lines typed"
log=$(e2e_vfsw -c "show accounting log")
grep -q "cmd=vlan 5000 (FAILURE: Invalid range" <<<"$log" || e2e_fail "vlan 5000 not accounted: $log"
grep -q "cmd=conf t (SUCCESS)" <<<"$log" || e2e_fail "conf t not accounted: $log"
