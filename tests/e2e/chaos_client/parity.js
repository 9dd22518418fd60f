"use strict";
/*
 * parity.js — toxiproxy behaviours users trip on, driven through
 * toxiproxy-node-client against `salvo chaos` (tests/e2e/test_chaos.py
 * runs it): PATCH updates (a bad PATCH changes nothing), toxicity 0 passes
 * bytes through unchanged (toxiproxy #603), and the packet_loss toxic
 * (loss_rate, correlation) drops its share of chunks.
 * Usage: node parity.js API_URL. The upstreams are servers of this script
 * on 127.0.0.1. Exits non-zero with a message on the first surprise.
 */
const net = require("net");
const crypto = require("crypto");
const { Toxiproxy } = require("toxiproxy-node-client");

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

/* An error or a JSON answer, readable. */
function show(v) {
  return v instanceof Error ? v.message : JSON.stringify(v);
}

/* A loopback server calling onConn(socket); resolves to its port. */
function serve(onConn) {
  return new Promise((resolve) => {
    const srv = net.createServer(onConn);
    srv.listen(0, "127.0.0.1", () => resolve({ srv, port: srv.address().port }));
  });
}

/* PATCH through the client's own HTTP layer; resolves to the parsed body or to the error. */
async function patch(tp, path, body) {
  try {
    return (await tp.getApi().request("PATCH", tp.host + path, body)).data;
  } catch (e) {
    return e;
  }
}

