import { spawn, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INITIALIZE_2025, legacy } from "./helpers/messages.js";
import { CLI_PATH, requireBuild, serverEnv } from "./helpers/stdio-server.js";
import { FakeUpstream } from "./helpers/upstream.js";

// A client that closes its end of our stdout (it exited, or `| head` had read enough) ends the server quietly:
// exit status 0, one debug line, no stack trace, and calls already sent upstream are left to finish.

const lines = (messages: unknown[]): string => messages.map((m) => `${JSON.stringify(m)}\n`).join("");

let upstream: FakeUpstream;
beforeAll(async () => {
  requireBuild();
  upstream = await FakeUpstream.start();
});
afterAll(async () => upstream.close());

describe("stdout closed by the client", () => {
  it("`| head -c 100` : exit 0, one debug line, no EPIPE trace", () => {
    const input = lines([INITIALIZE_2025, ...Array.from({ length: 50 }, (_, i) => legacy("tools/list", {}, i + 2))]);
    const run = spawnSync(
      "bash",
      [
        "-c",
        `node "${CLI_PATH}" stdio 2>"$ERR_FILE" | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"; cat "$ERR_FILE"`,
      ],
      {
        input,
        env: serverEnv({
          PILOT_STATUS_API_KEY: "ps_epipe",
          PILOT_STATUS_API_URL: upstream.url,
          LOG_LEVEL: "debug",
          ERR_FILE: `/tmp/epipe-${process.pid}.err`,
        }),
        encoding: "utf8",
      },
    );
    const [status, ...stderr] = run.stdout.trim().split("\n");
    expect(status).toBe("0");
    expect(stderr.join("\n")).not.toMatch(/EPIPE.*\n\s+at |Unhandled|throw er/);
    const logged = stderr.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.filter((l) => l.msg === "stdout closed by the client: stopping once in-flight calls end")).toEqual([
      expect.objectContaining({ level: "debug", code: "EPIPE" }),
    ]);
  });

  it("lets a call already sent upstream finish before it exits", async () => {
    upstream.reset();
    let answered = 0;
    upstream.respond(async () => {
      await new Promise((resolve) => setTimeout(resolve, 600));
      answered = Date.now();
      return { status: 200, body: { ok: true } };
    });
    const child = spawn(process.execPath, [CLI_PATH, "stdio"], {
      env: serverEnv({ PILOT_STATUS_API_KEY: "ps_epipe", PILOT_STATUS_API_URL: upstream.url, LOG_LEVEL: "debug" }),
    });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.once("exit", (code) => resolve({ code, at: Date.now() })),
    );
    child.stdin.write(lines([INITIALIZE_2025]));
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.stdin.write(lines([legacy("tools/call", { name: "message_get", arguments: { messageId: "m_slow" } }, 2)]));
    while (upstream.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    child.stdout.destroy(); // the client goes away while the call is upstream
    child.stdin.write(lines([legacy("tools/list", {}, 3)])); // the answer to this one has nowhere to go
    const { code, at } = await exited;
    expect(code).toBe(0);
    expect(answered).toBeGreaterThan(0);
    expect(at).toBeGreaterThanOrEqual(answered);
    expect(upstream.requests.map((r) => r.path)).toEqual(["/v1/messages/m_slow"]);
    expect(stderr).not.toMatch(/Unhandled|throw er/);
    expect(stderr).toContain("stdout closed by the client");
  });
});
