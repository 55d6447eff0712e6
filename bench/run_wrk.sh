#!/bin/sh
# Issue 19's measurement in one command, from anywhere: sh bench/run_wrk.sh [options]
# (options of `python -m bench.wrk_suite --help`; add --sql-stats or --py-spy PATH to profile).
set -eu
cd "$(dirname "$0")/.."
sh bench/install_wrk.sh
exec "${PYTHON:-.venv/bin/python}" -m bench.wrk_suite "$@"
