// SPDX-License-Identifier: MIT
// node connect_push.js BASE_URL CASE [PPROF_GZ]: a real Connect client
// (@connectrpc/connect + connect-node, message types built at run time with
// @bufbuild/protobuf v1, no code generation) calling push.v1.PusherService/Push
// as Grafana Alloy's pyroscope.write does.  Prints one JSON line:
// {"case", "ok", "code", "message"}, code the ConnectError's code name.
//
// CASE: valid         a CPU profile in scorch's shape (samples/count and
//                     cpu/nanoseconds, period cpu/nanoseconds), two processes
//                     told apart by the sample label "exe" (or PPROF_GZ as is)
//       offcpu        an off_cpu/nanoseconds profile, no period type
//       bad_utf8      no service_name label, invalid UTF-8 in the string table
//       old           time_nanos two hours ago
//       long_value    a series label value of 3000 characters
"use strict";
const zlib = require("node:zlib");
const fs = require("node:fs");
const { proto3, ScalarType, MethodKind } = require("@bufbuild/protobuf");
const { createPromiseClient, ConnectError, Code } = require("@connectrpc/connect");
const { createConnectTransport } = require("@connectrpc/connect-node");

const [baseUrl, which, pprofFile] = process.argv.slice(2);

// api/types/v1/types.proto and api/push/v1/push.proto
const LabelPair = proto3.makeMessageType("types.v1.LabelPair", [
  { no: 1, name: "name", kind: "scalar", T: ScalarType.STRING },
  { no: 2, name: "value", kind: "scalar", T: ScalarType.STRING },
]);
const RawSample = proto3.makeMessageType("push.v1.RawSample", [
  { no: 1, name: "raw_profile", kind: "scalar", T: ScalarType.BYTES },
  { no: 2, name: "ID", kind: "scalar", T: ScalarType.STRING },
]);
const RawProfileSeries = proto3.makeMessageType("push.v1.RawProfileSeries", [
  { no: 1, name: "labels", kind: "message", T: LabelPair, repeated: true },
  { no: 2, name: "samples", kind: "message", T: RawSample, repeated: true },
]);
const PushRequest = proto3.makeMessageType("push.v1.PushRequest", [
  { no: 1, name: "series", kind: "message", T: RawProfileSeries, repeated: true },
]);
const PushResponse = proto3.makeMessageType("push.v1.PushResponse", []);
const PusherService = {
  typeName: "push.v1.PusherService",
  methods: { push: { name: "Push", I: PushRequest, O: PushResponse, kind: MethodKind.Unary } },
};

// google/v1/profile.proto (the fields used here).  string_table is declared
// bytes, wire-identical to string, so that a test can put invalid UTF-8 in it.
const ValueType = proto3.makeMessageType("google.v1.ValueType", [
  { no: 1, name: "type", kind: "scalar", T: ScalarType.INT64 },
  { no: 2, name: "unit", kind: "scalar", T: ScalarType.INT64 },
]);
const Label = proto3.makeMessageType("google.v1.Label", [
  { no: 1, name: "key", kind: "scalar", T: ScalarType.INT64 },
  { no: 2, name: "str", kind: "scalar", T: ScalarType.INT64 },
]);
const Sample = proto3.makeMessageType("google.v1.Sample", [
  { no: 1, name: "location_id", kind: "scalar", T: ScalarType.UINT64, repeated: true },
  { no: 2, name: "value", kind: "scalar", T: ScalarType.INT64, repeated: true },
  { no: 3, name: "label", kind: "message", T: Label, repeated: true },
]);
const Line = proto3.makeMessageType("google.v1.Line", [
  { no: 1, name: "function_id", kind: "scalar", T: ScalarType.UINT64 },
]);
const Location = proto3.makeMessageType("google.v1.Location", [
  { no: 1, name: "id", kind: "scalar", T: ScalarType.UINT64 },
  { no: 4, name: "line", kind: "message", T: Line, repeated: true },
]);
const Func = proto3.makeMessageType("google.v1.Function", [
  { no: 1, name: "id", kind: "scalar", T: ScalarType.UINT64 },
  { no: 2, name: "name", kind: "scalar", T: ScalarType.INT64 },
]);
const Profile = proto3.makeMessageType("google.v1.Profile", [
  { no: 1, name: "sample_type", kind: "message", T: ValueType, repeated: true },
  { no: 2, name: "sample", kind: "message", T: Sample, repeated: true },
  { no: 4, name: "location", kind: "message", T: Location, repeated: true },
  { no: 5, name: "function", kind: "message", T: Func, repeated: true },
  { no: 6, name: "string_table", kind: "scalar", T: ScalarType.BYTES, repeated: true },
  { no: 9, name: "time_nanos", kind: "scalar", T: ScalarType.INT64 },
  { no: 10, name: "duration_nanos", kind: "scalar", T: ScalarType.INT64 },
  { no: 11, name: "period_type", kind: "message", T: ValueType },
  { no: 12, name: "period", kind: "scalar", T: ScalarType.INT64 },
]);

