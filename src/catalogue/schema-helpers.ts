import * as z from "zod";

// Building blocks the generated catalogue uses, so its zod code stays short and its error texts uniform.

/** A string that must match `pattern`; the error says what it should look like, in words. */
export function patterned(pattern: string, hint: string): z.ZodString {
  return z.string().regex(new RegExp(pattern), { message: `must be ${hint}` });
}

// ISO 8601: a date, or a date and time with an optional offset (the API accepts both for its filters).
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

export function isoDateTime(): z.ZodString {
  return z.string().regex(ISO_8601, {
    message: "must be an ISO 8601 date or date-time such as 2026-01-31 or 2026-01-31T12:00:00Z",
  });
}

export function httpUrl(): z.ZodString {
  return z.string().regex(/^https?:\/\/[^\s]+$/i, { message: "must be an http:// or https:// URL" });
}
