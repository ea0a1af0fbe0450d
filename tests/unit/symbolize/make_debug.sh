#!/bin/sh
# make_debug.sh LIB OUTDIR: splits LIB's debug info off the way distributions
# do, for the separate-debug-info tests:
#   OUTDIR/dl/NAME_dl.so          stripped, with a .gnu_debuglink to ...
#   OUTDIR/dl/NAME.debug          ... its debug file, next to it;
#   OUTDIR/bid/NAME_bid.so        stripped, no debuglink: found only by build ID in
#   OUTDIR/root/.build-id/xx/rest.debug
set -eu
lib=$1 out=$2
name=$(basename "$lib" .so)
objcopy=${OBJCOPY:-objcopy}
mkdir -p "$out/dl" "$out/bid" "$out/root"
"$objcopy" --only-keep-debug "$lib" "$out/dl/$name.debug"
"$objcopy" --strip-all --add-gnu-debuglink="$out/dl/$name.debug" "$lib" "$out/dl/${name}_dl.so"
"$objcopy" --strip-all "$lib" "$out/bid/${name}_bid.so"
bid=$(readelf -n "$lib" | awk '/Build ID/ { print $3 }')
[ -n "$bid" ] || { echo "make_debug.sh: $lib has no build ID" >&2; exit 1; }
dir=$out/root/.build-id/$(echo "$bid" | cut -c1-2)
mkdir -p "$dir"
cp "$out/dl/$name.debug" "$dir/$(echo "$bid" | cut -c3-).debug"
touch "$out/stamp"
