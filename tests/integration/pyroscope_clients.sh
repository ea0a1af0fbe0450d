#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pyroscope_clients.sh: real Pyroscope clients against pyroscope_receiver.py,
# the stand-in for Pyroscope's ingestion that scorch's agent tests push to, so
# that it answers as Pyroscope does.
#
#  1. @pyroscope/nodejs 0.6.4 (POST /ingest?format=pprof, the gzip pprof as
#     the whole body) profiles a node program for 3 s: every request is
#     accepted, and the series are the ones Pyroscope's og conversion makes:
#     service_name=nodeapp, __name__=wall (wall:samples:count:wall:nanoseconds,
#     wall:wall:nanoseconds:wall:nanoseconds) and __name__=memory
#     (memory:inuse_objects:count:inuse_space:bytes,
#     memory:inuse_space:bytes:inuse_space:bytes).
#  2. A Connect client (@connectrpc/connect-node) calls
#     push.v1.PusherService/Push: a CPU and an off-CPU profile in scorch's
#     shape are accepted and split by their sample label exe; a profile with
#     invalid UTF-8 and no service_name, one 2 h old and a label value of 3000
#     characters get the ConnectError invalid_argument, logged with Pyroscope's
#     reason (malformed_profile, not_in_ingestion_window, label_value_too_long).
#     With --write-path ingester and a series limit of 2, the second process
#     of a CPU push (2 more series: one per sample type) gets
#     resource_exhausted (series_limit), the first stays stored.
#  3. Plain HTTP: 415 for another content type, 422 for a multipart body sent
#     with format=pprof, 429 rate_limited for a profile over the 2 MiB burst,
#     and the test controls (down: 503 unavailable; script: the status given).
#
# Needs node, python3 and the packages of tests/pyroscope (npm ci --prefix
# tests/pyroscope, which scripts/deps runs); without them it skips (exit 77),
# or fails when CI=true.  Only 127.0.0.1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
test_setup
need_tools node python3
clients=$(cd "$here/../pyroscope" && pwd)
for m in @pyroscope/nodejs @connectrpc/connect @connectrpc/connect-node @bufbuild/protobuf; do
	[ -d "$clients/node_modules/$m" ] && continue
	[ "${CI:-}" = true ] && fail "$clients/node_modules/$m missing: npm ci --prefix tests/pyroscope"
	echo "SKIP: $m not installed: run npm ci --prefix tests/pyroscope" >&2
	exit 77
done

# start_pyroscope DIR [OPTION...]: a receiver keeping its state in DIR; sets url.
start_pyroscope() {
	local d=$1
	shift
	mkdir -p "$d"
	python3 "$here/pyroscope_receiver.py" "$d" "$@" 2>"$d/stderr" &
	pids+=($!)
	for _ in $(seq 50); do [ -f "$d/port" ] && break; sleep 0.1; done
	[ -f "$d/port" ] || fail "pyroscope_receiver.py did not start: $(cat "$d/stderr")"
	url=http://127.0.0.1:$(cat "$d/port")
}

# check DIR PYTHON: runs PYTHON with R (requests.jsonl) and S (series.jsonl)
# as lists of dicts; an AssertionError fails the test with its message.
check() {
	python3 - "$1" "$2" <<'EOF' || fail "$3"
import json, os, sys
d = sys.argv[1]
load = lambda n: [json.loads(l) for l in open(os.path.join(d, n))] if os.path.exists(os.path.join(d, n)) else []
R, S = load("requests.jsonl"), load("series.jsonl")
try:
    exec(sys.argv[2])
except AssertionError as e:
    print("FAIL:", e, file=sys.stderr)
    sys.exit(1)
EOF
}

start=$(date +%s)
# 1. The real Pyroscope Node.js client.
start_pyroscope "$tmp/node"
timeout 60 node "$clients/nodejs_app.js" "$url" 3 >"$tmp/node.out" 2>&1 || fail "nodejs_app.js: $(cat "$tmp/node.out")"
check "$tmp/node" '
assert len(R) >= 4, "want >= 4 requests from @pyroscope/nodejs, got %d" % len(R)
for r in R:
    assert (r["api"], r["status"]) == ("ingest", 200), "refused: %s" % r
    assert "format=pprof" in r["path"] and "spyName=nodespy" in r["path"], r["path"]
    assert r["headers"].get("X-Scope-OrgID") == "tenant-n", r["headers"]
    assert r["series"] == 1 and r["file"] and os.path.getsize(os.path.join(d, "profiles", r["file"] + ".pb.gz")) > 0, r
