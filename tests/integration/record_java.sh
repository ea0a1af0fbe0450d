#!/usr/bin/env bash
# Java method names with no flag on the JVM (issue 26), on samples/java/
# Shape.java under Debian's OpenJDK 17 (compiled here with javac):
#  - record -p on a warmed-up JVM (6 s at 499 Hz): Sixty.work, Thirty.work
#    and Ten.work within 3 points of 60/30/10 % of the samples in the three
#    (loop counts, so by construction on any machine); >= 90 % of the main
#    thread's samples in a named Java method (a JIT frame, _[j], with a
#    method's signature); and >= 90 % of the three methods' samples with
#    their caller, main, under them by name: compiled frames unwound by
#    their frame sizes, read from the JVM's code cache, without
#    -XX:+PreserveFramePointer, and main, run by the interpreter, named by
#    the Method* its interpreter frame holds;
#  - pprof: go tool pprof names the methods and main;
#  - --lines: main at the line of its call to them (Shape.java:N);
#  - the same JVM named through Compiler.codelist (the route for JDK 9-16,
#    which have no Compiler.perfmap), forced by SCORCH_JAVA_CODELIST=1: the
#    same shares, >= 90 % named, >= 90 % under main;
#  - a JVM in its own pid and mount namespaces (a private /tmp), a stale
#    socket file at its attach socket's path: >= 90 %, its map in its /tmp;
#  - record -- java from the JVM's start: >= 75 % (the rest: the interpreter
#    and compiler at startup), and >= 75 % of the three methods' samples
#    under main by name;
#  - --no-java: no Java method named, compiled (nothing asks the JVM for
#    its map) or interpreted (no frame walked).  That JVM runs with
#    -XX:+DisableAttachMechanism: another profiler on the machine (a
#    system-wide scorch of a parallel job) cannot have it write its map.
set -euo pipefail
scorch=$1 source=$2
. "$(dirname "$0")/lib.sh"
test_setup --bpf
jdk=/usr/lib/jvm/java-17-openjdk-amd64/bin
need_tools go "$jdk/java" "$jdk/javac"
"$jdk/javac" -d "$tmp/classes" "$source" || fail "javac $source failed"
java=("$jdk/java" -cp "$tmp/classes" Shape)
# The JVM writes /tmp/perf-PID.map when asked: the ones made from here on go at exit.
touch "$tmp/perf.mark"
at_exit 'find /tmp -maxdepth 1 -name "perf-*.map" -newer "$tmp/perf.mark" -delete'

# A named Java method: a JIT frame with a dotted name and a signature
# (not "Interpreter", "StubRoutines (1)" or other code the JVM names).
method='\.[^;. (]+\([^;]*\)_\[j\]'

check_shape() { # FOLDED WHAT
	local s6 s3 s1 named
	s6=$(share 'Shape\$Sixty\.work' "$1" java 'Shape\$(Sixty|Thirty|Ten)\.work')
	s3=$(share 'Shape\$Thirty\.work' "$1" java 'Shape\$(Sixty|Thirty|Ten)\.work')
	s1=$(share 'Shape\$Ten\.work' "$1" java 'Shape\$(Sixty|Thirty|Ten)\.work')
	# (within takes "nan", no samples in the three, for a number)
	[ "$s6" != nan ] && within "$s6" 60 3 && within "$s3" 30 3 && within "$s1" 10 3 ||
		fail "$2: Sixty/Thirty/Ten $s6/$s3/$s1 %, want 60/30/10 (+-3): $(sort -t' ' -k2 -nr "$1" | head -5)"
	echo "$2: Sixty/Thirty/Ten.work $s6/$s3/$s1 % (want 60/30/10)"
}

wait_warm() { # OUT: until the JVM writing OUT has run its WARM rounds
	for _ in $(seq 600); do
		grep -q warm "$1" && return
		sleep 0.1
	done
	fail "the JVM did not warm up in a minute: $(cat "$1")"
}

named_share() { # FOLDED
	share "$method" "$1" java
}

# -p on a JVM that has run WARM rounds (its methods compiled).
"${java[@]}" 600 >"$tmp/out" 2>&1 &
bg=$!
pids+=("$bg")
wait_warm "$tmp/out"
"$scorch" record -F 499 -d 6 -p "$bg" -o "$tmp/pid.folded" 2>"$tmp/err" ||
	fail "record -p exited $?: $(cat "$tmp/err")"
