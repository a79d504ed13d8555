import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOOL_SPECS } from "../src/catalogue/tools.generated.js";
import { ENV_NAMES } from "../src/config.js";
import { REPO_ROOT, run } from "./helpers/package.js";
import { requireBuild } from "./helpers/stdio-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

// The Claude Desktop bundle: `npm run bundle`'s script builds it with Anthropic's packer; here the packer validates
// its manifest and unpacks it into an empty folder, and the entry point is started the way Claude Desktop starts
// it (the manifest's mcp_config with ${__dirname} and ${user_config.*} filled in) and driven with the SDK client.

const KEY = "ps_live_bundle_key_0001";
const KEY_ID = "k_bundle";
const MCPB = join(REPO_ROOT, "node_modules", ".bin", "mcpb");
const BUNDLE = join(REPO_ROOT, "dist", "pilot-status-mcp.mcpb");
const TIMEOUT = 120_000;

interface Manifest {
  name: string;
  version: string;
  icon: string;
  server: {
    type: string;
    entry_point: string;
    mcp_config: { command: string; args: string[]; env: Record<string, string> };
  };
  tools: Array<{ name: string }>;
  user_config: Record<string, { type: string; sensitive?: boolean; required?: boolean; default?: string | boolean }>;
}

let work: string;
let unpacked: string;
let manifest: Manifest;
let upstream: FakeUpstream;

beforeAll(async () => {
  requireBuild();
  await run(process.execPath, [join(REPO_ROOT, "scripts", "build-mcpb.mjs")], { cwd: REPO_ROOT });
  work = realpathSync(mkdtempSync(join(tmpdir(), "pilot-status-mcpb-")));
  unpacked = join(work, "unpacked");
  await run(MCPB, ["unpack", BUNDLE, unpacked], { cwd: work });
  manifest = JSON.parse(readFileSync(join(unpacked, "manifest.json"), "utf8")) as Manifest;
  upstream = await FakeUpstream.start((req) => ({
    status: 200,
    body: { id: req.path.split("/").at(-1), status: "read" },
  }));
}, TIMEOUT);
afterAll(async () => {
  await upstream?.close();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** What Claude Desktop does with mcp_config: ${__dirname} is the bundle's folder, ${user_config.x} the user's value. */
function launch(values: Record<string, string | boolean>): {
  command: string;
  args: string[];
  env: Record<string, string>;
} {
  const fill = (text: string): string =>
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the manifest's placeholder.
    text.replaceAll("${__dirname}", unpacked).replace(/\$\{user_config\.([a-z_]+)\}/g, (_all, key: string) => {
      const value = values[key] ?? manifest.user_config[key]?.default;
      if (value === undefined) throw new Error(`user_config.${key} has no value and no default`);
      return String(value);
    });
  const { command, args, env } = manifest.server.mcp_config;
  return {
    command: command === "node" ? process.execPath : command,
    args: args.map(fill),
    env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, fill(v)])),
  };
}

async function connect(values: Record<string, string | boolean>): Promise<Client> {
  const { command, args, env } = launch(values);
  const transport = new StdioClientTransport({
    command,
    args,
    // Claude Desktop's environment, not ours: the API URL points at the loopback fake.
    env: { PATH: process.env.PATH ?? "", PILOT_STATUS_API_URL: upstream.url, ...env },
    cwd: work,
    stderr: "pipe",
  });
  const client = new Client({ name: "claude-desktop-stand-in", version: "0.0.0" });
  await client.connect(transport);
  return client;
}