want = {"wall": ["wall:samples:count:wall:nanoseconds", "wall:wall:nanoseconds:wall:nanoseconds"],
        "memory": ["memory:inuse_objects:count:inuse_space:bytes", "memory:inuse_space:bytes:inuse_space:bytes"]}
for s in S:
    l = s["labels"]
    assert l["service_name"] == "nodeapp" and l["pyroscope_spy"] == "nodespy" and l["env"] == "ci" and l["__delta__"] == "false", l
    assert l["__name__"] in want and s["profile_types"] == want[l["__name__"]], s
    assert s["samples"] > 0 and all(v > 0 for v in s["values"]), s
assert {s["labels"]["__name__"] for s in S} == {"wall", "memory"}, [s["labels"]["__name__"] for s in S]
print("nodejs: %d requests accepted; series %s" % (len(R), sorted({(s["labels"]["__name__"], tuple(s["profile_types"])) for s in S})))
' "@pyroscope/nodejs was not accepted as Pyroscope accepts it"

# 2. A real Connect client for push.v1.PusherService/Push.
start_pyroscope "$tmp/push"
for c in valid offcpu bad_utf8 old long_value; do
	timeout 30 node "$clients/connect_push.js" "$url" "$c" >>"$tmp/push/client.jsonl" 2>"$tmp/push.err" || fail "connect_push.js $c: $(cat "$tmp/push.err")"
done
cp "$tmp/push/client.jsonl" "$tmp/push/C"
check "$tmp/push" '
C = {c["case"]: c for c in map(json.loads, open(os.path.join(d, "C")))}
assert C["valid"]["ok"] and C["offcpu"]["ok"], C
for case, reason in [("bad_utf8", "malformed_profile"), ("old", "not_in_ingestion_window"), ("long_value", "label_value_too_long")]:
    assert C[case]["code"] == "invalid_argument", (case, C[case])
assert [(r["status"], r["code"], r["reason"]) for r in R] == [(200, "", ""), (200, "", ""), (400, "invalid_argument", "malformed_profile"),
    (400, "invalid_argument", "not_in_ingestion_window"), (400, "invalid_argument", "label_value_too_long")], R
assert C["bad_utf8"]["message"] == "invalid utf8 string hex: 6964fffe", C["bad_utf8"]
assert all(r["headers"]["Content-Type"] == "application/proto" and r["headers"]["Connect-Protocol-Version"] == "1" and r["headers"]["X-Scope-OrgID"] == "tenant-a" for r in R), R[0]["headers"]
cpu = ["process_cpu:samples:count:cpu:nanoseconds", "process_cpu:cpu:nanoseconds:cpu:nanoseconds"]
got = [(s["labels"], s["profile_types"], s["values"]) for s in S]
base = {"service_name": "connectapp", "host": "ci"}
assert got == [(dict(base, __name__="process_cpu", exe="/usr/bin/app"), cpu, [30, 303030300]),
               (dict(base, __name__="process_cpu", exe="/usr/bin/db"), cpu, [12, 121212120]),
               (dict(base, __name__="off_cpu", exe="/usr/bin/app"), ["off_cpu:off_cpu:nanoseconds::"], [30000000]),
               (dict(base, __name__="off_cpu", exe="/usr/bin/db"), ["off_cpu:off_cpu:nanoseconds::"], [12000000])], got
print("connect: valid and offcpu accepted, 4 series; refused: %s" % [(c, C[c]["code"], r["reason"]) for c, r in zip(["bad_utf8", "old", "long_value"], R[2:])])
' "the Connect client was not answered as Pyroscope answers it"

# Each sample type is a series of its own there: the first process's two fill a limit of 2.
start_pyroscope "$tmp/limit" --write-path ingester --ingester.max-global-series-per-tenant 2
timeout 30 node "$clients/connect_push.js" "$url" valid >"$tmp/limit/C" 2>"$tmp/push.err" || fail "connect_push.js: $(cat "$tmp/push.err")"
check "$tmp/limit" '
c = json.load(open(os.path.join(d, "C")))
assert c["code"] == "resource_exhausted" and c["message"].startswith("Maximum active series limit exceeded (2/2)"), c
assert [(r["status"], r["reason"], r["series"]) for r in R] == [(429, "series_limit", 1)], R
assert [s["labels"]["exe"] for s in S] == ["/usr/bin/app"], S
print("series limit: %s" % c["code"])
' "the active-series limit was not applied as Pyroscope's ingester applies it"

# 3. Plain HTTP: content types, the old multipart-with-format=pprof request,
# the rate limiter's burst, and the test controls.
start_pyroscope "$tmp/http"
python3 - "$url" "$tmp/http" <<'EOF' || fail "plain HTTP requests were not answered as Pyroscope answers them"
import gzip, json, os, sys, time, urllib.request
url, d = sys.argv[1:]
def post(path, body, ctype, **h):
    req = urllib.request.Request(url + path, data=body, headers=dict(h, **{"Content-Type": ctype}))
    try:
        r = urllib.request.urlopen(req)
        return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
