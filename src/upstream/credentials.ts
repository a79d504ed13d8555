/**
 * What a caller presents to the Pilot Status API. It travels upstream untouched and is never logged or shown.
 * `x-api-key-id` alone is no credential (it names a key; it does not prove one).
 */
export interface Credentials {
  readonly apiKey?: string | undefined;
  readonly apiKeyId?: string | undefined;
  /** The caller's whole `Authorization: Bearer …` header value, as sent. */
  readonly authorization?: string | undefined;
}

export function credentialHeaders(c: Credentials): Record<string, string> {
  const headers: Record<string, string> = {};
  if (c.apiKey !== undefined) {
    headers["x-api-key"] = c.apiKey;
    if (c.apiKeyId !== undefined) headers["x-api-key-id"] = c.apiKeyId;
  }
  if (c.authorization !== undefined) headers.authorization = c.authorization;
  return headers;
}

const BEARER = /^Bearer\s+\S+$/i;

/** Credentials from incoming HTTP headers; undefined when the request carries none. */
export function credentialsFromHeaders(headers: {
  readonly [name: string]: string | string[] | undefined;
}): Credentials | undefined {
  const apiKey = single(headers["x-api-key"]);
  const authorization = single(headers.authorization);
  const bearer = authorization !== undefined && BEARER.test(authorization) ? authorization : undefined;
  if (apiKey === undefined && bearer === undefined) return undefined;
  return {
    apiKey,
    apiKeyId: apiKey === undefined ? undefined : single(headers["x-api-key-id"]),
    authorization: bearer,
  };
}

function single(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  const trimmed = v?.trim();
  return trimmed === undefined || trimmed === "" ? undefined : trimmed;
}
