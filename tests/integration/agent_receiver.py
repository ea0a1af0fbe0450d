#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""agent_receiver.py STATE_DIR: a stand-in for Pyroscope's POST /ingest,
bound to 127.0.0.1 only, for tests/integration/agent_windows.sh.

Writes its port to STATE_DIR/port.  Each request is checked as a Pyroscope
ingest request: query parameters name (SERVICE{k=v,...}), from, until,
format=pprof, sampleRate, spyName; a multipart/form-data body with a
"profile" part holding a gzip-compressed pprof.  A valid one is answered 200,
logged to STATE_DIR/received ("from until service labels header digest
types", the digest of the body, the pprof's sample types as type/unit
joined by ',') and its profile saved as STATE_DIR/profiles/FROM-SERVICE.pb.gz
(FROM-SERVICE.TYPE.pb.gz when the first sample type is not "samples": time
off the CPU); an invalid one is
answered 400 and logged to STATE_DIR/invalid.  While STATE_DIR/down exists
every request is answered 503 and counted in STATE_DIR/refused.  While
STATE_DIR/hang exists a request is held unanswered (up to 20 s) and logged
to STATE_DIR/held, then handled as usual: a server that stalls.
"""
import email.parser
import email.policy
import gzip
import hashlib
import os
import re
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

STATE = sys.argv[1]
NAME_RE = re.compile(r"^([^{}]+)\{([^{}]*)\}$")


def log(name, line):
    with open(os.path.join(STATE, name), "a") as f:
        f.write(line + "\n")


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if c < 0x80:
            return v, i


def fields(b):
    """Yields (field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(b, i)
        elif wire == 1:
            v, i = b[i:i + 8], i + 8
        elif wire == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wire == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        yield num, wire, v


def sample_types(raw):
    """profile.proto's sample_type (field 1) as ["type/unit", ...]."""
    types, strings = [], []
    for num, wire, v in fields(raw):
        if num == 1 and wire == 2:
            vt = {n: x for n, w, x in fields(v) if w == 0}
            types.append((vt.get(1, 0), vt.get(2, 0)))
        elif num == 6 and wire == 2:
            strings.append(v.decode())
    return ["%s/%s" % (strings[t], strings[u]) for t, u in types]


def check(path, headers, body):
    """Returns (from, until, service, labels) or raises ValueError."""
    url = urllib.parse.urlsplit(path)
    if url.path != "/ingest":
        raise ValueError("path %s" % url.path)
    q = urllib.parse.parse_qs(url.query, strict_parsing=True)
    one = {k: v[0] for k, v in q.items() if len(v) == 1}
    for k in ("name", "from", "until", "format", "sampleRate", "spyName"):
        if k not in one:
            raise ValueError("missing %s" % k)
    if one["format"] != "pprof" or one["spyName"] != "scorch":
        raise ValueError("format/spyName %s/%s" % (one["format"], one["spyName"]))
    m = NAME_RE.match(one["name"])
    if not m:
        raise ValueError("name %r" % one["name"])
    labels = dict(kv.split("=", 1) for kv in m.group(2).split(",") if kv)
    frm, until, rate = int(one["from"]), int(one["until"]), int(one["sampleRate"])
    if not (0 < frm <= until) or rate <= 0:
        raise ValueError("from/until/sampleRate %d/%d/%d" % (frm, until, rate))
    ctype = headers.get("Content-Type", "")
    if not ctype.startswith("multipart/form-data"):
        raise ValueError("content type %r" % ctype)
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    parts = {p.get_param("name", header="content-disposition"): p.get_payload(decode=True)
             for p in msg.iter_parts()}
    prof = parts.get("profile")
    if not prof or prof[:2] != b"\x1f\x8b":
        raise ValueError("no gzip 'profile' part (parts: %s)" % list(parts))
    raw = gzip.decompress(prof)
    if not raw or raw[0] not in (0x0a, 0x12, 0x1a, 0x22, 0x2a, 0x32):
        raise ValueError("profile does not look like profile.proto")
    types = sample_types(raw)
    if not types:
        raise ValueError("profile has no sample type")
    return frm, until, m.group(1), labels, prof, types


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if os.path.exists(os.path.join(STATE, "hang")):
            log("held", self.path)
            end = time.monotonic() + 20
            while os.path.exists(os.path.join(STATE, "hang")) and time.monotonic() < end:
                time.sleep(0.05)
        if os.path.exists(os.path.join(STATE, "down")):
            log("refused", self.path)
            self.send_response(503)
            self.end_headers()
            return
        try:
            frm, until, svc, labels, prof, types = check(self.path, self.headers, body)
        except Exception as e:  # noqa: BLE001 - any malformed request is a 400
            log("invalid", "%s %s" % (self.path, e))
            self.send_response(400)
            self.end_headers()
            return
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", svc)
        os.makedirs(os.path.join(STATE, "profiles"), exist_ok=True)
        kind = types[0].split("/")[0]
        kind = "" if kind == "samples" else "." + re.sub(r"[^A-Za-z0-9_]", "_", kind)
        with open(os.path.join(STATE, "profiles", "%d-%s%s.pb.gz" % (frm, safe, kind)), "wb") as f:
            f.write(prof)
        log("received", "%d %d %s %s %s %s %s" % (frm, until, safe,
                                                   ",".join("%s=%s" % kv for kv in sorted(labels.items())),
                                                   self.headers.get("X-Scope-OrgID", "-"),
                                                   hashlib.sha256(body).hexdigest()[:16], ",".join(types)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


srv = HTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(STATE, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(STATE, "port.tmp"), os.path.join(STATE, "port"))
srv.serve_forever()
