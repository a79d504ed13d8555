#!/usr/bin/env node
// `npm run bundle`: the Claude Desktop bundle, dist/pilot-status-mcp.mcpb, made with Anthropic's own packer (mcpb).
//
// The bundle is the built server (dist/pilot-status-mcp.mjs and its chunks: every dependency is inside, so no
// node_modules), the icon, and a manifest whose user_config asks for the API key (sensitive), the key id and the
// tool-surface settings, and passes them to the server as the environment variables config.ts reads. Claude
// Desktop runs it with its own Node, so it works where `npx` does not (Windows desktops without a Node install).
// Needs `npm run build` first. Prints the bundle's path.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STAGE = join(ROOT, "build", "mcpb"); // outside dist/: npm would publish a LICENSE found there
const OUTPUT = join(ROOT, "dist", "pilot-status-mcp.mcpb");
const MCPB = join(ROOT, "node_modules", ".bin", "mcpb");

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
if (!existsSync(join(ROOT, "dist", "pilot-status-mcp.mjs"))) {
  process.stderr.write("build-mcpb: dist/pilot-status-mcp.mjs is missing; run `npm run build` first\n");
  process.exit(2);
}
// The catalogue as built (names and titles for the manifest's tool list), and the toolsets it knows.
const { TOOL_SPECS } = await import(join(ROOT, "dist", "catalogue", "tools.generated.js"));
const { TOOLSETS } = await import(join(ROOT, "dist", "catalogue", "types.js"));
const { SERVER_NAME, SERVER_TITLE } = await import(join(ROOT, "dist", "identity.js"));

/** Each setting the user fills in, and the variable it becomes. Optional ones default to "" (config.ts: unset). */
const USER_CONFIG = {
  api_key: {
    env: "PILOT_STATUS_API_KEY",
    type: "string",
    title: "Pilot Status API key",
    description:
      "A ps_… key from your Pilot Status dashboard. A tenant key can act on every number; a number key on its own.",
    sensitive: true,
    required: true,
  },
  api_key_id: {
    env: "PILOT_STATUS_API_KEY_ID",
    type: "string",
    title: "API key id (optional)",
    description: "Only if your key comes with a key id; sent as x-api-key-id.",
    required: false,
    default: "",
  },
  toolsets: {
    env: "PILOT_STATUS_TOOLSETS",
    type: "string",
    title: "Toolsets (optional)",
    description: `Comma-separated toolsets to offer: ${TOOLSETS.join(", ")}. Empty: all.`,
    required: false,
    default: "",
  },
  exclude_tools: {
    env: "PILOT_STATUS_EXCLUDE_TOOLS",
    type: "string",
    title: "Tools to leave out (optional)",
    description: "Comma-separated tool names, such as messages_send,call_initiate.",
    required: false,
    default: "",
  },
  read_only: {
    env: "PILOT_STATUS_READ_ONLY",
    type: "boolean",
    title: "Read-only",
    description: "Offer only the tools that read; nothing can be sent, changed or deleted.",
    required: false,
    default: false,
  },
  dry_run: {
    env: "PILOT_STATUS_DRY_RUN",
    type: "boolean",
    title: "Dry run",
    description:
      "Tools that would send, change or delete show the exact request instead and send nothing; reads still run.",
    required: false,
    default: false,
  },
};

const manifest = {
  manifest_version: "0.3",
  name: SERVER_NAME,
  display_name: "Pilot Status (WhatsApp)",
  version: pkg.version,
  description:
    "Send and read WhatsApp messages, manage groups, channels, templates, numbers and voice calls through the Pilot Status API.",
  long_description: `${pkg.description} Every tool that sends or changes something is marked so, and the approval prompt stays yours; read-only mode and dry run are settings of the bundle.`,
  author: { name: SERVER_TITLE },
  license: pkg.license,
  keywords: pkg.keywords,
  icon: "icon.png",
  server: {
    type: "node",
    entry_point: "server/pilot-status-mcp.mjs",
    mcp_config: {
      command: "node",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder Claude Desktop fills in, not a template.
      args: ["${__dirname}/server/pilot-status-mcp.mjs", "stdio"],
      env: Object.fromEntries(
        Object.entries(USER_CONFIG).map(([key, setting]) => [setting.env, `\${user_config.${key}}`]),
      ),
    },
  },
  tools: TOOL_SPECS.map((spec) => ({ name: spec.name, description: spec.annotations.title })),
  tools_generated: false,
  compatibility: {
    platforms: ["darwin", "win32", "linux"],
    runtimes: { node: pkg.engines.node },
  },
  user_config: Object.fromEntries(
    Object.entries(USER_CONFIG).map(([key, { env: _env, ...setting }]) => [key, setting]),
  ),
};

rmSync(STAGE, { recursive: true, force: true });
mkdirSync(join(STAGE, "server"), { recursive: true });
cpSync(join(ROOT, "dist", "pilot-status-mcp.mjs"), join(STAGE, "server", "pilot-status-mcp.mjs"));
cpSync(join(ROOT, "dist", "chunks"), join(STAGE, "server", "chunks"), { recursive: true });
cpSync(join(ROOT, "assets", "icon.png"), join(STAGE, "icon.png"));
cpSync(join(ROOT, "LICENSE"), join(STAGE, "LICENSE"));
writeFileSync(join(STAGE, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);

execFileSync(MCPB, ["validate", join(STAGE, "manifest.json")], { stdio: ["ignore", "ignore", "inherit"] });
rmSync(OUTPUT, { force: true });
execFileSync(MCPB, ["pack", STAGE, OUTPUT], { stdio: ["ignore", "ignore", "inherit"] });
process.stdout.write(`${OUTPUT}\n`);
