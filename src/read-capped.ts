import type { Readable } from "node:stream";

/** The body went past the cap after `size` bytes; what was read is dropped, the stream is paused. */
export class OverCap {
  constructor(readonly size: number) {}
}

/** The deadline passed before the body ended; the stream is paused. */
export class PastDeadline {}

/**
 * A whole body, read into memory up to `limit` bytes and decoded as UTF-8 (both callers want the text; a string
 * also settles a promise more cheaply than a Buffer, whose long prototype chain is searched for a `then`): the one reader for both ends of the server (a request's
 * body on the HTTP transport, an answer's body from the API). Past the limit or the deadline it stops listening,
 * pauses the stream and says which, keeping nothing; what happens to the rest (drained, destroyed) is the
 * caller's choice. A stream error rejects.
 *
 * @param deadlineMs omitted: no deadline of its own (the HTTP server's timeouts bound a request's body).
 */
const ignore = (): void => undefined;

export function readCapped(stream: Readable, limit: number): Promise<string | OverCap>;
export function readCapped(
  stream: Readable,
  limit: number,
  deadlineMs: number,
): Promise<string | OverCap | PastDeadline>;
export function readCapped(
  stream: Readable,
  limit: number,
  deadlineMs?: number,
): Promise<string | OverCap | PastDeadline> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      // Until the caller drains or destroys the rest, a late stream error must not go unheard (it would throw).
      stream.on("error", ignore);
      chunks.length = 0;
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      stop();
      // Paused, so nothing more is read until the caller says: a stream left flowing with nobody listening
      // could keep the event loop busy reading into the void before the caller's continuation ever runs.
      stream.pause();
      resolve(new OverCap(size));
    };
    const onEnd = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString("utf8"));
    };
    const onError = (error: Error): void => {
      stop();
      reject(error);
    };
    if (deadlineMs !== undefined) {
      timer = setTimeout(() => {
        stop();
        stream.pause();
        resolve(new PastDeadline());
      }, deadlineMs);
    }
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
  });
}
