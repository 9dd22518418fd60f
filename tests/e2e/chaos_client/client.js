"use strict";
/*
 * client.js — drives `salvo chaos` through toxiproxy-node-client, the npm
 * client of toxiproxy, to show that an existing toxiproxy client works
 * unchanged: create a proxy, add, read, update and remove a toxic, disable
 * and reset, populate, delete. Usage: node client.js API_URL UPSTREAM.
 * Exits non-zero with a message on the first surprise.
 */
const { Toxiproxy } = require("toxiproxy-node-client");

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function status(url) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await r.text();
    return r.status;
  } catch (e) {
    return "error: " + (e.cause ? e.cause.code : e.message);
  }
}

async function main() {
  const [api, upstream] = process.argv.slice(2);
  const tp = new Toxiproxy(api);
  const version = await tp.getVersion();
  check(JSON.parse(version).version, "version: " + version);

  const proxy = await tp.createProxy({ name: "npm", listen: "127.0.0.1:0", upstream });
  check(proxy.enabled && !proxy.listen.endsWith(":0"), "createProxy: " + JSON.stringify(proxy.toJson()));
  const url = `http://${proxy.listen}/`;
  check((await status(url)) === 200, "through the new proxy");

  const toxic = await proxy.addToxic({ type: "http_status", name: "down", toxicity: 1, attributes: { status: 503 } });
  check(toxic.name === "down" && toxic.stream === "downstream", "addToxic: " + JSON.stringify(toxic.toJson()));
  check((await status(url)) === 503, "http_status toxic should answer 503");
  const read = await proxy.getToxic("down");
  check(read.attributes.status === 503, "getToxic: " + JSON.stringify(read.toJson()));
  const updated = await toxic.update({ toxicity: 0, attributes: { status: 503 } });
  check(updated.toxicity === 0, "update: " + JSON.stringify(updated.toJson()));
  check((await status(url)) === 200, "toxicity 0 should let requests through");
  await toxic.remove();

  const all = await tp.getAll();
  check(all.npm && all.npm.upstream === upstream, "getAll: " + Object.keys(all));
  const off = await proxy.update({ enabled: false, listen: proxy.listen, upstream });
  check(off.enabled === false, "disable: " + JSON.stringify(off.toJson()));
  const refused = await status(url);
  check(String(refused).includes("ECONNREFUSED"), "a disabled proxy should refuse: " + refused);
  await tp.reset();
  check((await tp.get("npm")).enabled === true, "reset should enable the proxy");
  check((await status(url)) === 200, "after reset the proxy should pass requests");

  const pop = await tp.populate([{ name: "npm2", listen: "127.0.0.1:0", upstream }]);
  check(pop.npm2 && pop.npm2.enabled, "populate: " + Object.keys(pop));
  await pop.npm2.remove();
  await proxy.remove();
  const left = await tp.getAll();
  check(!left.npm && !left.npm2, "remove: " + Object.keys(left));
  console.log("toxiproxy-node-client: create, toxics, update, disable, reset, populate, remove: ok");
}

main().catch((e) => {
  console.error("toxiproxy-node-client test failed: " + e.message);
  process.exit(1);
});
