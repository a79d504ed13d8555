import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { connectInProcessStdio, type InProcessStdio } from "./helpers/stdio-in-process.js";
import { FakeUpstream } from "./helpers/upstream.js";

// Bad arguments get an error that names the field and the rule, and nothing reaches the API. Over the stdio
// transport of src/, in process, with the SDK's client.

let upstream: FakeUpstream;
let session: InProcessStdio;

beforeAll(async () => {
  upstream = await FakeUpstream.start();
  session = await connectInProcessStdio({
    PILOT_STATUS_API_URL: upstream.url,
    PILOT_STATUS_API_KEY: "ps_validation_key",
  });
});
afterAll(async () => {
  await session?.close();
  await upstream?.close();
});
beforeEach(() => upstream.reset());

async function call(name: string, args: Record<string, unknown>) {
  const result = await session.client.callTool({ name, arguments: args });
  return { result, text: (result.content as Array<{ text: string }>)[0]!.text };
}

describe("argument validation", () => {
  it.each([
    ["messages_send", { text: "hi" }, /give exactly one destination: one of destinationNumber, groupId, newsletterId/],
    ["messages_send", { destinationNumber: "12", text: "hi" }, /destinationNumber: must be an E\.164 phone number/],
    ["messages_send", { destinationNumber: "+5511999999999" }, /give exactly one mode/],
    [
      "messages_send",
      { destinationNumber: "+5511999999999", text: "a", templateId: "t" },
      /give only one mode, not both templateId and text/,
    ],
    [
      "messages_send",
      { destinationNumber: "+5511999999999", groupId: "1@g.us", text: "a" },
      /give only one destination, not both destinationNumber and groupId/,
    ],
    [
      "messages_send",
      { destinationNumber: "+5511999999999", media: "https://x.test/a.png" },
      /media: mediaType is required with media/,
    ],
    [
      "messages_send",
      { destinationNumber: "+5511999999999", text: "a", caption: "c" },
      /caption: caption is only allowed with media/,
    ],
    [
      "messages_send",
      { destinationNumber: "+5511999999999", text: "a", phone: "x" },
      /unknown argument "phone" \(this tool takes: .*destinationNumber/,
    ],
    ["conversations_list", { pageSize: 500 }, /pageSize: .*<=100/],
    ["conversations_list", { page: "2" }, /page: expected number, received string/],
    ["conversations_list", { startDate: "yesterday" }, /startDate: must be an ISO 8601 date/],
    ["message_get", {}, /messageId: is required/],
    ["messages_cancel", { messageIds: [] }, /messageIds: .*>=1/],
    ["group_info", { groupId: "not-a-group" }, /groupId: must be a group JID ending in @g\.us/],
    ["billing_checkout", { purpose: "wallet_topup" }, /amount: amount is required when purpose is wallet_topup/],
    ["billing_checkout", { purpose: "gift" }, /purpose: .*expected one of/],
    ["numbers_check", { numbers: ["1"], number: "2" }, /give only one phone list/],
    ["branding_upsert", { primaryColor: "red" }, /primaryColor: must be a #RRGGBB color/],
    ["templates_create", { name: "x", body: "Hello" }, /examples: is required/],
    // Values that pass their schema but cannot travel where the API takes them:
    ["message_get", { messageId: "msg_\ud800" }, /messageId: must be valid Unicode text \(it holds a lone surrogate\)/],
    ["analytics_dashboard", { timezone: "America/\udc00" }, /timezone: must be valid Unicode text/],
    [
      "templates_list",
      { whatsappNumberId: "num_1\r\nx-api-key: ps_other" },
      /whatsappNumberId: must be printable ASCII, without line breaks .*x-whatsapp-number-id header/,
    ],
    ["templates_list", { whatsappNumberId: "número" }, /whatsappNumberId: must be printable ASCII/],
  ])("%s %j is refused", async (tool, args, message) => {
    const { result, text } = await call(tool, args);
    expect(result.isError).toBe(true);
    expect(text).toContain(`Invalid arguments for ${tool}; nothing was sent`);
    expect(text).toMatch(message);
    expect(upstream.requests).toHaveLength(0);
  });

  it("refuses a free-form argument nested more than 64 levels deep, naming it, and forwards 64 levels intact", async () => {
    const nest = (levels: number): Record<string, unknown> => {
      let value: Record<string, unknown> = { monday: ["09:00-18:00"] }; // the array is the innermost level
      for (let level = 2; level < levels; level++) value = { inner: value };
      return value;
    };
    const refused = await call("call_settings_update", { call_hours: nest(65) });
    expect(refused.result.isError).toBe(true);
    expect(refused.text).toContain("Invalid arguments for call_settings_update; nothing was sent");
    expect(refused.text).toContain("call_hours: must not nest objects or arrays more than 64 levels deep");
    expect(upstream.requests).toHaveLength(0);

    const sent = await call("call_settings_update", { call_hours: nest(64) });
    expect(sent.result.isError).toBeFalsy();
    expect(upstream.requests).toHaveLength(1);
    expect((upstream.requests[0]!.body as { call_hours: unknown }).call_hours).toEqual(nest(64));
  });

  it("refuses . and .. as path values and sends nothing", async () => {
    for (const messageId of [".", ".."]) {
      const { result, text } = await call("message_get", { messageId });
      expect(result.isError).toBe(true);
      expect(text).toContain('messageId: must not be empty, "." or ".."');
    }
    expect(upstream.requests).toHaveLength(0);
  });

  it("encodes every path value as one segment", async () => {
    await call("message_get", { messageId: "../numbers" });
    await call("templates_get", { templateId: "a/b?c#d e" });
    await call("group_info", { groupId: "120363025246125888@g.us" });
    expect(upstream.requests.map((r) => r.path)).toEqual([
      "/v1/messages/..%2Fnumbers",
      "/v1/templates/a%2Fb%3Fc%23d%20e",
      "/v1/groups/120363025246125888%40g.us",
    ]);
  });

  it("answers an unknown tool with JSON-RPC -32602", async () => {
    await expect(session.client.callTool({ name: "messages_delete_everything", arguments: {} })).rejects.toMatchObject({
      code: -32602,
    });
  });
});
