/** Host and Origin checks against the configured allow-lists (DNS-rebinding protection, DECISIONS #20). */

function splitHostPort(host: string): { hostname: string; port: string } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  return match ? { hostname: match[1]!, port: match[2] ?? "" } : { hostname: host.toLowerCase(), port: "" };
}

/** An entry without a port allows that host on any port; an entry with a port allows only that port. */
export function hostAllowed(hostHeader: string | undefined, allowed: readonly string[]): boolean {
  if (hostHeader === undefined || hostHeader === "") return false;
  const got = splitHostPort(hostHeader);
  return allowed.some((entry) => {
    const want = splitHostPort(entry);
    return want.hostname === got.hostname && (want.port === "" || want.port === got.port);
  });
}

/** Same rule for origins: scheme and host must match; a port-less entry allows any port. */
export function originAllowed(origin: string, allowed: readonly string[]): boolean {
  let got: URL;
  try {
    got = new URL(origin);
  } catch {
    return false;
  }
  return allowed.some((entry) => {
    let want: URL;
    try {
      want = new URL(entry);
    } catch {
      return false;
    }
    return want.protocol === got.protocol && want.hostname === got.hostname && (want.port === "" || want.port === got.port);
  });
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined, fresh: () => string): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SAFE_REQUEST_ID.test(value) ? value : fresh();
}
