#!/usr/bin/env bash
# Fails when a file under src/ includes a folder of ours that docs/architecture.md's dependency
# rules do not allow it to ("A -> B" = A may include B). Prints each crossing as
#   src/<file>: includes "<header>" (<folder> may include only: ...)
set -euo pipefail
cd "$(dirname "$0")/../src"

# folder: the folders (or single headers) it may include, besides itself.
declare -A ALLOWED=(
  [core]=""
  [crypto]="core"
  [config]="core"
  [store]="core"
  [store/sqlite]="core store"
  [credentials]="core crypto store"
  [state]="core store providers/credential.h"
  [auth]="core crypto state store providers/credential.h"
  [server]="core"
  [net]="core"
  [providers]="core"
  [providers/aws]="core crypto providers"
  [providers/bedrock]="core crypto net providers providers/aws"
  [routing]="core state store providers"
  [health]="core state store providers server/metrics.h server/blocking.h"
  [usage]="core store"
  [api/admin]="core config auth state store server routing providers"
  [api/data_plane]="core config auth state store server routing providers"
  [api/web]="core config auth state store server"
  [cli]="core net"
  [app]="*"
)

status=0
while IFS= read -r -d '' file; do
  dir=$(dirname "$file")
  # The most specific rule for this folder (providers/aws before providers).
  rule=""
  d="$dir"
  while [ "$d" != "." ]; do
    if [ -n "${ALLOWED[$d]+x}" ]; then rule="$d"; break; fi
    d=$(dirname "$d")
  done
  [ -z "$rule" ] && continue  # main.cc, boost_impl: anything
  allowed="${ALLOWED[$rule]}"
  [ "$allowed" = "*" ] && continue
  while IFS= read -r header; do
    ok=0
    case "$header" in "$rule"/*) ok=1 ;; esac
    # A subfolder's own files may include its parent folder (providers/aws -> providers).
    for a in $allowed; do
      case "$header" in "$a"|"$a"/*) ok=1 ;; esac
    done
    # Headers of our own with no folder do not exist; anything else is a system header.
    [ -e "$header" ] || ok=1
    if [ $ok = 0 ]; then
      echo "src/$file: includes \"$header\" ($rule may include only: ${allowed:-nothing of ours})"
      status=1
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
done < <(find . -name '*.h' -o -name '*.cc' | sed 's|^\./||' | tr '\n' '\0')

[ $status = 0 ] && echo "check_includes: every include follows docs/architecture.md"
exit $status
