#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""receiver_log.py STATE_DIR: what pyroscope_receiver.py took, one line per
stored series, for the agent tests' greps and awks:

    TIME SERVICE NAME TENANT ID FILE LABELS TYPES

TIME the profile's time in Unix seconds, NAME the series' __name__, TENANT
the request's X-Scope-OrgID ("-" without), ID the request's profile ID (the
agent's UUID, the same for a resend), FILE the saved profile
(STATE_DIR/profiles/FILE), LABELS the other series labels sorted as k=v
joined by ',' (spaces and '%' in them percent-encoded, so that columns stay
columns), TYPES the profile type ids joined by ','.

receiver_log.py --check STATE_DIR exits 1, saying why, when a request was
answered anything but 200 other than by the test's controls (down,
script), or when one profile ID was accepted twice.
"""
import json
import os
import sys


def load(state, name):
    path = os.path.join(state, name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main():
    check = sys.argv[1] == "--check"
    state = sys.argv[-1]
    reqs = load(state, "requests.jsonl")
    if check:
        seen = {}
        for r in reqs:
            if r["status"] != 200 and not r.get("control"):
                sys.exit("refused: %s" % json.dumps(r))
            if r["status"] == 200:
                for i in r.get("ids") or []:
                    if i in seen:
                        sys.exit("profile %s accepted twice" % i)
                    seen[i] = r
        return
    by_file = {}
    for r in reqs:
        if r["status"] == 200:
            for n, f in enumerate(r.get("files") or []):
                by_file[f] = (r, (r.get("ids") or ["-"])[min(n, len(r.get("ids") or ["-"]) - 1)])
    for s in load(state, "series.jsonl"):
        r, pid = by_file.get(s["file"], ({}, "-"))
        labels = dict(s["labels"])
        name = labels.pop("__name__", "-")
        svc = labels.pop("service_name", "-")
        tenant = (r.get("headers") or {}).get("X-Scope-OrgID", "-")
        fname = next((s["file"] + ext for ext in (".pb.gz", ".pb")
                      if os.path.exists(os.path.join(state, "profiles", s["file"] + ext))), s["file"])
        enc = lambda v: v.replace("%", "%25").replace(" ", "%20")
        print("%d %s %s %s %s %s %s %s" % (s["time_ns"] // 10**9, svc, name, tenant, pid, fname,
                                           ",".join("%s=%s" % (k, enc(v)) for k, v in sorted(labels.items())) or "-",
                                           ",".join(s["profile_types"])))


main()
