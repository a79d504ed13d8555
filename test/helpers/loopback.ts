import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";

export interface LoopbackServer {
  readonly url: string;
  /** Drops open sockets (keep-alive included) and stops listening. */
  close(): Promise<void>;
}

export interface LoopbackOptions {
  /** Serve HTTPS with this key and certificate; the URL then names `localhost` (what the certificate names). */
  readonly tls?: { readonly key: string; readonly cert: string };
}

/**
 * An HTTP (or HTTPS) server on 127.0.0.1 with a free port, for the fakes tests start in place of real services.
 * The handler gets the request body already read, as text.
 */
export async function listenOnLoopback(
  handle: (req: IncomingMessage, res: ServerResponse, rawBody: string) => void | Promise<void>,
  options: LoopbackOptions = {},
): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => void handle(req, res, Buffer.concat(chunks).toString("utf8")));
  };
  const server = options.tls === undefined ? createServer(onRequest) : createHttpsServer(options.tls, onRequest);
  server.on(options.tls === undefined ? "connection" : "secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: options.tls === undefined ? `http://127.0.0.1:${port}` : `https://localhost:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP port free on 127.0.0.1 right now (for servers started as child processes: tests and the bench). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