describe("the .mcpb bundle", () => {
  it("passes the packer's own manifest validation and holds only the server, its chunks, the icon and the licence", async () => {
    await run(MCPB, ["validate", join(unpacked, "manifest.json")], { cwd: work });
    const top = readdirSync(unpacked).sort();
    expect(top).toEqual(["LICENSE", "icon.png", "manifest.json", "server"]);
    expect(existsSync(join(unpacked, manifest.server.entry_point))).toBe(true);
    expect(existsSync(join(unpacked, manifest.icon))).toBe(true);
    expect(readFileSync(join(unpacked, manifest.icon)).subarray(1, 4).toString()).toBe("PNG");
    expect(existsSync(join(unpacked, "server", "node_modules"))).toBe(false); // every dependency is in the bundle
  });

  it("names the server, its stdio entry point, every tool, and settings that are real variables", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    expect(manifest).toMatchObject({
      name: "pilot-status-mcp",
      version: pkg.version,
      server: { type: "node", entry_point: "server/pilot-status-mcp.mjs" },
    });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the manifest's placeholder, checked verbatim.
    expect(manifest.server.mcp_config.args).toEqual(["${__dirname}/server/pilot-status-mcp.mjs", "stdio"]);
    expect(manifest.tools.map((t) => t.name)).toEqual(TOOL_SPECS.map((s) => s.name));
    expect(manifest.user_config.api_key).toMatchObject({ type: "string", sensitive: true, required: true });
    for (const name of Object.keys(manifest.server.mcp_config.env)) expect(ENV_NAMES, name).toContain(name);
    expect(Object.keys(manifest.server.mcp_config.env).sort()).toEqual([
      "PILOT_STATUS_API_KEY",
      "PILOT_STATUS_API_KEY_ID",
      "PILOT_STATUS_DRY_RUN",
      "PILOT_STATUS_EXCLUDE_TOOLS",
      "PILOT_STATUS_READ_ONLY",
      "PILOT_STATUS_TOOLSETS",
    ]);
    // Every optional setting has a default, so no ${user_config.…} placeholder is ever left unfilled.
    for (const [key, setting] of Object.entries(manifest.user_config))
      if (!setting.required) expect(setting.default, key).toBeDefined();
  });

  it(
    "starts from the unpacked folder as Claude Desktop starts it: every tool, and a call reaches the API with the key",
    async () => {
      upstream.reset();
      const client = await connect({ api_key: KEY, api_key_id: KEY_ID });
      try {
        expect((await client.listTools()).tools).toHaveLength(TOOL_SPECS.length);
        const result = await client.callTool({ name: "message_get", arguments: { messageId: "from_bundle" } });
        expect(result.isError ?? false, JSON.stringify(result)).toBe(false);
        expect(result.structuredContent).toEqual({ id: "from_bundle", status: "read" });
        expect(upstream.requests).toHaveLength(1);
        expect(upstream.requests[0]).toMatchObject({ method: "GET", path: "/v1/messages/from_bundle" });
        expect(upstream.requests[0]!.headers["x-api-key"]).toBe(KEY);
        expect(upstream.requests[0]!.headers["x-api-key-id"]).toBe(KEY_ID);
      } finally {
        await client.close();
      }
    },
    TIMEOUT,
  );

  it(
    "passes the tool-surface settings through: toolsets and dry run; no key id sent when left empty",
    async () => {
      upstream.reset();
      const client = await connect({ api_key: KEY, toolsets: "messaging", dry_run: true });
      try {
        const names = (await client.listTools()).tools.map((t) => t.name);
        expect(names).toEqual(TOOL_SPECS.filter((s) => s.toolset === "messaging").map((s) => s.name));
        expect(client.getInstructions()).toContain("DRY RUN IS ON");
        const send = await client.callTool({ name: "messages_send", arguments: { groupId: "1203@g.us", text: "oi" } });
        expect(send.structuredContent).toMatchObject({ dryRun: true, sent: false });
        expect(upstream.requests).toHaveLength(0);
        await client.callTool({ name: "message_get", arguments: { messageId: "m" } });
        expect(upstream.requests[0]!.headers["x-api-key-id"]).toBeUndefined();
      } finally {
        await client.close();
      }
      const readOnly = await connect({ api_key: KEY, read_only: true });
      try {
        const tools = (await readOnly.listTools()).tools;
        expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
        expect(tools.length).toBe(TOOL_SPECS.filter((s) => s.annotations.readOnlyHint).length);
      } finally {
        await readOnly.close();
      }
    },
    TIMEOUT,
  );
});
