#!/usr/bin/env node
import { existsSync } from "node:fs";
import { type App, createApp } from "./app.js";
import { type Command, parseCommand, USAGE, UsageError } from "./cli-args.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { SERVER_NAME, VERSION } from "./identity.js";
import { SelectionError } from "./registry/selection.js";
import { serveStdioApp } from "./transports/stdio.js";

/** Exit 2 for what the user must fix (usage, configuration, selection); 1 for anything unexpected. */
function fatal(message: string, code = 1): never {
  process.stderr.write(`${SERVER_NAME}: ${message}\n`);
  process.exit(code);
}

async function main(argv: readonly string[]): Promise<void> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (error instanceof UsageError) fatal(error.message, 2);
    throw error;
  }
  if (command.action === "help") {
    process.stderr.write(`${USAGE}\n`);
    return;
  }
  if (command.action === "version") {
    process.stderr.write(`${VERSION}\n`);
    return;
  }

  // .env fills in what the real environment lacks; quiet, because stdout belongs to JSON-RPC in stdio mode.
  // Loaded only when there is a file to read: most clients pass settings in the environment, and start-up counts.
  if (existsSync(".env")) (await import("dotenv")).default.config({ quiet: true, override: false });
  const env = { ...process.env, ...command.overrides };

  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) fatal(error.message, 2);
    throw error;
  }

  if (config.transport === "stdio") {
    if (config.apiKey === undefined) {
      fatal(
        "PILOT_STATUS_API_KEY is not set. The stdio server needs a Pilot Status API key (ps_…) in PILOT_STATUS_API_KEY.",
        2,
      );
    }
    await serveStdioApp(startApp(config), { apiKey: config.apiKey, apiKeyId: config.apiKeyId });
    return;
  }

  const { serveHttp } = await import("./transports/http/server.js");
  const app = startApp(config);
  await serveHttp(app);
}

function startApp(config: Config): App {
  try {
    return createApp(config);
  } catch (error) {
    if (error instanceof SelectionError) fatal(`invalid tool selection: ${error.message}`, 2);
    throw error;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  fatal(`unexpected failure: ${error instanceof Error ? error.message : String(error)}`);
});
