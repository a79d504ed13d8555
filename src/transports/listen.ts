import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Starts `server` on host:port (0 = any free port) and gives its origin, `http://host:port` (IPv6 in brackets). */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
    server.listen(port, host);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}
