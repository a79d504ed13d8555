#!/usr/bin/env node
import dotenv from "dotenv";
import { createApp } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { serveStdio } from "./transports/stdio.js";
import { VERSION } from "./version.js";

const USAGE = `Usage: pilot-status-mcp [stdio|http]

  stdio   serve MCP over stdin/stdout (the default); needs PILOT_STATUS_API_KEY
  http    serve stateless streamable HTTP on HOST:PORT (POST /mcp)

Configuration comes from the environment (and a .env file); see README.md.`;

function fatal(message: string, code = 1): never {
  process.stderr.write(`pilot-status-mcp: ${message}\n`);
  process.exit(code);
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stderr.write(`${USAGE}\n`);
    return;
  }
  if (argv.includes("--version") || argv.includes("-v")) {
    process.stderr.write(`${VERSION}\n`);
    return;
  }
  const positional = argv.filter((a) => !a.startsWith("-"));
  if (positional.length > 1 || (positional[0] !== undefined && !["stdio", "http"].includes(positional[0]))) {
    fatal(`unknown command "${positional.join(" ")}"\n${USAGE}`, 2);
  }

  // .env fills in what the real environment lacks; quiet, because stdout belongs to JSON-RPC in stdio mode.
  dotenv.config({ quiet: true, override: false });
  const env = { ...process.env };
  if (positional[0] !== undefined) env.MCP_TRANSPORT = positional[0];

  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) fatal(error.message, 2);
    throw error;
  }

  if (config.transport === "stdio") {
    if (config.apiKey === undefined) {
      fatal("PILOT_STATUS_API_KEY is not set. The stdio server needs a Pilot Status API key (ps_…) in PILOT_STATUS_API_KEY.");
    }
    const app = createApp(config);
    await serveStdio({
      handler: app.handler,
      surface: app.surface,
      credentials: { apiKey: config.apiKey, apiKeyId: config.apiKeyId },
      logger: app.logger,
    });
    await app.close();
    app.logger.flush();
    return;
  }

  const { serveHttp } = await import("./transports/http.js");
  const app = createApp(config);
  await serveHttp(app);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  fatal(`unexpected failure: ${error instanceof Error ? error.message : String(error)}`);
});
