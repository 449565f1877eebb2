#!/bin/sh
# Installs the Debian/Ubuntu packages `make run` / `make test` need when a program is missing:
# as root with apt-get, otherwise through `sudo -n` (never a password prompt), otherwise it
# prints the one command to run and exits 1.
# Usage: system-packages.sh PROGRAM...        installs the programs that are not on PATH
#        system-packages.sh --packages PKG...  installs these packages (e.g. python3-venv)
# Debian package names equal the program names (espeak-ng, sox, chromium).
missing=""
if [ "$1" = --packages ]; then
  shift
  missing=" $*"
else
  for program in "$@"; do
    command -v "$program" >/dev/null 2>&1 || missing="$missing $program"
  done
fi
[ -z "$missing" ] && exit 0

install_cmd="apt-get install -y$missing"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing system package(s):$missing -- install them with your package manager"
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  run() { "$@"; }
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  run() { sudo -n "$@"; }
else
  echo "missing system package(s):$missing -- install with: sudo $install_cmd"
  exit 1
fi

echo "installing$missing (apt-get)"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine (or container) often has no package lists yet: fetch them and try once more.
# shellcheck disable=SC2086
run apt-get install -y$missing || { run apt-get update && run apt-get install -y$missing; } || {
  echo "could not install$missing -- try: sudo $install_cmd"
  exit 1
}