grep -q "^scorch: java: 1 JVMs" "$tmp/err" || fail "record -p did not find the JVM: $(cat "$tmp/err")"
check_shape "$tmp/pid.folded" "record -p"
named=$(named_share "$tmp/pid.folded")
awk -v s="$named" 'BEGIN { exit !(s >= 90) }' ||
	fail "record -p: $named % of the main thread's samples in a named Java method, want >= 90: $(sort -t' ' -k2 -nr "$tmp/pid.folded" | head -5)"
echo "record -p: $named % of the main thread's samples in a named Java method; $(grep '^scorch: java:' "$tmp/err" | head -1)"
# The compiled methods unwound by their frame sizes, and their caller, main,
# run by the interpreter, named under them.
work='Shape\$(Sixty|Thirty|Ten)\.work'
via_main='void Shape\.main\(java\.lang\.String\[\]\)_\[j\];long Shape\$(Sixty|Thirty|Ten)\.work\(long, int\)_\[j\]'
via_main() { # FOLDED WHAT MIN
	local caller
	caller=$(share "$via_main" "$1" java "$work")
	awk -v s="$caller" -v m="$3" 'BEGIN { exit !(s >= m) }' ||
		fail "$2: $caller % of the methods' samples with main under them, want >= $3: $(grep Shape "$1" | sed 's/.*call_helper[^;]*;//' | sort -t' ' -k2 -nr | head -5)"
	echo "$2: $caller % of the methods' samples with main (interpreted) under them"
}
via_main "$tmp/pid.folded" "record -p" 90

# pprof of the same JVM: the methods by name.
"$scorch" record -F 499 -d 2 -p "$bg" -o "$tmp/pid.pb.gz" 2>"$tmp/err" ||
	fail "record -p -o .pb.gz exited $?: $(cat "$tmp/err")"
go tool pprof -top "$tmp/pid.pb.gz" >"$tmp/top" 2>"$tmp/perr" || fail "go tool pprof: $(cat "$tmp/perr")"
grep -q 'Shape\$Sixty\.work' "$tmp/top" || fail "go tool pprof -top has no Shape\$Sixty.work: $(head -15 "$tmp/top")"
grep -q 'Shape\.main' "$tmp/top" || fail "go tool pprof -top has no Shape.main: $(head -15 "$tmp/top")"
echo "pprof: go tool pprof names Shape\$Sixty.work and Shape.main"
# --lines: main's frame at the line of its call to the three (the bcp its
# interpreter frame saved, through the method's line number table).
call_line=$(grep -n 'x = works\[k\]\.work' "$source" | cut -d: -f1)
"$scorch" record --lines -F 499 -d 2 -p "$bg" -o "$tmp/lines.folded" 2>"$tmp/err" ||
	fail "record --lines -p exited $?: $(cat "$tmp/err")"
at_call=$(share "Shape\.main\(java\.lang\.String\[\]\) Shape\.java:$call_line"'_\[j\];long Shape' "$tmp/lines.folded" java "$work")
awk -v s="$at_call" 'BEGIN { exit !(s >= 90) }' ||
	fail "record --lines: $at_call % of the methods' samples under main at Shape.java:$call_line, want >= 90: $(grep -o 'Shape\.main[^;]*' "$tmp/lines.folded" | sort | uniq -c)"
echo "record --lines: $at_call % of the methods' samples under main at Shape.java:$call_line"
# JDK 9-16 have no Compiler.perfmap: their methods are named from
# Compiler.codelist's answer.  The test hook has the first ask name a
# command no JDK has, which the JVM refuses as those refuse
# Compiler.perfmap; the map the first route had the JVM write is removed
# first, so that names come from the codelist route alone.
rm -f "/tmp/perf-$bg.map"
SCORCH_JAVA_CODELIST=1 "$scorch" record -F 499 -d 6 -p "$bg" -o "$tmp/codelist.folded" 2>"$tmp/err" ||
	fail "record -p (codelist) exited $?: $(cat "$tmp/err")"
grep -q "^scorch: java: 1 JVMs without Compiler.perfmap, named by Compiler.codelist" "$tmp/err" ||
	fail "record -p (codelist): the JVM was not asked for Compiler.codelist: $(cat "$tmp/err")"
