#!/usr/bin/env node
import { existsSync } from "node:fs";
import { type App, createApp } from "./app.js";
import { TOOLSETS } from "./catalogue/types.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { SERVER_NAME, VERSION } from "./identity.js";
import { SelectionError } from "./registry/selection.js";
import { startMetricsServer } from "./transports/metrics-server.js";
import { serveStdio } from "./transports/stdio.js";

const USAGE = `Usage: ${SERVER_NAME} [stdio|http] [options]

  stdio   serve MCP over stdin/stdout (the default); needs PILOT_STATUS_API_KEY
  http    serve stateless streamable HTTP on HOST:PORT (POST /mcp)

Options (each overrides its environment variable):
  --toolsets=a,b        PILOT_STATUS_TOOLSETS: ${TOOLSETS.join(", ")}
  --tools=a,b           PILOT_STATUS_TOOLS: tools to add (alone: only these)
  --exclude-tools=a,b   PILOT_STATUS_EXCLUDE_TOOLS: tools to leave out
  --read-only           PILOT_STATUS_READ_ONLY=true: only read-only tools
  --dry-run             PILOT_STATUS_DRY_RUN=true: tools that change something return the request, send nothing

Configuration comes from the environment (and a .env file); see README.md.`;

/** Exit 2 for what the user must fix (usage, configuration, selection); 1 for anything unexpected. */
function fatal(message: string, code = 1): never {
  process.stderr.write(`pilot-status-mcp: ${message}\n`);
  process.exit(code);
}

const FLAG_ENV: Readonly<Record<string, string>> = {
  "--toolsets": "PILOT_STATUS_TOOLSETS",
  "--tools": "PILOT_STATUS_TOOLS",
  "--exclude-tools": "PILOT_STATUS_EXCLUDE_TOOLS",
  "--read-only": "PILOT_STATUS_READ_ONLY",
  "--dry-run": "PILOT_STATUS_DRY_RUN",
};

/** Flags that stand alone (meaning true) or take =true/=false. */
const BOOLEAN_FLAGS = new Set(["--read-only", "--dry-run"]);

/**
 * `--name=value`, `--name value`, or a bare `--read-only`/`--dry-run`; returns env overrides and the positional words.
 */
function parseArgs(argv: readonly string[]): { overrides: Record<string, string>; positional: string[] } {
  const overrides: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-")) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const variable = FLAG_ENV[name];
    if (variable === undefined) fatal(`unknown option ${name}\n${USAGE}`, 2);
    if (BOOLEAN_FLAGS.has(name)) overrides[variable] = inline ?? "true";
    else if (inline !== undefined) overrides[variable] = inline;
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("-")) overrides[variable] = argv[++i]!;
    else fatal(`${name} needs a value, such as ${name}=messaging`, 2);
  }
  return { overrides, positional };
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
  const { overrides, positional } = parseArgs(argv);
  if (positional.length > 1 || (positional[0] !== undefined && !["stdio", "http"].includes(positional[0]))) {
    fatal(`unknown command "${positional.join(" ")}"\n${USAGE}`, 2);
  }

  // .env fills in what the real environment lacks; quiet, because stdout belongs to JSON-RPC in stdio mode.
  // Loaded only when there is a file to read: most clients pass settings in the environment, and start-up counts.
  if (existsSync(".env")) (await import("dotenv")).default.config({ quiet: true, override: false });
  const env = { ...process.env, ...overrides };
  if (positional[0] !== undefined) env.MCP_TRANSPORT = positional[0];

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
    const app = startApp(config);
    const metrics =
      config.metricsPort === undefined
        ? undefined
        : await startMetricsServer(app.metrics, config.metricsPort, config.host, app.logger);
    await serveStdio({
      handler: app.handler,
      surface: app.surface,
      credentials: { apiKey: config.apiKey, apiKeyId: config.apiKeyId },
      logger: app.logger,
      whenIdle: () => app.client.warm(),
    });
    await metrics?.close();
    await app.close();
    app.logger.flush();
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
