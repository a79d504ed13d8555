import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

/** The package's bin, as npx and Claude Desktop run it (the bundled CLI). */
export const CLI_PATH = fileURLToPath(new URL("../../dist/pilot-status-mcp.mjs", import.meta.url));

export function requireBuild(): void {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` (npm test does it first)`);
}

/** Environment for a spawned server: only what we set, so the developer's own .env and keys never leak in. */
export function serverEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...extra };
}

export interface StdioSession {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  stderr(): string;
  close(): Promise<void>;
}

/** Spawns the built binary like Claude Desktop would and connects the SDK's own client to it. */
export async function startStdioServer(env: Record<string, string>, args: string[] = ["stdio"]): Promise<StdioSession> {
  requireBuild();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_PATH, ...args],
    env: serverEnv(env),
    stderr: "pipe",
    // A directory without a .env file, so only the env above configures the server.
    cwd: fileURLToPath(new URL("../fixtures/", import.meta.url)),
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const client = new Client({ name: "pilot-status-mcp-tests", version: "0.0.0" });
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => stderr,
    close: () => client.close(),
  };
}