check_shape "$tmp/codelist.folded" "record -p (codelist)"
named=$(named_share "$tmp/codelist.folded")
awk -v s="$named" 'BEGIN { exit !(s >= 90) }' ||
	fail "record -p (codelist): $named % of the main thread's samples in a named Java method, want >= 90: $(sort -t' ' -k2 -nr "$tmp/codelist.folded" | head -5)"
echo "record -p (codelist): $named % of the main thread's samples in a named Java method"
via_main "$tmp/codelist.folded" "record -p (codelist)" 90
kill "$bg" 2>/dev/null || true
wait "$bg" 2>/dev/null || true

# A JVM as in a container: its own pid and mount namespaces, a private
# /tmp (the classes copied in), and at its attach socket's path a socket
# file no one listens on (left by an earlier process with its pid).
need_tools unshare python3
unshare -m -p -f --mount-proc sh -c 'mount -t tmpfs tmpfs /mnt && cp -r "$1" /mnt/c && mount --bind /mnt /tmp &&
	"$2" -cp /tmp/c Shape 600; :' sh "$tmp/classes" "$jdk/java" >"$tmp/ns.out" 2>&1 &
pids+=($!)
wait_warm "$tmp/ns.out"
ns_jvm=$(pgrep -n -f "java -cp /tmp/c Shape 600") || fail "the namespaced JVM is not running: $(cat "$tmp/ns.out")"
pids+=("$ns_jvm")
nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$ns_jvm/status")
[ "$nspid" != "$ns_jvm" ] || fail "the JVM is not in a pid namespace of its own"
# (When another profiler on the machine, a parallel job's system-wide
# scorch, has started its listener already, the socket there is live and
# the stale case is not exercised: said, not failed.)
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "/proc/$ns_jvm/root/tmp/.java_pid$nspid" 2>/dev/null ||
	echo "note: the namespaced JVM's attach listener already runs (another profiler asked it): no stale socket"

"$scorch" record -F 499 -d 3 -p "$ns_jvm" -o "$tmp/ns.folded" 2>"$tmp/err" ||
	fail "record -p (namespaced) exited $?: $(cat "$tmp/err")"
named=$(named_share "$tmp/ns.folded")
awk -v s="$named" 'BEGIN { exit !(s >= 90) }' ||
	fail "record -p (namespaced): $named % of the main thread's samples in a named Java method, want >= 90: $(cat "$tmp/err")"
[ -f "/proc/$ns_jvm/root/tmp/perf-$nspid.map" ] || fail "no perf-$nspid.map in the JVM's own /tmp"
echo "record -p, JVM in its own namespaces (pid $nspid inside), a stale socket: $named % in named Java methods"
kill "$ns_jvm" 2>/dev/null || true

# From the JVM's start.
"$scorch" record -F 499 -o "$tmp/run.folded" -- "${java[@]}" 5 >/dev/null 2>"$tmp/err" ||
	fail "record -- java exited $?: $(cat "$tmp/err")"
named=$(named_share "$tmp/run.folded")
awk -v s="$named" 'BEGIN { exit !(s >= 75) }' ||
	fail "record -- java: $named % of the main thread's samples in a named Java method, want >= 75: $(sort -t' ' -k2 -nr "$tmp/run.folded" | head -5)"
echo "record -- java: $named % of the main thread's samples in a named Java method"
via_main "$tmp/run.folded" "record -- java" 75

# --no-java: the JVM is not asked, its code stays anonymous, and its
# interpreted frames are not walked.
"$scorch" record --no-java -F 499 -o "$tmp/nojava.folded" -- "$jdk/java" -XX:+DisableAttachMechanism \
	-cp "$tmp/classes" Shape 2 >/dev/null 2>"$tmp/err" ||
	fail "record --no-java exited $?: $(cat "$tmp/err")"
named=$(named_share "$tmp/nojava.folded")
[ "$named" = 0.0 ] || fail "--no-java: $named % of samples in named Java methods"
! grep -q "^scorch: java:" "$tmp/err" || fail "--no-java: the JVM was asked: $(cat "$tmp/err")"
echo "--no-java: no Java method named"
echo "PASS"
