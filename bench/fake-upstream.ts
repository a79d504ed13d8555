/**
 * The benchmark's stand-in for the Pilot Status API: a loopback server that answers every request at once with a
 * small, fixed JSON body (serialised once). It keeps nothing per request, so it stays flat under any load.
 *
 * Run alone: PORT=9001 npx tsx bench/fake-upstream.ts  (HOST defaults to 127.0.0.1)
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const MESSAGE = Buffer.from(
  JSON.stringify({
    id: "msg_1",
    status: "DELIVERED",
    destinationNumber: "+5511999999999",
    createdAt: "2025-01-01T00:00:00.000Z",
    sentAt: "2025-01-01T00:00:01.000Z",
    deliveredAt: "2025-01-01T00:00:02.000Z",
  }),
);
const SENT = Buffer.from(JSON.stringify({ id: "msg_2", correlationId: "corr_2", status: "QUEUED" }));
const OTHER = Buffer.from(JSON.stringify({ ok: true }));

const server = createServer((req, res) => {
  const body =
    req.method === "POST" && req.url === "/v1/messages/send"
      ? SENT
      : req.url?.startsWith("/v1/messages/")
        ? MESSAGE
        : OTHER;
  // Read (and drop) any request body before answering, as a real API does.
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening ${port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
