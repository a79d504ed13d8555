import { maskPhoneNumbers, replaceValues, scrubCredentials } from "../log.js";
import { retryAfterMs } from "../upstream/client.js";

/**
 * The one error table: how an upstream answer that is not a success becomes words a model can act on.
 * Only our own text is unquoted; anything the API said is quoted, capped, scrubbed and labelled as the API's.
 */

const CODE_HINTS: Readonly<Record<string, string>> = {
  TEMPLATE_EXAMPLES_REQUIRED:
    "Pass `examples` with one real sample value for every template variable (the API lists the missing ones in details.missing).",
  MISSING_TEMPLATE_VARIABLES:
    "Pass a value for every variable of the template in `variables`; templates_get shows the variable names.",
  TENANT_SCOPE_NOT_ALLOWED:
    "This tool acts on one WhatsApp number: use a number-scoped key or pass whatsappNumberId (numbers_list shows the ids).",
  NUMBER_SCOPE_NOT_ALLOWED: "This tool needs a tenant-scoped key (account-level); a number-scoped key cannot use it.",
  SUBSCRIPTION_REQUIRED_FOR_MEDIA:
    "Sending media needs a paid Pilot Status subscription; send text or a template instead.",
  CONFIRMATION_REQUIRED:
    "This purchase changes the plan. Show the price preview to the user and call again with confirm: true only if they agree.",
  NOT_SUPPORTED_FOR_META: "This is not available on Meta (official WhatsApp Cloud API) numbers.",
  META_GROUPS_NOT_ELIGIBLE: "Groups on Meta numbers need an approved Official Business Account.",
  FEATURE_NOT_SUPPORTED: "The number's provider does not support this feature.",
  WHATSAPP_INSTANCE_NOT_CONNECTED:
    "The WhatsApp number is not connected: check numbers_status and reconnect it with numbers_connect.",
  INVALID_DATE_RANGE: "Use ISO 8601 dates, with startDate not after endDate.",
  NUMBER_NOT_FOUND:
    "That WhatsApp number is not in this account (or the key is bound to none): numbers_list shows the ids.",
  NUMBER_REQUIRED: "Choose the WhatsApp number with whatsappNumberId.",
  NUMBER_MISMATCH:
    "whatsappNumberId names another number than the one the key belongs to; omit it or use the key's own number.",
  TEMPLATE_NOT_FOUND: "No template with that id or name: templates_list shows the available ones.",
  WEBHOOK_NOT_FOUND: "No webhook with that id for this credential: webhooks_list shows the ids.",
  META_TEMPLATE_SUBMIT_FAILED: "Meta refused the template; adjust the content as the API message says and try again.",
  META_CALL_PERMISSION_REQUEST_LIMIT:
    "Meta's limit of call-permission requests to this user was reached; wait before asking again.",
  NUMBER_LIMIT_EXCEEDED: "The plan's number limit is reached: remove a number or buy an extra slot.",
  VALIDATION_ERROR: "The API found an argument invalid; correct it as the API message says.",
};

const STATUS_HINTS: Readonly<Record<number, string>> = {
  400: "The API refused the request as invalid; correct the arguments as its message says.",
  402: "This needs a paid Pilot Status subscription or enough balance.",
  403: "The credential is valid but not allowed to do this: check whether the tool needs a number-scoped or a tenant-scoped key, and, under OAuth, whether this number was granted.",
  404: "Not found within this credential's scope: check the id (the list tools return valid ids) and whatsappNumberId.",
  409: "The resource is not in a state that allows this right now.",
  422: "The API understood the request but could not process it; correct it as the message says.",
};

const MAX_QUOTED = 500;

/** Text the API wrote, for the model: scrubbed of the caller's credentials (secretValues), capped, quoted. */
export function quoteUntrusted(text: string, secrets: readonly string[], max = MAX_QUOTED): string {
  const clean = scrubCredentials(text, secrets).replace(/\s+/g, " ").trim();
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}

interface ApiErrorBody {
  code?: string;
  error?: string;
  details?: unknown;
}

const API_CODE = /^[A-Z0-9_]{1,64}$/;

export function parseErrorBody(text: string): ApiErrorBody {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
    const v = value as Record<string, unknown>;
    return {
      // Only a code shaped like one: it is shown unquoted, so it must be ours to trust.
      code: typeof v.code === "string" && API_CODE.test(v.code) ? v.code : undefined,
      error: typeof v.error === "string" ? v.error : typeof v.message === "string" ? v.message : undefined,
      details: v.details,
    };
  } catch {
    return {};
  }
}

/** Text for a 4xx answer (401 has its own path; 5xx is "unavailable"). */
export function clientErrorText(
  status: number,
  bodyText: string,
  retryAfter: string | undefined,
  secrets: readonly string[],
): string {
  const body = parseErrorBody(bodyText);
  const code = body.code;
  const lines = [`Pilot Status API error: HTTP ${status}${code ? ` ${code}` : ""}.`];
  if (body.error !== undefined) lines.push(`API message (quoted): ${quoteUntrusted(body.error, secrets)}`);
  if (body.details !== undefined)
    lines.push(`API details (quoted): ${quoteUntrusted(JSON.stringify(body.details), secrets, 1000)}`);
  if (status === 429) {
    const waitMs = retryAfterMs(retryAfter);
    const wait = waitMs === undefined ? undefined : Math.ceil(waitMs / 1000);
    lines.push(
      wait === undefined
        ? "Hint: rate limited by the Pilot Status API; wait a little before calling again."
        : `Hint: rate limited by the Pilot Status API; wait ${wait} seconds before calling again.`,
    );
    return lines.join("\n");
  }
  const hint = (code && CODE_HINTS[code]) ?? STATUS_HINTS[status];
  if (hint) lines.push(`Hint: ${hint}`);
  return lines.join("\n");
}

const LOGGED_ERROR_CHARS = 200;

/**
 * What the log keeps of an upstream answer the model does not see (docs/decisions.md #32): the API's `code` and
 * the start of its `error` text, scrubbed of credentials, of the call's own argument values and of anything that
 * looks like a phone number. Never the body itself: it can quote the request, and the request is the user's.
 */
export function upstreamForLog(
  bodyText: string,
  secrets: readonly string[],
  argumentValues: readonly string[],
): { code?: string; error?: string; bodyChars: number } {
  const body = parseErrorBody(bodyText);
  const out: { code?: string; error?: string; bodyChars: number } = { bodyChars: bodyText.length };
  if (body.code !== undefined) out.code = body.code;
  if (body.error !== undefined) {
    const scrubbed = scrubCredentials(body.error, secrets);
    const text = maskPhoneNumbers(replaceValues(scrubbed, argumentValues, "[argument]"))
      .replace(/\s+/g, " ")
      .trim();
    out.error = text.length > LOGGED_ERROR_CHARS ? `${text.slice(0, LOGGED_ERROR_CHARS)}…` : text;
  }
  return out;
}

export function unavailableText(status?: number): string {
  return status === undefined
    ? "Pilot Status API unavailable: the request did not complete. Try again later."
    : `Pilot Status API unavailable (HTTP ${status}). Try again later.`;
}

export const UNAUTHORIZED_TEXT =
  "Pilot Status API rejected the credentials (HTTP 401). Check that PILOT_STATUS_API_KEY holds a valid, active key (ps_…); for OAuth, sign in again.";
