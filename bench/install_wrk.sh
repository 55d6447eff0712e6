#!/bin/sh
# Install wrk (the load generator) from Debian when it is missing: `sh bench/install_wrk.sh`.
set -eu
if command -v wrk >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "wrk is missing: run 'sudo apt-get update && sudo apt-get install -y wrk'" >&2
    exit 1
fi
apt-get update
apt-get install -y wrk
