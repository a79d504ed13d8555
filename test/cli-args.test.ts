import { describe, expect, it } from "vitest";
import { parseCommand, USAGE, UsageError } from "../src/cli-args.js";

// The command line, read in process: what each flag sets, and the usage errors the CLI turns into exit status 2
// (the exit status itself is checked on the built bin, in test/bin.test.ts).

const serve = (argv: string[]) => {
  const command = parseCommand(argv);
  if (command.action !== "serve") throw new Error(`expected serve, got ${command.action}`);
  return command.overrides;
};

const usageError = (argv: string[]): string => {
  try {
    parseCommand(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
};

describe("parseCommand", () => {
  it("names no transport when no command is given, so MCP_TRANSPORT (or stdio) decides", () => {
    expect(serve([])).toEqual({});
  });

  it.each(["stdio", "http"])("%s sets MCP_TRANSPORT", (word) => {
    expect(serve([word])).toEqual({ MCP_TRANSPORT: word });
  });

  it.each<[string[], Record<string, string>]>([
    [["--toolsets=channels"], { PILOT_STATUS_TOOLSETS: "channels" }],
    [["--tools", "message_get"], { PILOT_STATUS_TOOLS: "message_get" }],
    [["--exclude-tools=a,b"], { PILOT_STATUS_EXCLUDE_TOOLS: "a,b" }],
    [["--tools="], { PILOT_STATUS_TOOLS: "" }],
    [["--toolsets=a=b"], { PILOT_STATUS_TOOLSETS: "a=b" }],
    [["--read-only"], { PILOT_STATUS_READ_ONLY: "true" }],
    [["--read-only=false"], { PILOT_STATUS_READ_ONLY: "false" }],
    [["--dry-run"], { PILOT_STATUS_DRY_RUN: "true" }],
    // A boolean flag never takes the next word: it stays the command.
    [["--dry-run", "stdio"], { PILOT_STATUS_DRY_RUN: "true", MCP_TRANSPORT: "stdio" }],
    [
      ["stdio", "--toolsets=channels", "--tools", "message_get"],
      { MCP_TRANSPORT: "stdio", PILOT_STATUS_TOOLSETS: "channels", PILOT_STATUS_TOOLS: "message_get" },
    ],
  ])("%j sets %j", (argv, overrides) => {
    expect(serve(argv)).toEqual(overrides);
  });

  it.each([["--help"], ["-h"], ["http", "--bogus", "--help"]])("%j asks for the usage", (...argv) => {
    expect(parseCommand(argv)).toEqual({ action: "help" });
  });

  it.each([["--version"], ["-v"], ["stdio", "-v"]])("%j asks for the version", (...argv) => {
    expect(parseCommand(argv)).toEqual({ action: "version" });
  });

  it("refuses an unknown option, with the usage", () => {
    expect(usageError(["stdio", "--toolset=calls"])).toBe(`unknown option --toolset\n${USAGE}`);
  });

  it.each([["--tools"], ["--toolsets", "--read-only"]])("refuses %j without its value", (...argv) => {
    expect(usageError(argv)).toBe(`${argv[0]} needs a value, such as ${argv[0]}=messaging`);
  });

  it.each([["serve"], ["stdio", "http"]])("refuses the command %j, with the usage", (...argv) => {
    expect(usageError(argv)).toBe(`unknown command "${argv.join(" ")}"\n${USAGE}`);
  });

  it("lists every flag in the usage", () => {
    for (const flag of ["--toolsets", "--tools", "--exclude-tools", "--read-only", "--dry-run"])
      expect(USAGE).toContain(flag);
  });
});
