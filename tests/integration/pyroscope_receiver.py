#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pyroscope_receiver.py STATE_DIR [options]: a stand-in for Grafana Pyroscope's
ingestion, bound to 127.0.0.1 only (port 0, written to STATE_DIR/port).

Every decision copies Pyroscope (grafana/pyroscope at 3fe6a457, 2026-08-21) or
connect-go, traced in a "# pyroscope: FILE, FUNCTION" / "# connect-go: ..."
comment.  Two front doors share one ingestion path (Distributor.PushBatch ->
pushSeries -> visitSampleSeries -> ingester/segment writer):

  POST /push.v1.PusherService/Push   Connect unary (application/proto or json),
                                     a PushRequest; errors are Connect JSON
                                     {"code", "message"} with connect-go's status.
  POST /ingest, /pyroscope/ingest    the legacy API: ?name=APP{k=v}&from&until
                                     &format=pprof&spyName&sampleRate; with
                                     format=pprof the whole body is the pprof,
                                     multipart/form-data ("profile" file part,
                                     optional "sample_type_config") only when
                                     format is absent.  400 bad metadata, 422
                                     refused, 429 resource exhausted.

Options (Pyroscope's flag names and defaults; durations like 20s, 1h, 0):
  --distributor.ingestion-rate-limit-mb 4    --distributor.ingestion-burst-size-mb 2
  --distributor.ingestion-body-limit-mb 256  --validation.max-profile-size-bytes 4194304
  --validation.max-profile-stacktrace-samples 16000
  --validation.max-profile-stacktrace-sample-labels 100
  --validation.max-profile-stacktrace-depth 1000
  --validation.max-profile-symbol-value-length 65535
  --validation.max-length-label-name 1024    --validation.max-length-label-value 2048
  --validation.max-label-names-per-series 30 --validation.disable-label-sanitization true
  --validation.reject-older-than 1h          --validation.reject-newer-than 10m
  --ingester.max-global-series-per-tenant 5000 --ingester.max-local-series-per-tenant 0
  --write-path segment-writer|ingester|combined (Pyroscope's default: segment-writer;
      the active-series limit exists only on the ingester path)
  --auth.multitenancy-enabled false (true: X-Scope-OrgID names the tenant, required)
  --distributor.ingestion-relabeling-default-rules-position first|last|disabled

Test controls: while STATE_DIR/down exists every request gets 503 (Connect
"unavailable" JSON) and is logged to STATE_DIR/refused; while STATE_DIR/hang
exists a request is held up to 20 s and logged to STATE_DIR/held; if
STATE_DIR/script exists each request consumes its first line, an HTTP status
answered instead (Connect-style JSON, message "scripted ...", nothing ingested;
the request's profile IDs still logged), or "pass": handled as usual.
--port N listens on N instead of a free port (a receiver restarted on the
port its client knows).

Outputs, one JSON object a line:
  STATE_DIR/requests.jsonl  {"api": "push"|"ingest", "path", "status", "code",
      "reason" (Pyroscope's discard reason, e.g. not_in_ingestion_window),
      "message", "series" (stored), "file" (seq of the first saved profile or
      null), "files", "ids" (Push: each RawSample's ID), "control"
      (down|script|null), "headers": {name: value} (names canonical:
      Content-Type, User-Agent, X-Scope-OrgID)}
  STATE_DIR/series.jsonl    one stored series after the split: {"api", "tenant",
      "labels": {...}, "profile_types": ["process_cpu:cpu:nanoseconds:cpu:nanoseconds"],
      "time_ns", "samples", "values" (sum per sample type), "file", "id" (the
      RawSample's ID; "" from /ingest)}
  STATE_DIR/profiles/SEQ.pb.gz  each accepted raw profile as received (SEQ.pb
      when it was not gzip-compressed), SEQ a zero-padded counter.
"""
import argparse, base64, calendar, email.parser, email.policy, json, os, re, sys, threading, time, urllib.parse, zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------- options
def go_duration(s):  # prometheus/common model.ParseDuration (reject-older/newer-than)
    if s == "0":
        return 0.0
    units = {"ms": .001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    parts = re.findall(r"(\d+)(ms|s|m|h|d|w|y)", s)
    if not parts or "".join(a + b for a, b in parts) != s:
        raise argparse.ArgumentTypeError("not a duration: %r" % s)
    return sum(int(a) * units[b] for a, b in parts)

def go_bool(s):
    return {"true": True, "1": True, "false": False, "0": False}[s.lower()]

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("state")
ap.add_argument("--port", type=int, default=0)
# pyroscope: pkg/validation/limits.go, Limits.RegisterFlags (names and defaults)
for name, typ, default in [
        ("distributor.ingestion-rate-limit-mb", float, 4), ("distributor.ingestion-burst-size-mb", float, 2),
        ("distributor.ingestion-body-limit-mb", float, 256), ("validation.max-profile-size-bytes", int, 4 * 1024 * 1024),
        ("validation.max-profile-stacktrace-samples", int, 16000), ("validation.max-profile-stacktrace-sample-labels", int, 100),
        ("validation.max-profile-stacktrace-depth", int, 1000), ("validation.max-profile-symbol-value-length", int, 65535),
        ("validation.max-length-label-name", int, 1024), ("validation.max-length-label-value", int, 2048),
        ("validation.max-label-names-per-series", int, 30), ("validation.disable-label-sanitization", go_bool, True),
        ("validation.reject-older-than", go_duration, 3600.0), ("validation.reject-newer-than", go_duration, 600.0),
        ("ingester.max-global-series-per-tenant", int, 5000), ("ingester.max-local-series-per-tenant", int, 0),
        ("auth.multitenancy-enabled", go_bool, False)]:
    ap.add_argument("--" + name, "-" + name, type=typ, default=default, dest=name, metavar="V", help="default %(default)s")
# pyroscope: pkg/distributor/writepath/write_path.go, Config.RegisterFlags (default SegmentWriterPath)
ap.add_argument("--write-path", "-write-path", dest="write-path", metavar="PATH", help="segment-writer (default), ingester or combined", choices=["segment-writer", "ingester", "combined"], default="segment-writer")
ap.add_argument("--distributor.ingestion-relabeling-default-rules-position", dest="rules_position",
                choices=["first", "last", "disabled"], default="first", metavar="POS", help="first (default), last or disabled")
A = vars(ap.parse_args())
STATE = A["state"]
MB = 1048576  # pyroscope: pkg/validation/limits.go, bytesInMB
LOCK = threading.Lock()
SEQ = [0]

class PErr(Exception):
    """An error as Pyroscope carries it: a Connect code (connect.NewError), a
    validation Reason (validation.NewErrorf), or neither (a plain error)."""
    def __init__(self, msg, code=None, reason=None, discard=None, inner=None):
        super().__init__(msg)
        self.msg, self.code, self.reason, self.inner = msg, code, reason, inner
        self.discard = discard or reason  # the reason Pyroscope counts it under
    def __str__(self):  # connect-go error.go, Error.Error: "code: message"; a wrapper (fmt.Errorf %w) just its text
        return "%s: %s" % (self.code, self.msg) if self.code and not self.inner else self.msg

# ---------------------------------------------------------------- protobuf wire reader
def varint(b, i):
    v = shift = 0
    while True:
        if i >= len(b):
            raise ValueError("unexpected EOF")
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if c < 0x80:
            return v, i
        if shift >= 70:
            raise ValueError("proto: integer overflow")

# The wire type of each known field (P: a repeated scalar, packed or not), as
# the generated UnmarshalVT checks them (api/gen/proto/go/google/v1/
# profile_vtproto.pb.go, push/v1/push_vtproto.pb.go): a known field with
# another wire type is "proto: wrong wireType"; unknown fields are skipped.
V, L, P = 0, 2, "P"
SPEC = {
    "Profile": {1: ("SampleType", L), 2: ("Sample", L), 3: ("Mapping", L), 4: ("Location", L), 5: ("Function", L),
                6: ("StringTable", L), 7: ("DropFrames", V), 8: ("KeepFrames", V), 9: ("TimeNanos", V),
                10: ("DurationNanos", V), 11: ("PeriodType", L), 12: ("Period", V), 13: ("Comment", P), 14: ("DefaultSampleType", V)},
    "ValueType": {1: ("Type", V), 2: ("Unit", V)},
    "Sample": {1: ("LocationId", P), 2: ("Value", P), 3: ("Label", L)},
    "Label": {1: ("Key", V), 2: ("Str", V), 3: ("Num", V), 4: ("NumUnit", V)},
    "Mapping": dict({n: (x, V) for n, x in enumerate(["Id", "MemoryStart", "MemoryLimit", "FileOffset", "Filename", "BuildId",
                                                       "HasFunctions", "HasFilenames", "HasLineNumbers", "HasInlineFrames"], 1)}),
    "Location": {1: ("Id", V), 2: ("MappingId", V), 3: ("Address", V), 4: ("Line", L), 5: ("IsFolded", V)},
    "Line": {1: ("FunctionId", V), 2: ("Line", V)},
    "Function": {1: ("Id", V), 2: ("Name", V), 3: ("SystemName", V), 4: ("Filename", V), 5: ("StartLine", V)},
    "PushRequest": {1: ("Series", L)}, "RawProfileSeries": {1: ("Labels", L), 2: ("Samples", L), 3: ("Annotations", L)},
    "LabelPair": {1: ("Name", L), 2: ("Value", L)}, "RawSample": {1: ("RawProfile", L), 2: ("ID", L)},
}

def fields(b, msg=""):
    """Yields (field number, wire type, value) of a protobuf message of type
    msg, checked against SPEC; groups of unknown fields are skipped."""
    spec, i, depth = SPEC.get(msg, {}), 0, 0
    while i < len(b):
        key, i = varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 4 and not depth:
            raise ValueError("proto: %s: wiretype end group for non-group" % msg)
        if num <= 0:
            raise ValueError("proto: %s: illegal tag %d (wire type %d)" % (msg, num, wire))
        if num in spec and not depth and wire != spec[num][1] and not (spec[num][1] == P and wire in (V, L)):
            raise ValueError("proto: wrong wireType = %d for field %s" % (wire, spec[num][0]))
        if wire in (3, 4):  # a group (deprecated): skipped whole
            depth += 1 if wire == 3 else -1
            continue
        if wire == 0:
            v, i = varint(b, i)
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            if i + n > len(b):
                raise ValueError("unexpected EOF")
            v, i = b[i:i + n], i + n
        elif wire == 2:
            n, i = varint(b, i)
            if i + n > len(b):
                raise ValueError("unexpected EOF")
            v, i = b[i:i + n], i + n
        else:
            raise ValueError("proto: illegal wireType %d" % wire)
        if not depth:
            yield num, wire, v
    if depth:
        raise ValueError("unexpected EOF")

def ints(wire, v, signed=False):
    """A repeated integer field's values, packed or not."""
    out = []
    if wire == 2:
        i = 0
        while i < len(v):
            x, i = varint(v, i)
            out.append(x)
    else:
        out.append(v)
    return [x - (1 << 64) if signed and x >= 1 << 63 else x for x in out]

def S(b):  # a protobuf string kept byte for byte (invalid UTF-8 survives)
    return b.decode("utf-8", "surrogateescape")

def utf8_ok(s):
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False

def blen(s):  # Go's len(string): bytes
    return len(s.encode("utf-8", "surrogateescape"))

class Profile:
    """profile.proto (api/google/v1/profile.proto), the fields ingestion reads."""
    def __init__(self, raw):
        self.size = len(raw)  # stands in for Profile.SizeVT() (the same unless the encoding is not canonical)
        self.sample_type, self.samples, self.mappings, self.locations = [], [], [], []
        self.functions, self.strings = [], []
        self.time_nanos, self.period_type = 0, None
        sint = lambda x: x - (1 << 64) if x >= 1 << 63 else x  # int64 fields: two's complement
        scalars = lambda v, msg: {n: sint(x) for n, w, x in fields(v, msg) if w == 0}
        for num, wire, v in fields(raw, "Profile"):
            if num == 1:
                f = scalars(v, "ValueType")
                self.sample_type.append([f.get(1, 0), f.get(2, 0)])
            elif num == 2:
                s = {"locs": [], "values": [], "labels": []}
                for n, w, x in fields(v, "Sample"):
                    if n == 1:
                        s["locs"] += ints(w, x)
                    elif n == 2:
                        s["values"] += ints(w, x, signed=True)
                    elif n == 3:
                        f = scalars(x, "Label")
                        s["labels"].append([f.get(1, 0), f.get(2, 0), f.get(3, 0), f.get(4, 0)])
                self.samples.append(s)
            elif num == 3:
                f = scalars(v, "Mapping")
                self.mappings.append({"id": f.get(1, 0), "filename": f.get(5, 0), "build_id": f.get(6, 0)})
            elif num == 4:
                loc = {"id": 0, "mapping": 0, "address": 0, "lines": []}
                for n, w, x in fields(v, "Location"):
                    if n in (1, 2, 3):
                        loc[{1: "id", 2: "mapping", 3: "address"}[n]] = x
                    elif n == 4:
                        loc["lines"].append(scalars(x, "Line").get(1, 0))
                self.locations.append(loc)
            elif num == 5:
                f = scalars(v, "Function")
                self.functions.append({"id": f.get(1, 0), "name": f.get(2, 0), "system_name": f.get(3, 0), "filename": f.get(4, 0)})
            elif num == 6:
                self.strings.append(S(v))
            elif num == 9:
                self.time_nanos = sint(v)
            elif num == 11:
                f = scalars(v, "ValueType")
                self.period_type = [f.get(1, 0), f.get(2, 0)]

    def s(self, i):
        return self.strings[i] if 0 <= i < len(self.strings) else ""

def raw_from_bytes(data, max_size):
    """pyroscope: pkg/pprof/pprof.go, RawFromBytesWithLimit: gzip or not (the
    klauspost gzip header read: <10 bytes is EOF/unexpected EOF, no magic is
    ErrHeader and the bytes are taken as they are), the decompressed size
    limited to max_size (ErrDecompressedSizeExceedsLimit), then UnmarshalVT."""
    if len(data) < 10:
        raise PErr("gzip reset: " + ("EOF" if not data else "unexpected EOF"))
    if data[:2] == b"\x1f\x8b":
        d, out, rest = zlib.decompressobj(31), b"", data
        try:
            while rest and (not max_size or len(out) <= max_size):
                out += d.decompress(rest, (max_size + 1 - len(out)) if max_size else 0)
                rest = d.unconsumed_tail
                if d.eof:  # a multi-member gzip file goes on
                    rest = d.unused_data
                    d = zlib.decompressobj(31) if rest else d
        except zlib.error as e:
            raise PErr("copy to buffer: gzip: %s" % e)
        if not d.eof and (not max_size or len(out) <= max_size):
            raise PErr("copy to buffer: unexpected EOF")
        if max_size and len(out) > max_size:
            raise PErr("decompressed size exceeds maximum allowed size of %d bytes" % max_size, reason="size")
        data = out
    try:
        return Profile(data)
    except (ValueError, IndexError) as e:
        raise PErr(str(e))

# ---------------------------------------------------------------- labels
def sort_labels(ls):  # pyroscope: pkg/model/labels.go, Labels.Less (by name)
    return sorted(ls, key=lambda l: l[0].encode("utf-8", "surrogateescape"))

def get(ls, name):  # pyroscope: pkg/model/labels.go, Labels.Get (first match)
    return next((v for n, v in ls if n == name), "")

def go_quote(s):
    return json.dumps(s, ensure_ascii=False)

def pairs_string(ls):  # pyroscope: pkg/model/labels.go, LabelPairsString
    return "{" + ", ".join("%s=%s" % (n, go_quote(v)) for n, v in ls) + "}"

class Builder:
    """pyroscope: pkg/model/labels.go, LabelsBuilder: Reset puts every empty
    label in del; Set of "" deletes; Labels drops base labels named in del or
    add (all of that name) and appends add, sorted."""
    def __init__(self, base):
        self.base, self.dele, self.add = list(base), [n for n, v in base if v == ""], []
    def get(self, n):
        for a in self.add:
            if a[0] == n:
                return a[1]
        return "" if n in self.dele else get(self.base, n)
    def set(self, n, v):
        if v == "":
            self.add = [a for a in self.add if a[0] != n]
            self.dele.append(n)
            return
        for a in self.add:
            if a[0] == n:
                a[1] = v
                return
        self.add.append([n, v])
    def labels(self):
        if not self.dele and not self.add:
            return sort_labels(self.base)
        names = set(self.dele) | {a[0] for a in self.add}
        return sort_labels([l for l in self.base if l[0] not in names] + [tuple(a) for a in self.add])

def default_relabel(b):
    """pyroscope: pkg/validation/relabeling.go, defaultRelabelRules (Prometheus
    Replace actions, anchored regexes; an empty result deletes the target)."""
    m = re.fullmatch(r"godeltaprof_(.*)", b.get("__name__"), re.S)
    if m:
        b.set("__name_replaced__", m.group(0))
    if re.fullmatch(r"godeltaprof_(.*)", b.get("__name_replaced__"), re.S):
        b.set("__delta__", "false")
    if m:
        b.set("__name__", m.group(1))
    if b.get("__name__") + "/" + b.get("__type__") == "wall/cpu":
        b.set("__name_replaced__", "wall")
        b.set("__name__", "process_cpu")

def validate_labels(ls):
    """pyroscope: pkg/validation/validate.go, ValidateLabels (UTF8Validation from
    prometheus/common: a name is valid when non-empty and valid UTF-8)."""
    if not ls:
        raise PErr("error at least one label pair is required per profile", reason="missing_labels")
    ls = sort_labels(ls)
    if len(ls) > A["validation.max-label-names-per-series"]:
        raise PErr("profile series '%s' has %d label names; limit %d" % (pairs_string(ls), len(ls), A["validation.max-label-names-per-series"]), reason="max_label_names_per_series")
    inv = "invalid labels '%s' with error: %s"
    name = get(ls, "__name__")
    if not name or not utf8_ok(name):
        raise PErr(inv % (pairs_string(ls), "invalid metric name"), reason="invalid_labels")
    if get(ls, "service_name") == "":  # isValidServiceName
        raise PErr(inv % (pairs_string(ls), "service name is not provided"), reason="missing_labels")
    last, idx = "", 0
    while idx < len(ls):
        n, v = ls[idx]
        if blen(n) > A["validation.max-length-label-name"]:
            raise PErr("profile with labels '%s' has label name too long: '%s'" % (pairs_string(ls), n), reason="label_name_too_long")
        if blen(v) > A["validation.max-length-label-value"]:
            raise PErr("profile with labels '%s' has label value too long: '%s'" % (pairs_string(ls), v), reason="label_value_too_long")
        if A["validation.disable-label-sanitization"]:
            if not n or not utf8_ok(n):
                raise PErr(inv % (pairs_string(ls), "invalid label name '%s'" % n), reason="invalid_labels")
        else:  # SanitizeLegacyLabelName + handleSanitizedLabel: dots become underscores
            if not re.fullmatch(r"[a-zA-Z_.][a-zA-Z0-9_.]*", n):
                raise PErr(inv % (pairs_string(ls), "invalid label name '%s'" % n), reason="invalid_labels")
            if "." in n:
                new = n.replace(".", "_")
                rest = ls[:idx] + ls[idx + 1:]
                same = [l for l in rest if l[0] == new]
                if same and same[0][1] != v:
                    raise PErr("profile with labels '%s' has duplicate label name '%s' after label name sanitization from '%s'" % (pairs_string(ls), new, n), reason="duplicate_label_names")
                ls = rest if same else sort_labels(rest + [(new, v)])
                last = ls[idx - 1][0] if 0 < idx <= len(ls) else ""
                continue
        if not utf8_ok(v):
            raise PErr(inv % (pairs_string(ls), "invalid label value '%s'" % v), reason="invalid_labels")
        if n == last:
            raise PErr("profile with labels '%s' has duplicate label name: '%s'" % (pairs_string(ls), n), reason="duplicate_label_names")
        last, idx = n, idx + 1
    return ls

# ---------------------------------------------------------------- limits
def humanize(n, base, sizes):  # github.com/dustin/go-humanize, humanateBytes
    if n < 10:
        return "%d B" % n
    e = 0
    while e + 1 < len(sizes) and n >= base ** (e + 1):
        e += 1
    val = int(n / base ** e * 10 + 0.5) / 10
    return ("%.1f %s" if val < 10 else "%.0f %s") % (val, sizes[e])

def ibytes(n):
    return humanize(n, 1024, ["B", "KiB", "MiB", "GiB", "TiB"])

def sibytes(n):
    return humanize(n, 1000, ["B", "kB", "MB", "GB", "TB"])

class Limiter:
    """pyroscope: pkg/distributor/distributor.go, New: limiter.NewRateLimiter(
    newGlobalRateStrategy(newIngestionRateStrategy(limits)), 10s): dskit's
    per-tenant golang.org/x/time/rate.Limiter (limit = ingestion-rate-limit-mb
    / healthy distributors, here 1; burst = ingestion-burst-size-mb).  A new
    bucket starts full; AllowN(now, n) takes n tokens only when n <= burst AND
    the bucket holds n (no waiting): so a profile whose labels+decompressed
    size exceeds the burst (2 MiB by default) is ALWAYS refused, whatever the
    rate.  A refused request takes no tokens.  Limit 0 (x/time/rate): only
    the burst, spent once, is ever allowed."""
    def __init__(self):
        self.limit, self.burst = A["distributor.ingestion-rate-limit-mb"] * MB, int(A["distributor.ingestion-burst-size-mb"] * MB)
        self.tokens, self.last = float(self.burst), None
    def allow(self, n, now):
        if self.limit == 0:
            ok = self.burst >= n
            self.burst -= n if ok else 0
            return ok
        tokens = self.tokens if self.last is None else min(self.burst, self.tokens + (now - self.last) * self.limit)
        tokens -= n
        wait_ns = int(-tokens / self.limit * 1e9) if tokens < 0 else 0  # durationFromTokens truncates
        if n <= self.burst and wait_ns <= 0:
            self.tokens, self.last = tokens, now
            return True
        return False

TENANTS = {}

def tenant_state(t):
    return TENANTS.setdefault(t, {"limiter": Limiter(), "series": {}})

def allow_series(tenant, key):
    """pyroscope: pkg/ingester/limiter.go, limiter.allowNewSeries and
    assertMaxSeriesPerUser: a known series refreshes its time; a new one is
    refused when the tenant already has minNonZero(local, global / healthy
    ingesters * replication factor (1 and 1 here)) active series.  Series
    idle for activeSeriesTimeout (10 min) are forgotten (cleanup runs every
    minute there; here on each check).  pkg/ingester/ingester.go,
    Ingester.Push: the refusal is connect CodeResourceExhausted."""
    series, now = tenant_state(tenant)["series"], time.time()
    for k in [k for k, t in series.items() if now - t > 600]:
        del series[k]
    loc, glob = A["ingester.max-local-series-per-tenant"], A["ingester.max-global-series-per-tenant"]
    limit = glob if loc == 0 or (glob != 0 and loc > glob) else loc
    if key not in series and limit and len(series) >= limit:
        raise PErr("Maximum active series limit exceeded (%d/%d), reduce the number of active streams (reduce labels or reduce label values), or contact your administrator to see if the limit can be increased" % (len(series), limit), code="resource_exhausted", reason="series_limit")
    series[key] = now

# ---------------------------------------------------------------- validation
def fmt_ms(ms):  # pyroscope: pkg/util/time.go, FormatTimeMillis (time.Time.String, UTC here)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000)) + (".%03d" % (ms % 1000)).rstrip("0").rstrip(".") + " +0000 UTC"

def validate_profile(p, ls, now_ms):
    """pyroscope: pkg/validation/validate.go, ValidateProfile, in its order."""
    M = lambda m: PErr(m, reason="malformed_profile")
    if not p.sample_type:
        raise M("empty profile")
    if p.time_nanos > 0:  # ingestionWindow.valid: strictly after from, strictly before to (ms)
        t = p.time_nanos // 1000000  # model.TimeFromUnixNano
        frm = now_ms - int(A["validation.reject-older-than"] * 1000) if A["validation.reject-older-than"] else 0
        to = now_ms + int(A["validation.reject-newer-than"] * 1000) if A["validation.reject-newer-than"] else 0
        if not ((frm == 0 or t > frm) and (to == 0 or t < to)):
            detail = ("the ingestion window starts at %s" % fmt_ms(frm) if to == 0 else
                      "the ingestion window ends at %s" % fmt_ms(to) if frm == 0 else
                      "the ingestion window starts at %s and ends at %s" % (fmt_ms(frm), fmt_ms(to)))
            raise PErr("profile with labels '%s' is outside of ingestion window (profile timestamp: %s, %s)" % (pairs_string(ls), fmt_ms(t), detail), reason="not_in_ingestion_window")
    else:
        p.time_nanos = now_ms * 1000000
    lim = A["validation.max-profile-size-bytes"]
    if lim and p.size > lim:
        raise PErr("the profile with labels '%s' exceeds the size limit (max_profile_size_byte, actual: %d, limit: %d)" % (pairs_string(ls), p.size, lim), reason="profile_size_limit")
    lim = A["validation.max-profile-stacktrace-samples"]
    if lim and len(p.samples) > lim:
        raise PErr("the profile with labels '%s' exceeds the samples count limit (max_profile_stacktrace_samples, actual: %d, limit: %d)" % (pairs_string(ls), len(p.samples), lim), reason="samples_limit")
    depth, nlab = A["validation.max-profile-stacktrace-depth"], A["validation.max-profile-stacktrace-sample-labels"]
    for s in p.samples:
        if depth and len(s["locs"]) > depth:  # truncated, not refused: locs[0] is the leaf, the leaves go
            s["locs"] = s["locs"][len(s["locs"]) - depth:]
        if nlab and len(s["labels"]) > nlab:
            raise PErr("the profile with labels '%s' exceeds the sample labels limit (max_profile_stacktrace_sample_labels, actual: %d, limit: %d)" % (pairs_string(ls), len(s["labels"]), nlab), reason="sample_labels_limit")
    sym = A["validation.max-profile-symbol-value-length"]
    if sym > 0:  # truncated to the last sym bytes (may cut a rune: then the UTF-8 check below refuses it)
        for i, x in enumerate(p.strings):
            b = x.encode("utf-8", "surrogateescape")
            if len(b) > sym:
                p.strings[i] = S(b[len(b) - sym:])
    if any(l["id"] == 0 for l in p.locations):
        raise M("location id is 0")
    if any(f["id"] == 0 for f in p.functions):
        raise M("function id is 0")
    if any(len(s["values"]) != len(p.sample_type) for s in p.samples):
        raise M("sample value length mismatch")
    n = len(p.strings)  # validateStringTableAccess
    if n == 0 or p.strings[0] != "":
        raise M("string 0 should be empty string")
    if any(t >= n for t, _ in p.sample_type):
        raise M("sample type type string index out of range")
    if any(l[1] >= n or l[0] >= n for s in p.samples for l in s["labels"]):
        raise M("sample label string index out of range")
    for f in p.functions:
        for k, what in (("name", "function name string index"), ("system_name", "function system name index string"), ("filename", "function file name string index")):
            if f[k] >= n:
                raise M(what + " out of range")
    for m in p.mappings:
        for k, what in (("filename", "mapping file name"), ("build_id", "mapping build id")):
            if m[k] >= n:
                raise M(what + " string index out of range")
    if any("-" in p.strings[t] for t, _ in p.sample_type):
        raise M("sample type contains -")
    for x in p.strings:
        if not utf8_ok(x):
            raise M("invalid utf8 string hex: %s" % x.encode("utf-8", "surrogateescape").hex())

def normalize(p):
    """pyroscope: pkg/pprof/pprof.go, Profile.Normalize and sanitizeProfile, the
    parts that change which samples remain: non-string sample labels dropped;
    samples with a negative value or only zeros dropped; samples with the same
    stack and labels merged; locations with no line and no address, or with a
    mapping or function id that does not exist, dropped with the samples that
    use them.  Returns what was dropped."""
    stats = {"zero_or_negative": 0, "duplicate": 0, "invalid_location": 0}
    for s in p.samples:
        s["labels"] = [l for l in s["labels"] if l[1] != 0]
    keep = []
    for s in p.samples:
        if any(v < 0 for v in s["values"]) or not any(v > 0 for v in s["values"]):
            stats["zero_or_negative"] += 1
        else:
            keep.append(s)
    merged = {}
    for s in keep:
        k = (tuple(s["locs"]), tuple(sorted(tuple(l) for l in s["labels"])))
        if k in merged:
            merged[k]["values"] = [a + b for a, b in zip(merged[k]["values"], s["values"])]
            stats["duplicate"] += 1
        else:
            merged[k] = s
    mids, fids = {m["id"] for m in p.mappings}, {f["id"] for f in p.functions}
    good = {l["id"] for l in p.locations if (l["lines"] or l["address"]) and (l["mapping"] == 0 or l["mapping"] in mids) and all(f in fids for f in l["lines"])}
    p.samples = []
    for s in merged.values():
        if all(x in good for x in s["locs"]):
            p.samples.append(s)
        else:
            stats["invalid_location"] += 1
    return stats

def split(p, labels):
    """pyroscope: pkg/model/pprofsplit/pprof_split.go, VisitSampleSeries: the
    profile_id label becomes span_id; samples are grouped by their labels less
    trace_id and span_id; each group's string labels join the series labels
    without overriding them (addSampleLabelsToLabelsBuilder); the default
    relabel rules run; groups that end with the same labels merge; each
    resulting label set goes through ValidateLabels.  Returns [(labels, samples)]."""
    rules = A["rules_position"] != "disabled"
    groups = {}
    for s in p.samples:
        key = tuple(sorted(tuple(l) for l in s["labels"] if p.s(l[0]) not in ("trace_id", "span_id", "profile_id")))
        groups.setdefault(key, []).append(s)
    if not groups or list(groups) == [()]:
        b = Builder(labels)
        if rules:
            default_relabel(b)
        return [(validate_labels(b.labels()), p.samples)] if p.samples else []
    kept = {}
    for key in sorted(groups):
        b = Builder(labels)
        for k, v, _, _ in key:
            if v > 0 and b.get(p.s(k)) == "":
                b.set(p.s(k), p.s(v))
        if rules:
            default_relabel(b)
        kept.setdefault(tuple(b.labels()), []).append(groups[key])
    out = []
    for ls, gs in kept.items():
        samples = gs[0]
        if len(gs) > 1:  # lazyGroup.addSampleGroup: same stack (and trace_id/span_id) across groups: values summed
            merged = {}
            for s in (s for g in gs for s in g):
                k = (tuple(s["locs"]),) + tuple(sorted((p.s(l[0]), l[1]) for l in s["labels"] if p.s(l[0]) in ("trace_id", "span_id", "profile_id")))
                if k in merged:
                    merged[k]["values"] = [a + b for a, b in zip(merged[k]["values"], s["values"])]
                else:
                    merged[k] = dict(s)
            samples = list(merged.values())
        out.append((validate_labels(list(ls)), samples))
    return out

# ---------------------------------------------------------------- the distributor
def push_series(tenant, labels, p, api, seq, out, pid=""):
    """pyroscope: pkg/distributor/distributor.go, Distributor.pushSeries.
    Appends each stored series to out (those stored before a refusal stay)."""
    now = time.time()
    if get(labels, "service_name") == "":  # AttrServiceNameFallback
        labels = labels + [("service_name", "unknown_service")]
    labels = sort_labels(labels)
    size = sum(blen(n) + blen(v) for n, v in labels) + p.size  # TotalBytesUncompressed
    if not tenant_state(tenant)["limiter"].allow(size, now):  # Distributor.rateLimit
        raise PErr("push rate limit (%s) exceeded while adding %s" % (ibytes(int(A["distributor.ingestion-rate-limit-mb"] * MB)), ibytes(size)), code="resource_exhausted", discard="rate_limited")
    try:
        validate_profile(p, labels, int(now * 1000))
    except PErr as e:
        raise PErr(e.msg, code="invalid_argument", reason=e.reason)
    normalize(p)
    if not p.samples:  # "Normalization may cause all profiles and series to be empty": accepted, nothing stored
        return
    labels = [l for l in labels if l[0] != "__session_id__"]  # limitMaxSessionsPerSeries(0): deleted
    try:  # Distributor.visitSampleSeries (both write paths run the same split and validation)
        series = split(p, labels)
    except PErr as e:
        raise PErr(e.msg, code="invalid_argument", reason=e.reason)
    for ls, samples in series:
        # pyroscope: pkg/phlaredb/labels/labels.go, CreateProfileLabels: one series
        # per sample type, __profile_type__ = name:type:unit:period_type:period_unit
        pt = p.period_type and [p.s(p.period_type[0]), p.s(p.period_type[1])] or ["", ""]
        types = ["%s:%s:%s:%s:%s" % (get(ls, "__name__"), p.s(t), p.s(u), pt[0], pt[1]) for t, u in p.sample_type]
        if A["write-path"] != "segment-writer":  # pkg/phlaredb/head.go, Head.Ingest: limiter.AllowProfile per type
            key = tuple(l for l in ls if l[0] not in ("__delta__", "__otel__", "__order__"))
            for t in types:
                allow_series(tenant, (key, t))
        out.append({"api": api, "tenant": tenant, "labels": dict(ls), "profile_types": types, "time_ns": p.time_nanos,
                    "samples": len(samples), "values": [sum(s["values"][i] for s in samples) for i in range(len(p.sample_type))],
                    "file": seq, "id": pid})
        log("series.jsonl", out[-1])

def push_batch(tenant, items, api):
    """pyroscope: pkg/distributor/distributor.go, Distributor.PushBatch: every
    series is tried; errors are gathered ("push series with index %d and id
    %s failed: %w"); the stored ones stay stored.  items: [(labels, Profile,
    raw bytes, id)].  Returns (stored series, errors, saved file seqs)."""
    if not items:
        return [], [PErr("no profiles received", code="invalid_argument")], []
    stored, errs, files = [], [], []
    for i, (labels, p, raw, pid) in enumerate(items):
        seq, before = "%06d" % (SEQ[0] + 1), len(stored)
        try:
            push_series(tenant, labels, p, api, seq, stored, pid)
        except PErr as e:
            errs.append(PErr("push series with index %d and id %s failed: %s" % (i, pid, e), e.code, e.reason, e.discard, inner=e))
            if len(stored) == before:
                continue
        SEQ[0] += 1
        os.makedirs(os.path.join(STATE, "profiles"), exist_ok=True)
        with open(os.path.join(STATE, "profiles", seq + (".pb.gz" if raw[:2] == b"\x1f\x8b" else ".pb")), "wb") as f:
            f.write(raw)
        files.append(seq)
    return stored, errs, files

def multi(errs):  # dskit multierror.MultiError.Error
    return ("%d errors: " % len(errs) if len(errs) > 1 else "") + "; ".join(str(e) for e in errs)

def distributor_push(tenant, series):
    """pyroscope: pkg/distributor/distributor.go, Distributor.Push.  Returns
    (stored, files, code, message, reason) as connect-go would answer it: the
    first Connect error's code and message (errors.As), else invalid_argument
    for a validation error (the deferred wrap), else unknown (a plain error)."""
    limit, body_limit, used = A["validation.max-profile-size-bytes"], int(A["distributor.ingestion-body-limit-mb"] * MB), 0
    items, errs = [], []
    for labels, samples in series:
        for raw, pid in samples:
            try:
                p = raw_from_bytes(raw, limit)
            except PErr as e:
                if e.reason == "size":
                    e = PErr("uncompressed profile payload size exceeds limit of %s" % sibytes(limit), reason="profile_size_limit")
                errs.append(e)
                continue
            used += p.size
            if body_limit > 0 and used > body_limit:
                return [], [], "invalid_argument", "uncompressed batched profile payload size exceeds limit of %s" % sibytes(body_limit), "body_size_limit_exceeded"
            items.append((labels, p, raw, pid))
    stored, files = [], []
    if items or not errs:
        stored, more, files = push_batch(tenant, items, "push")
        errs += more
    if not errs:
        return stored, files, "", "", ""
    reason = next((e.discard for e in errs if e.discard), "")
    coded = next((e for e in errs if e.code), None)
    if coded:
        return stored, files, coded.code, (coded.inner or coded).msg, reason
    return stored, files, ("invalid_argument" if reason else "unknown"), multi(errs), reason

# ---------------------------------------------------------------- /ingest
SAMPLE_TYPE_DISPLAY = {"samples": "cpu", "goroutine": "goroutines", "contentions": "mutex_count", "delay": "mutex_duration"}

def metric_name(p, stc):
    """pyroscope: pkg/og/convert/pprof/profile.go, RawProfile.metricName: "wall"
    if any sample type is wall; else from the first sample type (its
    display-name from sample_type_config, or tree.DefaultSampleTypeMapping)
    that says cpu / alloc_ inuse_ space objects / mutex_ / block_ /
    goroutines; else the last sample type's own name."""
    names = [p.s(t) for t, _ in p.sample_type]
    if "wall" in names:
        return "wall"
    st = ""
    for st in names:
        d = (stc.get(st) or {}).get("display-name") if stc is not None else SAMPLE_TYPE_DISPLAY.get(st)
        st = d or st
        for needle, m in (("cpu", "process_cpu"), ("alloc_", "memory"), ("inuse_", "memory"), ("mutex_", "mutex"), ("block_", "block"), ("goroutines", "goroutines")):
            if needle in st:
                return m
        if st in ("space", "objects"):
            return "memory"
    return st

def parse_labelset(name):
    """pyroscope: api/model/labelset/labelset.go, Parse, and validate.go: the
    service name (before "{", trimmed) of [A-Za-z0-9_.-/]; tag names of
    [A-Za-z0-9_.] (the reserved __name__ not checked, and it overrides the
    service name); values trimmed, unchecked."""
    labels, state, key, value = {}, 0, "", ""
    for r in name + "{":
        if state == 0:
            if r == "{":
                state, svc = 1, value.strip()
                if not svc:
                    raise PErr("service name is required")
                bad = next((c for c in svc if not (c.isascii() and (c.isalnum() or c in "_.-/"))), None)
                if bad:
                    raise PErr("invalid service name: %s: character is not allowed: %r" % (svc, bad))
                labels["__name__"] = svc
            else:
                value += r
        elif state == 1:
            if r == "}":
                state = 3
            elif r == "=":
                state, value = 2, ""
            else:
                key += r
        elif state == 2:
            if r in ",}":
                state, k = 1, key.strip()
                if k != "__name__":
                    if not k:
                        raise PErr("label name is required")
                    bad = next((c for c in k if not (c.isascii() and (c.isalnum() or c in "_."))), None)
                    if bad:
                        raise PErr("invalid label name: %s: character is not allowed: %r" % (k, bad))
                labels[k], key = value.strip(), ""
            else:
                value += r
    return labels

def at_time(s):  # pyroscope: pkg/og/util/attime/attime.go, Parse (digits only; "now-1h" etc. taken as now)
    s = s.strip().replace("_", "").replace(",", "").replace(" ", "")
    if re.fullmatch(r"\d+", s):
        v = int(s)
        if len(s) == 8:  # time.Parse("20060102") in UTC, year > 1900
            try:
                t = calendar.timegm(time.strptime(s, "%Y%m%d"))
                if t > calendar.timegm((1900, 12, 31, 0, 0, 0)):
                    return t
            except ValueError:
                pass
        return {13: v / 1e3, 16: v / 1e6, 19: v / 1e9}.get(len(s), v)
    return time.time()

def ingest(query, ctype, body, tenant):
    """pyroscope: pkg/ingester/pyroscope/ingest_handler.go, ingestHandler.ServeHTTP
    and ingest_adapter.go, pyroscopeIngesterAdapter.parseToPprof, with
    pkg/og/convert/pprof/profile.go, RawProfile.ParseToPprof.  Returns
    (status, code, message, reason, stored, files)."""
    q = {}
    for part in query.split("&"):  # url.ParseQuery: pairs with ';' are dropped; Get gives the first
        if part and ";" not in part:
            k, _, v = part.partition("=")
            q.setdefault(urllib.parse.unquote_plus(k, errors="replace"), urllib.parse.unquote_plus(v, errors="replace"))
    try:  # parseInputMetadataFromRequest
        ls = parse_labelset(q.get("name", ""))
    except PErr as e:
        return 400, "invalid_argument", "name: %s" % e, "", [], []
    start = at_time(q["from"]) if q.get("from") else time.time()
    spy = q.get("spyName") or "unknown"
    fmt = q.get("format", "")
    # readInputRawDataFromRequest: the cases in order
    if fmt in ("trie", "tree", "lines", "jfr", "speedscope") or ctype in ("binary/octet-stream+trie", "binary/octet-stream+tree") or (fmt != "pprof" and "multipart/form-data" not in ctype):
        return 422, "unknown", "stand-in: format %r (content type %r) is not implemented here; Pyroscope reads it with pkg/og/convert" % (fmt or "groups", ctype), "", [], []
    profile, stc = body, None
    if fmt != "pprof":  # RawProfile.loadPprofFromForm (pkg/og/util/form: File parts only)
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not m:
            return 422, "unknown", "parsing IngestInput-pprof failed failed to parse pprof /ingest multipart form malformed multipart content type header", "", [], []
        if b"--" + m.group(1).encode() not in body:  # multipart.Reader.ReadForm finds no part
            return 422, "unknown", "parsing IngestInput-pprof failed failed to parse pprof /ingest multipart form multipart: NextPart: EOF", "", [], []
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
        files = {}
        for part in (msg.iter_parts() if msg.is_multipart() else []):
            n, fn = part.get_param("name", header="content-disposition"), part.get_param("filename", header="content-disposition")
            if n and fn and n not in files:  # a part with no filename is a form value, which ReadField never reads
                files[n] = part.get_payload(decode=True) or b""
        profile = files.get("profile") or b""
        if files.get("prev_profile"):
            return 422, "unknown", "parsing IngestInput-pprof failed failed to parse pprof /ingest multipart form unsupported client version. Please update github.com/grafana/pyroscope-go to the latest version", "", [], []
        if files.get("sample_type_config"):
            try:
                stc = json.loads(files["sample_type_config"])
            except ValueError as e:
                return 422, "unknown", "parsing IngestInput-pprof failed failed to parse pprof /ingest multipart form %s" % e, "", [], []
            if not isinstance(stc, dict):
                return 422, "unknown", "parsing IngestInput-pprof failed failed to parse pprof /ingest multipart form json: cannot unmarshal into map", "", [], []
    if not profile:  # ParseToPprof: no series; parseToPprof: "empty profile", nil error
        return 200, "", "", "", [], []
    try:
        p = raw_from_bytes(profile, A["validation.max-profile-size-bytes"])
    except PErr as e:
        return 422, "unknown", "parsing IngestInput-pprof failed invalid_argument: %s" % e.msg, "", [], []
    if p.time_nanos == 0 or time.gmtime(p.time_nanos / 1e9).tm_year == 1970:  # fixTime
        p.time_nanos = int(start * 1e9)
    if spy == "dotnetspy" or (spy == "unknown" and stc is not None and stc.get("inuse-space") is not None):
        if all(f["id"] == 0 for f in p.functions) and len(p.functions) == len(p.locations):
            for f, loc in zip(p.functions, p.locations):  # FixFunctionIDForBrokenDotnet
                f["id"] = loc["id"]
        for st in p.sample_type:  # fixSampleTypes
            p.strings[st[0]] = p.strings[st[0]].replace("-", "_")
    # RawProfile.createLabels
    labels = [("__name__", metric_name(p, stc)), ("__delta__", "false"), ("pyroscope_spy", spy)]
    if "service_name" not in ls:
        labels.append(("service_name", ls.get("__name__", "")))
    labels += [(k, v) for k, v in ls.items() if not k.startswith("__") or k == "__session_id__"]  # IsLabelAllowedForIngestion
    stored, errs, files = push_batch(tenant, [(labels, p, profile, "")], "ingest")
    if not errs:
        return 200, "", "", "", stored, files
    # ServeHTTP: not an ingestion.Error, so 429 for CodeResourceExhausted, else 422;
    # httputil.ErrorWithStatus: code = connectgrpc.HTTPToCode(status), message = the whole chain
    status = 429 if next((e.code for e in errs if e.code), "") == "resource_exhausted" else 422
    return status, HTTP_TO_CODE.get(status, "unknown"), "pushing IngestInput-pprof failed " + multi(errs), next((e.discard for e in errs if e.discard), ""), stored, files

# pyroscope: pkg/util/connectgrpc/connectgrpc.go, HTTPToCode
HTTP_TO_CODE = {400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied", 404: "unimplemented", 412: "failed_precondition",
                413: "invalid_argument", 429: "resource_exhausted", 431: "resource_exhausted", 499: "canceled", 502: "unavailable", 503: "unavailable", 504: "deadline_exceeded"}
# connect-go: protocol_connect.go, connectCodeToHTTP
CODE_TO_HTTP = {"canceled": 499, "unknown": 500, "invalid_argument": 400, "deadline_exceeded": 504, "not_found": 404, "already_exists": 409,
                "permission_denied": 403, "resource_exhausted": 429, "failed_precondition": 400, "aborted": 409, "out_of_range": 400,
                "unimplemented": 501, "internal": 500, "unavailable": 503, "data_loss": 500, "unauthenticated": 401}

# ---------------------------------------------------------------- Connect
def parse_push_request(body, codec):
    """push.v1.PushRequest (api/push/v1/push.proto): series=1 {labels=1
    {name=1, value=2}, samples=2 {raw_profile=1, ID=2}}.  vtprotobuf's
    UnmarshalVT does not check UTF-8: bad strings reach ValidateLabels."""
    out = []
    if codec == "proto":
        for n, w, s in fields(body, "PushRequest"):
            if n == 1:
                labels, samples = [], []
                for n2, w2, x in fields(s, "RawProfileSeries"):
                    if n2 == 1:
                        f = {a: S(c) for a, b, c in fields(x, "LabelPair") if b == 2}
                        labels.append((f.get(1, ""), f.get(2, "")))
                    elif n2 == 2:
                        f = {a: c for a, b, c in fields(x, "RawSample") if b == 2}
                        samples.append((bytes(f.get(1, b"")), S(f.get(2, b""))))
                out.append((labels, samples))
        return out
    msg = json.loads(body or b"{}")  # protojson: json_name or proto name
    for s in msg.get("series") or []:
        labels = [(l.get("name", ""), l.get("value", "")) for l in s.get("labels") or []]
        samples = [(base64.b64decode(x.get("rawProfile", x.get("raw_profile", ""))), x.get("ID", "")) for x in s.get("samples") or []]
        out.append((labels, samples))
    return out

def canonical_header(k):  # Go's CanonicalMIMEHeaderKey, but X-Scope-OrgID as Pyroscope's docs write it
    k = "-".join(w.capitalize() for w in k.split("-"))
    return "X-Scope-OrgID" if k == "X-Scope-Orgid" else k

def log(name, obj):
    with open(os.path.join(STATE, name), "a") as f:
        f.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, code="", message="", headers=(), body=None, ctype=None):
        """Keeps the response, sent once the request is logged (a client that
        has its answer finds its line in requests.jsonl)."""
        if body is None:
            body = json.dumps({"code": code, "message": message}).encode() if code else b""
        headers = list(headers)
        if body or ctype:  # connect-go: a unary success carries the request's content type, errors application/json
            headers.append(("Content-Type", ctype or "application/json"))
        self.response = (status, headers + [("Content-Length", str(len(body)))], body)

    def send(self):
        status, headers, body = self.response
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                body += self.rfile.read(n)
                self.rfile.readline()
                if n == 0:
                    return body
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_GET(self):
        self.do_POST()

    def do_POST(self):
        body = self.read_body()
        url = urllib.parse.urlsplit(self.path)
        # pyroscope: pkg/api/api.go, API.RegisterDistributor: the routes (/ingest and /pyroscope/ingest: POST only)
        api = "push" if url.path == "/push.v1.PusherService/Push" else "ingest" if url.path in ("/ingest", "/pyroscope/ingest") else ""
        rec = {"api": api, "path": self.path, "status": 200, "code": "", "reason": "", "message": "", "series": 0,
               "file": None, "files": [], "ids": [], "control": None,
               "headers": {canonical_header(k): v for k, v in self.headers.items()}}
        if os.path.exists(os.path.join(STATE, "hang")):
            log("held", self.path)
            end = time.monotonic() + 20
            while os.path.exists(os.path.join(STATE, "hang")) and time.monotonic() < end:
                time.sleep(0.05)
        with LOCK:
            try:
                self.serve(api, url, body, rec)
            except Exception as e:  # pyroscope: pkg/util RecoverPanic: a panic becomes a plain error (unknown)
                import traceback
                traceback.print_exc()
                rec.update(status=500, code="unknown", message="stand-in failed: %r" % e)
                self.answer(500, "unknown", rec["message"])
            log("requests.jsonl", rec)
        self.send()

    def serve(self, api, url, body, rec):
        def refuse(status, code, message, reason="", headers=()):
            rec.update(status=status, code=code, message=message, reason=reason)
            self.answer(status, code, message, headers)
        if os.path.exists(os.path.join(STATE, "down")):
            log("refused", self.path)
            rec["control"] = "down"
            return refuse(503, "unavailable", "down: STATE_DIR/down exists")
        script = os.path.join(STATE, "script")
        if os.path.exists(script):
            with open(script) as f:
                lines = f.read().splitlines()
            if lines:
                with open(script, "w") as f:
                    f.write("".join(l + "\n" for l in lines[1:]))
                rec["control"] = "script"
                if api == "push":  # which profile the scripted answer was for (a retry has the same ID)
                    try:
                        rec["ids"] = [pid for _, samples in parse_push_request(body, "proto") for _, pid in samples]
                    except Exception:  # noqa: BLE001 - the answer is scripted anyway
                        pass
                if lines[0].strip() == "pass":  # this one is handled as usual
                    rec["control"] = None
                    return self.serve_real(api, url, body, rec, refuse)
                status = int(lines[0].split()[0])
                if status < 300:
                    rec["status"] = status
                    return self.answer(status)
                code = HTTP_TO_CODE.get(status) or {v: k for k, v in CODE_TO_HTTP.items()}.get(status, "unknown")
                return refuse(status, code, "scripted %d (STATE_DIR/script)" % status)
        return self.serve_real(api, url, body, rec, refuse)

    def serve_real(self, api, url, body, rec, refuse):
        if not api:
            return refuse(404, "", "")
        if self.command != "POST":  # connect-go handler.go ServeHTTP / pyroscope WithMethod("POST"): 405
            return refuse(405, "", "", headers=[("Allow", "POST")])
        tenant = "anonymous"  # pyroscope: pkg/tenant (multitenancy disabled: tenant.DefaultTenantID)
        if A["auth.multitenancy-enabled"]:
            tenant = self.headers.get("X-Scope-OrgID", "")
            if not tenant:  # dskit middleware.AuthenticateUser / the Connect auth interceptor
                return refuse(401, "unauthenticated", "no org id")
        if api == "ingest":
            if len(body) > A["distributor.ingestion-body-limit-mb"] * MB:  # WithBodySizeLimitMiddleware: http.MaxBytesReader
                return refuse(413, "invalid_argument", "request body too large", "body_size_limit_exceeded")
            status, code, message, reason, stored, files = ingest(url.query, self.headers.get("Content-Type", ""), body, tenant)
            rec.update(series=len(stored), files=files, file=files[0] if files else None)
            if status != 200:
                return refuse(status, code, message, reason)
            return self.answer(200)
        # connect-go: handler.go Handler.ServeHTTP and protocol_connect.go connectHandler.NewConn
        ctype = self.headers.get("Content-Type", "")
        ctype = ctype if re.fullmatch(r"[a-z.+\-]+/[a-z.+\-]+", ctype) else re.sub(r"\s*;\s*", "; ", ctype.lower())  # canonicalizeContentType
        codecs = {"application/proto": "proto", "application/json": "json", "application/json; charset=utf-8": "json"}
        if ctype not in codecs:  # 415 with Accept-Post, no body
            return refuse(415, "", "", headers=[("Accept-Post", "application/json, application/json; charset=utf-8, application/proto")])
        enc = self.headers.get("Content-Encoding", "")
        if enc not in ("", "identity", "gzip"):  # negotiateCompression (pyroscope: pkg/api/connect WithGzipHandler)
            return refuse(501, "unimplemented", 'unknown compression "%s": supported encodings are gzip' % enc)
        version = self.headers.get("Connect-Protocol-Version", "")
        if version not in ("", "1"):  # connectCheckProtocolVersion (the header is not required)
            return refuse(400, "invalid_argument", 'Connect-Protocol-Version must be "1": got "%s"' % version)
        if enc == "gzip":
            try:
                body = zlib.decompress(body, 31)
            except zlib.error as e:
                return refuse(400, "invalid_argument", "decompress: %s" % e)
        limit = int(A["distributor.ingestion-body-limit-mb"] * MB)  # pyroscope: pkg/api/connect_options.go WithReadMaxBytes
        if len(body) > limit:
            return refuse(429, "resource_exhausted", "message size %d is larger than configured max %d" % (len(body), limit))
        try:
            series = parse_push_request(body, codecs[ctype])
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            return refuse(400, "invalid_argument", "unmarshal message: %s" % e)
        rec["ids"] = [pid for _, samples in series for _, pid in samples]
        stored, files, code, message, reason = distributor_push(tenant, series)
        rec.update(series=len(stored), files=files, file=files[0] if files else None)
        if code:
            return refuse(CODE_TO_HTTP[code], code, message, reason)
        self.answer(200, body=b"{}" if codecs[ctype] == "json" else b"", ctype=ctype)

    def log_message(self, fmt, *args):
        pass

ThreadingHTTPServer.allow_reuse_address = True  # --port: a restart on a port in TIME_WAIT
srv = ThreadingHTTPServer(("127.0.0.1", A["port"]), Handler)
with open(os.path.join(STATE, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
srv.serve_forever()
