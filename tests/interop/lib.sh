# Sourced by the interop checks: `need TOOL...` (fails under CI=true, skips elsewhere),
# `fail MSG`, `ok MSG`.
need() {
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      if [ "${CI:-}" = true ]; then echo "missing tool under CI: $t"; exit 1; fi
      echo "skip: $t is not installed"; exit 77
    fi
  done
}
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "  ok: $*"; }