// A profile of two stacks main;work and main;idle, one sample per process.
function pprof({ offcpu = false, badString = false, timeNanos = BigInt(Date.now()) * 1000000n } = {}) {
  const strings = ["", "samples", "count", "cpu", "nanoseconds", "off_cpu", "main", "work", "idle", "exe", "/usr/bin/app", "/usr/bin/db"];
  const table = strings.map((s) => Buffer.from(s));
  if (badString) table[8] = Buffer.from([0x69, 0x64, 0xff, 0xfe]); // "id\xff\xfe": not UTF-8
  const s = (x) => BigInt(strings.indexOf(x));
  const types = offcpu ? [["off_cpu", "nanoseconds"]] : [["samples", "count"], ["cpu", "nanoseconds"]];
  const value = (n) => (offcpu ? [BigInt(n) * 1000000n] : [BigInt(n), BigInt(n) * 10101010n]);
  const p = new Profile({
    sampleType: types.map(([t, u]) => new ValueType({ type: s(t), unit: s(u) })),
    sample: [
      new Sample({ locationId: [2n, 1n], value: value(30), label: [new Label({ key: s("exe"), str: s("/usr/bin/app") })] }),
      new Sample({ locationId: [3n, 1n], value: value(12), label: [new Label({ key: s("exe"), str: s("/usr/bin/db") })] }),
    ],
    location: [1n, 2n, 3n].map((id) => new Location({ id, line: [new Line({ functionId: id })] })),
    function: ["main", "work", "idle"].map((n, i) => new Func({ id: BigInt(i + 1), name: s(n) })),
    stringTable: table,
    timeNanos: timeNanos,
    durationNanos: 10n * 1000000000n,
  });
  if (!offcpu) {
    p.periodType = new ValueType({ type: s("cpu"), unit: s("nanoseconds") });
    p.period = 10101010n;
  }
  return zlib.gzipSync(Buffer.from(p.toBinary()));
}

async function main() {
  let labels = [["__name__", "process_cpu"], ["service_name", "connectapp"], ["host", "ci"]];
  let raw;
  switch (which) {
    case "valid":
      raw = pprofFile ? fs.readFileSync(pprofFile) : pprof();
      break;
    case "offcpu":
      labels = [["__name__", "off_cpu"], ["service_name", "connectapp"], ["host", "ci"]];
      raw = pprof({ offcpu: true });
      break;
    case "bad_utf8":
      labels = [["__name__", "process_cpu"], ["host", "ci"]];
      raw = pprof({ badString: true });
      break;
    case "old":
      raw = pprof({ timeNanos: (BigInt(Date.now()) - 2n * 3600n * 1000n) * 1000000n });
      break;
    case "long_value":
      labels.push(["build", "x".repeat(3000)]);
      raw = pprof();
      break;
    default:
      throw new Error("unknown case " + which);
  }
  const transport = createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true });
  const client = createPromiseClient(PusherService, transport);
  const req = new PushRequest({
    series: [new RawProfileSeries({
      labels: labels.map(([name, value]) => new LabelPair({ name, value })),
      samples: [new RawSample({ rawProfile: raw, ID: "6d1c2a4e-0b7f-4c55-9d0e-3f1a2b3c4d5e" })],
    })],
  });
  try {
    await client.push(req, { headers: { "X-Scope-OrgID": "tenant-a" } });
    console.log(JSON.stringify({ case: which, ok: true, code: "", message: "" }));
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    // Code[e.code] is the enum's name (InvalidArgument); the wire name is snake case.
    const name = Code[e.code].replace(/[A-Z]/g, (c, i) => (i ? "_" : "") + c.toLowerCase());
    console.log(JSON.stringify({ case: which, ok: false, code: name, message: e.rawMessage }));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
