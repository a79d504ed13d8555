/** Host and Origin checks against the configured allow-lists (DNS-rebinding protection, docs/decisions.md #20). */

function splitHostPort(host: string): { hostname: string; port: string } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase());
  return match ? { hostname: match[1]!, port: match[2] ?? "" } : { hostname: host.toLowerCase(), port: "" };
}

/**
 * A check of the Host header against the allow-list, which is parsed once here, at start-up. An entry without a
 * port allows that host on any port; an entry with a port allows only that port.
 */
export function hostMatcher(allowed: readonly string[]): (hostHeader: string | undefined) => boolean {
  const wanted = allowed.map(splitHostPort);
  const matches = (hostHeader: string): boolean => {
    const got = splitHostPort(hostHeader);
    return wanted.some((want) => want.hostname === got.hostname && (want.port === "" || want.port === got.port));
  };
  // A server sees a handful of Host values (its names, its balancer's), so the answers are remembered; the
  // bound keeps a client that sends a new Host each time from growing the memo.
  const seen = new Map<string, boolean>();
  return (hostHeader) => {
    if (hostHeader === undefined || hostHeader === "") return false;
    let allowedHost = seen.get(hostHeader);
    if (allowedHost === undefined) {
      allowedHost = matches(hostHeader);
      if (seen.size < 64) seen.set(hostHeader, allowedHost);
    }
    return allowedHost;
  };
}

/** The same rule for origins: scheme and host must match; a port-less entry allows any port. */
export function originMatcher(allowed: readonly string[]): (origin: string) => boolean {
  const wanted = allowed.flatMap((entry) => {
    try {
      return [new URL(entry)];
    } catch {
      return []; // an entry that is no URL matches nothing
    }
  });
  return (origin) => {
    let got: URL;
    try {
      got = new URL(origin);
    } catch {
      return false;
    }
    return wanted.some(
      (want) =>
        want.protocol === got.protocol &&
        want.hostname === got.hostname &&
        (want.port === "" || want.port === got.port),
    );
  };
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined, fresh: () => string): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SAFE_REQUEST_ID.test(value) ? value : fresh();
}
