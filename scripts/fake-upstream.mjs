#!/usr/bin/env node
// A stand-in for the Pilot Status API for scripts/ci-replicas.sh: answers JSON after a short random delay (so
// requests are in flight when a replica is stopped) and records every request, so the run can prove which request
// arrived, from which replica, with which key, and how many times.
//
//   node scripts/fake-upstream.mjs <port>        listens on 127.0.0.1:<port>
//
// Each replica is given PILOT_STATUS_API_URL=http://127.0.0.1:<port>/r<N>, so its requests arrive as /r<N>/v1/...
// GET /__stats returns { total, byReplica, requests: [{ replica, method, path, key, destination, messageId }] }.
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 0);
const requests = [];
const byReplica = {};

function send(res, status, body) {
  const payload = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
  res.end(payload);
}

const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const raw = Buffer.concat(chunks).toString("utf8");
  const path = (req.url ?? "/").split("?")[0];

  if (req.method === "GET" && path === "/__stats") {
    send(res, 200, { total: requests.length, byReplica, requests });
    return;
  }

  const match = /^\/(r\d+)(\/v1\/.*)$/.exec(path);
  if (!match) {
    send(res, 404, { error: "not found", path });
    return;
  }
  const [, replica, apiPath] = match;
  let body;
  try {
    body = raw === "" ? undefined : JSON.parse(raw);
  } catch {
    body = undefined;
  }
  const key = req.headers["x-api-key"] ?? null;
  const messageGet = /^\/v1\/messages\/([^/]+)$/.exec(apiPath);
  const record = {
    replica,
    method: req.method,
    path: apiPath,
    key,
    destination: body?.destinationNumber ?? null,
    messageId: req.method === "GET" && messageGet ? decodeURIComponent(messageGet[1]) : null,
    at: Date.now(),
  };
  requests.push(record);
  byReplica[replica] = (byReplica[replica] ?? 0) + 1;

  await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(Math.random() * 35)));
  // The key comes back as an API that quotes credentials would (the server must scrub it), and the caller's
  // identity as `owner`, a part of the key no scrubber knows, so a client can tell whose answer it got.
  const owner = typeof key === "string" ? key.replace(/^ps_live_/, "") : null;

  if (req.method === "POST" && apiPath === "/v1/messages/send") {
    send(res, 202, {
      success: true,
      status: "queued",
      id: `sent-${record.destination}`,
      destinationNumber: record.destination,
      key,
      owner,
    });
  } else if (record.messageId !== null) {
    send(res, 200, { id: record.messageId, status: "delivered", key, owner });
  } else {
    send(res, 200, { ok: true, key });
  }
});

server.keepAliveTimeout = 30_000;
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${server.address().port}` })}\n`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