/* Sends data through the proxy to the echo upstream and resolves to what came back. */
function echoThrough(port, data, ms) {
  return new Promise((resolve) => {
    const chunks = [];
    const s = net.connect(port, "127.0.0.1", () => s.end(data));
    const timer = setTimeout(() => s.destroy(), ms);
    s.on("data", (c) => chunks.push(c));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

async function patchUpdates(tp, echoPort) {
  const p = await tp.createProxy({ name: "patch", listen: "127.0.0.1:0", upstream: `127.0.0.1:${echoPort}` });
  await p.addToxic({ type: "latency", name: "lat", stream: "upstream", toxicity: 1, attributes: { latency: 5 } });
  const t = await patch(tp, "/proxies/patch/toxics/lat", { toxicity: 0.5, attributes: { latency: 7 } });
  check(t.toxicity === 0.5 && t.attributes.latency === 7, "PATCH toxic: " + JSON.stringify(t));
  for (const bad of [{ toxicity: 2 }, { attributes: { latency: "soon" } }, { toxicity: 0.1, attributes: { latncy: 1 } }]) {
    const e = await patch(tp, "/proxies/patch/toxics/lat", bad);
    check(e instanceof Error && /status code 400/.test(e.message), "bad toxic PATCH " + JSON.stringify(bad) + " was accepted: " + show(e));
  }
  const read = await p.getToxic("lat");
  check(read.toxicity === 0.5 && read.attributes.latency === 7, "a bad PATCH changed the toxic: " + JSON.stringify(read.toJson()));
  const q = await patch(tp, "/proxies/patch", { enabled: false });
  check(q.enabled === false, "PATCH proxy: " + JSON.stringify(q));
  const bad = await patch(tp, "/proxies/patch", { enabled: true, upstream: "127.0.0.1:1", listen: 7 });
  check(bad instanceof Error && /status code 400/.test(bad.message), "a bad proxy PATCH was accepted: " + show(bad));
  const after = await tp.get("patch");
  check(after.enabled === false && after.upstream === `127.0.0.1:${echoPort}`, "a bad PATCH changed the proxy: " + JSON.stringify(after.toJson()));
  await p.remove();
}

async function toxicityZero(tp, echoPort) {
  const p = await tp.createProxy({ name: "zero", listen: "127.0.0.1:0", upstream: `127.0.0.1:${echoPort}` });
  const all = [
    ["latency", { latency: 1000 }], ["bandwidth", { rate: 1 }], ["slow_close", { delay: 2000 }],
    ["timeout", { timeout: 1 }], ["reset_peer", { timeout: 0 }], ["slicer", { average_size: 1, delay: 1000 }],
    ["limit_data", { bytes: 1 }], ["http_status", { status: 503 }], ["http_latency", { latency: 1000 }],
    ["http_cut", { bytes: 0 }], ["handshake", { delay: 2000 }], ["bandwidth_shared", { rate: 1 }],
    ["packet_loss", { loss_rate: 1 }],
  ];
  for (const [type, attributes] of all)
    for (const stream of ["upstream", "downstream"])
      await p.addToxic({ type, name: `${type}_${stream}`, stream, toxicity: 0, attributes });
  const port = Number(p.listen.split(":").pop());
  const bodies = [
    crypto.randomBytes(1 << 20),
    Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(200) + "\x00\xffnot http\r\n\r\n"),
    Buffer.from("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
  ];
  for (const body of bodies) {
    const back = await echoThrough(port, body, 4000);
    check(back.equals(body), `toxicity 0 changed the bytes: sent ${body.length}, got ${back.length} back`);
  }
  await p.remove();
}

/*
 * Sends `chunks` chunks of `size` bytes one at a time, each after the last
 * reached the sink or was given up on (5 ms: dropped), so each chunk is one
 * read of the proxy and one throw of its dice. Resolves to the chunks the sink got.
 */
async function lossThrough(port, sink, chunks, size) {
  sink.bytes = 0;
  const s = net.connect(port, "127.0.0.1");
  s.setNoDelay(true);
  s.on("error", () => {});
  await new Promise((r) => s.on("connect", r));
  const chunk = Buffer.alloc(size, 0x61);
  for (let i = 0; i < chunks; i++) {
    const before = sink.bytes, deadline = Date.now() + 5;
    s.write(chunk);
    while (sink.bytes === before && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 100));
  s.destroy();
  return sink.bytes / size;
}

async function packetLoss(tp, sinkPort, sink) {
  const p = await tp.createProxy({ name: "loss", listen: "127.0.0.1:0", upstream: `127.0.0.1:${sinkPort}` });
  const t = await p.addToxic({ type: "packet_loss", name: "loss", stream: "upstream", toxicity: 1, attributes: { loss_rate: 0.3, correlation: 0.2 } });
  check(t.attributes.loss_rate === 0.3 && t.attributes.correlation === 0.2, "packet_loss toxic: " + JSON.stringify(t.toJson()));
  const port = Number(p.listen.split(":").pop());
  const chunks = 2000, size = 100;
  const got = await lossThrough(port, sink, chunks, size);
  const dropped = 1 - got / chunks;
  console.log(`packet_loss loss_rate 0.3 correlation 0.2: ${(100 * dropped).toFixed(1)} % of ${chunks} chunks dropped`);
  /*
   * 2000 chunks keep this under 5 s; their standard error is 1.3 points, so
   * ± 5 is four of them. The ± 2 points over 20 000 chunks are the unit
   * test's (tests/unit/test_toxic.c, the same dice without sockets).
   */
  check(Math.abs(dropped - 0.3) <= 0.05, `dropped ${(100 * dropped).toFixed(1)} %, want 30 % ± 5`);
  await t.update({ attributes: { loss_rate: 0 } });
  const all = await lossThrough(port, sink, 500, size);
  check(all === 500, `loss_rate 0 dropped chunks: ${all} of 500 arrived`);
  await p.remove();
}

async function main() {
  const [api] = process.argv.slice(2);
  const tp = new Toxiproxy(api);
  const echo = await serve((s) => { s.on("error", () => {}); s.pipe(s); });
  const sink = { bytes: 0 };
  const sinkSrv = await serve((s) => { s.on("error", () => {}); s.on("data", (c) => { sink.bytes += c.length; }); });
  try {
    await patchUpdates(tp, echo.port);
    await toxicityZero(tp, echo.port);
    await packetLoss(tp, sinkSrv.port, sink);
  } finally {
    echo.srv.close();
    sinkSrv.srv.close();
  }
  console.log("toxiproxy parity: PATCH, toxicity 0, packet_loss: ok");
  process.exit(0);
}

main().catch((e) => {
  console.error("toxiproxy parity test failed: " + e.message);
  process.exit(1);
});
