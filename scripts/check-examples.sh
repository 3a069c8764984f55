#!/usr/bin/env bash
# Checks the examples with the real reference tools: the exposition text that
# `dynalert effective` prints must pass `promtool check metrics`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release
out=$("$BIN/dynalert" effective examples/conf.d --format prom | promtool check metrics 2>&1) || {
  echo "promtool check metrics failed:"; echo "$out"; exit 1; }
if [[ -n "$out" ]]; then
  echo "promtool check metrics reported problems:"; echo "$out"; exit 1
fi
echo "promtool check metrics: examples/conf.d exposition OK"
