/**
 * The command line of pilot-status-mcp, read without side effects: the CLI (cli.ts) turns a UsageError into exit
 * status 2, and tests call this directly.
 */
import { TOOLSETS } from "./catalogue/types.js";
import { SERVER_NAME } from "./identity.js";

export const USAGE = `Usage: ${SERVER_NAME} [stdio|http] [options]

  stdio   serve MCP over stdin/stdout (the default); needs PILOT_STATUS_API_KEY
  http    serve stateless streamable HTTP on HOST:PORT (POST /mcp)

Options (each overrides its environment variable):
  --toolsets=a,b        PILOT_STATUS_TOOLSETS: ${TOOLSETS.join(", ")}
  --tools=a,b           PILOT_STATUS_TOOLS: tools to add (alone: only these)
  --exclude-tools=a,b   PILOT_STATUS_EXCLUDE_TOOLS: tools to leave out
  --read-only           PILOT_STATUS_READ_ONLY=true: only read-only tools
  --dry-run             PILOT_STATUS_DRY_RUN=true: tools that change something return the request, send nothing

Configuration comes from the environment (and a .env file); see README.md.`;

/** A command line the user must fix; the message says what, followed by the usage where that helps. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type Command =
  | { readonly action: "help" }
  | { readonly action: "version" }
  /** Serve, with these variables laid over the environment (MCP_TRANSPORT among them when a command is named). */
  | { readonly action: "serve"; readonly overrides: Readonly<Record<string, string>> };

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
 * `--name=value`, `--name value`, or a bare `--read-only`/`--dry-run`, and at most one command word. `--help` and
 * `--version` anywhere win over everything else, even over an unknown option.
 */
export function parseCommand(argv: readonly string[]): Command {
  if (argv.includes("--help") || argv.includes("-h")) return { action: "help" };
  if (argv.includes("--version") || argv.includes("-v")) return { action: "version" };
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
    if (variable === undefined) throw new UsageError(`unknown option ${name}\n${USAGE}`);
    if (BOOLEAN_FLAGS.has(name)) overrides[variable] = inline ?? "true";
    else if (inline !== undefined) overrides[variable] = inline;
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("-")) overrides[variable] = argv[++i]!;
    else throw new UsageError(`${name} needs a value, such as ${name}=messaging`);
  }
  if (positional.length > 1 || (positional[0] !== undefined && !["stdio", "http"].includes(positional[0]))) {
    throw new UsageError(`unknown command "${positional.join(" ")}"\n${USAGE}`);
  }
  if (positional[0] !== undefined) overrides.MCP_TRANSPORT = positional[0];
  return { action: "serve", overrides };
}
