#!/bin/bash
# Collects a first-look triage package from a Linux or macOS device into one tar.gz archive.
# Run by MDE live response (RunScript, Bash on Linux and macOS); fetch the archive afterwards with GetFile.
# Read-only on the device apart from the output file. Collects: processes with command lines and the
# SHA-256 of their executables, network connections and listeners, logged-in users and recent logins,
# cron and systemd/launchd persistence, authorized_keys, kernel modules, and a SHA-256 manifest.
# Usage: collect-triage.sh [output path]   (default /tmp/collector-triage.tar.gz)
set -u
out="${1:-/tmp/collector-triage.tar.gz}"
case "$out" in
  /*) ;;
  *) echo "output path must be absolute: $out" >&2; exit 2 ;;
esac
work="$(mktemp -d "${TMPDIR:-/tmp}/triage.XXXXXX")" || exit 1
trap 'rm -rf "$work"' EXIT

# Each section is written on its own, so one failing source never loses the others.
section() {
  local name="$1"; shift
  "$@" >"$work/$name.txt" 2>>"$work/errors.txt" || echo "section $name exited $?" >>"$work/errors.txt"
}
sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi; }

section system uname -a
section processes ps -eo pid,ppid,user,lstart,args
section listeners sh -c 'if command -v ss >/dev/null 2>&1; then ss -tunap; else netstat -an; fi'
section connections sh -c 'if command -v lsof >/dev/null 2>&1; then lsof -nP -i; fi'
section users-logged-in who -a
section recent-logins sh -c 'last -n 200 2>/dev/null || true'
section crontabs sh -c 'ls -la /etc/cron* /var/spool/cron* 2>/dev/null; cat /etc/crontab 2>/dev/null; for u in $(cut -d: -f1 /etc/passwd); do crontab -l -u "$u" 2>/dev/null | sed "s/^/$u: /"; done'
section authorized-keys sh -c 'for f in /root/.ssh/authorized_keys /home/*/.ssh/authorized_keys /Users/*/.ssh/authorized_keys; do [ -f "$f" ] && { echo "== $f"; cat "$f"; }; done'
if [ "$(uname -s)" = "Darwin" ]; then
  section launchd sh -c 'ls -la /Library/LaunchAgents /Library/LaunchDaemons /Users/*/Library/LaunchAgents 2>/dev/null'
  section kernel-extensions kextstat
else
  section systemd-units sh -c 'systemctl list-unit-files --state=enabled --no-pager 2>/dev/null'
  section kernel-modules lsmod
  section process-executables sh -c 'for p in /proc/[0-9]*; do exe=$(readlink "$p/exe" 2>/dev/null) && [ -f "$exe" ] && echo "${p#/proc/} $(sha256 "$exe" | cut -d" " -f1) $exe"; done'
fi

(cd "$work" && sha256 ./*.txt >manifest.sha256)
mkdir -p "$(dirname "$out")" && tar -czf "$out" -C "$work" . || exit 1
echo "triage package: $out ($(wc -c <"$out" | tr -d ' ') bytes, SHA-256 $(sha256 "$out" | cut -d' ' -f1))"
