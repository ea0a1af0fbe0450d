#!/usr/bin/env bash
# The per-boot minimal kernel BTF (profiler/kbtf.c) relocates the BPF object
# exactly as the kernel's full BTF does: every CO-RE-patched instruction the
# same, and the load against it never reads /sys/kernel/btf/vmlinux.
set -euo pipefail
helper=$1
. "$(dirname "$0")/lib.sh"
test_setup --bpf
[ -r /sys/kernel/btf/vmlinux ] || fail "no /sys/kernel/btf/vmlinux"
"$helper" "$tmp" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; fail "kbtf_relocs: the loads differ (above)"; }
cat "$tmp/out"
echo "PASS"
