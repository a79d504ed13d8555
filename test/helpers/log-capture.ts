import { Writable } from "node:stream";

export type LogLine = Record<string, unknown>;

export interface LogCapture {
  /** Give this to createLogger as its destination. */
  readonly sink: Writable;
  /** Every log line written so far, parsed. */
  readonly logs: LogLine[];
  /** Everything written so far, as text: to look for a secret anywhere in the log. */
  raw(): string;
}

/** A log destination that keeps what the server logs (JSON lines), for tests to assert on. */
export function captureLogs(): LogCapture {
  const logs: LogLine[] = [];
  let raw = "";
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString("utf8");
      raw += text;
      for (const line of text.split("\n")) if (line.trim() !== "") logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { sink, logs, raw: () => raw };
}