def enc(v):
    out = b""
    while True:
        c, v = v & 0x7f, v >> 7
        if not v:
            return out + bytes([c])
        out += bytes([c | 0x80])
fld = lambda n, b: bytes([n << 3 | 2]) + enc(len(b)) + b
def pprof(pad=b""):  # one sample of 5 cpu/nanoseconds at main, now
    strings = [b"", b"cpu", b"nanoseconds", b"main", pad]
    vt = fld(1, b"\x08\x01\x10\x02")
    return gzip.compress(vt + fld(2, b"\x0a\x01\x01\x12\x01\x05") + fld(4, b"\x08\x01" + fld(4, b"\x08\x01")) +
                         fld(5, b"\x08\x01\x10\x03") + b"".join(fld(6, s) for s in strings) + b"\x48" + enc(time.time_ns()))
def push(raw, labels=(("__name__", "process_cpu"), ("service_name", "plain"))):
    series = b"".join(fld(1, fld(1, n.encode()) + fld(2, v.encode())) for n, v in labels) + fld(2, fld(1, raw))
    return post("/push.v1.PusherService/Push", fld(1, series), "application/proto", **{"Connect-Protocol-Version": "1"})
ok = lambda cond, what: cond or sys.exit("FAIL: " + what)
st, body = post("/push.v1.PusherService/Push", b"", "text/plain")
ok(st == 415 and body == b"", "415 for text/plain, got %d %r" % (st, body))
st, body = push(pprof())
ok(st == 200, "a small push: %d %r" % (st, body))
st, body = push(b"")
ok((st, json.loads(body)["code"]) == (500, "unknown"), "empty raw_profile (gzip reset: EOF, a plain error): %d %r" % (st, body))
st, body = push(pprof(), labels=(("service_name", "plain"),))
ok((st, json.loads(body)["code"]) == (400, "invalid_argument") and b"invalid metric name" in body, "no __name__: %d %r" % (st, body))
mp = b"--B\r\nContent-Disposition: form-data; name=\"profile\"; filename=\"profile.pprof\"\r\n\r\n" + pprof() + b"\r\n--B--\r\n"
st, body = post("/ingest?name=svc&format=pprof&spyName=scorch&from=1&until=2", mp, "multipart/form-data; boundary=B")
ok(st == 422, "multipart body with format=pprof: want 422 (the whole body is taken as the pprof), got %d %r" % (st, body))
st, body = post("/ingest?name=svc{env=ci}&spyName=scorch", mp, "multipart/form-data; boundary=B")
ok(st == 200, "multipart body without format: want 200, got %d %r" % (st, body))
st, body = post("/ingest?name=my%20svc&format=pprof", pprof(), "application/octet-stream")
ok(st == 400 and json.loads(body)["code"] == "invalid_argument", "a service name with a space: %d %r" % (st, body))
st, body = push(pprof(b"x" * (2 * 1024 * 1024 + 1)))
ok(st == 429 and json.loads(body)["code"] == "resource_exhausted", "a profile over the 2 MiB burst: %d %r" % (st, body))
open(os.path.join(d, "down"), "w").close()
st, body = push(pprof())
ok(st == 503 and json.loads(body)["code"] == "unavailable", "down: %d %r" % (st, body))
os.unlink(os.path.join(d, "down"))
open(os.path.join(d, "script"), "w").write("429\n503\n")
st1, _ = push(pprof())
st2, body = post("/ingest?name=svc&format=pprof", pprof(), "application/octet-stream")
st3, _ = push(pprof())
ok((st1, st2, st3) == (429, 503, 200) and b"scripted" in body, "script: %s %r" % ((st1, st2, st3), body))
R = [json.loads(l) for l in open(os.path.join(d, "requests.jsonl"))]
got = [(r["status"], r["reason"], r["control"]) for r in R]
want = [(415, "", None), (200, "", None), (500, "", None), (400, "invalid_labels", None), (422, "", None), (200, "", None), (400, "", None),
        (429, "rate_limited", None), (503, "", "down"), (429, "", "script"), (503, "", "script"), (200, "", None)]
ok(got == want, "requests.jsonl: %s" % got)
print("plain HTTP: %s" % [g[:2] for g in got])
EOF
[ -s "$tmp/http/refused" ] || fail "down: nothing logged to refused"
echo "PASS: pyroscope_clients ($(($(date +%s) - start)) s)"
