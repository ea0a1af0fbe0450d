// SPDX-License-Identifier: MIT
// node nodejs_app.js SERVER_URL [SECONDS]: the real Pyroscope Node.js client
// (@pyroscope/nodejs, which POSTs /ingest?format=pprof with the gzip pprof as
// the whole body) profiling this process, app "nodeapp", tag env=ci, tenant
// tenant-n, flushing every second, while it burns CPU and allocates for
// SECONDS (default 4); then it stops the client, which sends its last profiles.
"use strict";
const Pyroscope = require("@pyroscope/nodejs");

const [serverAddress, seconds = "4"] = process.argv.slice(2);

Pyroscope.init({
  serverAddress,
  appName: "nodeapp",
  tags: { env: "ci" },
  tenantID: "tenant-n",
  flushIntervalMs: 1000,
  wall: { samplingDurationMs: 1000, samplingIntervalMicros: 1000 },
  heap: { samplingIntervalBytes: 16 * 1024 },
});
Pyroscope.start();

let keep = [];
function work() {
  // CPU: hashes of strings; heap: arrays kept alive for a while.
  let h = 0;
  for (let i = 0; i < 200000; i++) h = (h * 31 + String(i).length) | 0;
  keep.push(new Array(2000).fill(h));
  if (keep.length > 500) keep = keep.slice(250);
}

const end = Date.now() + Number(seconds) * 1000;
(function loop() {
  if (Date.now() < end) {
    work();
    setImmediate(loop);
    return;
  }
  Pyroscope.stop().then(() => {
    console.log("nodejs_app: stopped");
    process.exit(0);
  });
})();
