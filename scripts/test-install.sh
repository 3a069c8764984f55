#!/usr/bin/env bash
# `make install PREFIX=<temporary directory>`: both binaries, manual pages and completions land
# where they belong, the installed `dynalert --version` names the source revision, the
# installed bash completion completes `dynalert va` to `validate`, and `man` finds the pages.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
make --no-print-directory install PREFIX="$prefix" >/dev/null

fail() { echo "test-install: $*" >&2; exit 1; }

for f in bin/dynalert bin/threshold-exporter share/man/man1/dynalert.1 \
         share/man/man1/dynalert-validate.1 share/man/man1/threshold-exporter.1 \
         share/bash-completion/completions/dynalert share/bash-completion/completions/threshold-exporter \
         share/zsh/site-functions/_dynalert share/fish/vendor_completions.d/dynalert.fish; do
  [ -f "$prefix/$f" ] || fail "missing $f"
done

revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
version=$("$prefix/bin/dynalert" --version)
case "$version" in
  *"(revision $revision, built "*) ;;
  *) fail "\`dynalert --version\` is \`$version\`, expected revision $revision" ;;
esac
exporter_version=$("$prefix/bin/threshold-exporter" --version)
case "$exporter_version" in
  *"(revision $revision, built "*) ;;
  *) fail "\`threshold-exporter --version\` is \`$exporter_version\`, expected revision $revision" ;;
esac

completed=$(bash --norc --noprofile -c '
  source "$1"
  COMP_WORDS=(dynalert va); COMP_CWORD=1; COMP_LINE="dynalert va"; COMP_POINT=11
  _dynalert dynalert va dynalert
  printf "%s\n" "${COMPREPLY[@]}"' _ "$prefix/share/bash-completion/completions/dynalert")
[ "$completed" = validate ] || fail "bash completed \`dynalert va\` to \`$completed\`"

if command -v man >/dev/null; then
  MANPATH="$prefix/share/man" man -w dynalert-validate >/dev/null || fail "man cannot find dynalert-validate"
  for page in "$prefix"/share/man/man1/*.1; do
    warnings=$(man --warnings -l "$page" 2>&1 >/dev/null)
    [ -z "$warnings" ] || fail "$(basename "$page"): $warnings"
  done
fi
echo "test-install: ok ($version)"
