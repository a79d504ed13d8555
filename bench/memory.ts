/** A process's memory, from /proc: its resident set now, its peak, and the peak over a stretch of time. */
import { readFileSync, writeFileSync } from "node:fs";

/** kB values from /proc/<pid>/status, or undefined when the process is gone. */
export function procStatus(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /VmRSS:\s+(\d+) kB/.exec(text)?.[1];
    const hwm = /VmHWM:\s+(\d+) kB/.exec(text)?.[1];
    if (rss === undefined || hwm === undefined) return undefined;
    return { rssKb: Number(rss), hwmKb: Number(hwm) };
  } catch {
    return undefined;
  }
}

/** Reset the kernel's peak-RSS mark (VmHWM) so it measures only what follows; false when not permitted. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS of a process over a stretch of time: VmHWM after a reset, and VmRSS polled as a fallback. */
export class PeakRss {
  private polledKb = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly reset: boolean;

  constructor(private readonly pid: number) {
    this.reset = resetPeak(pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), 50);
  }

  private sample(): void {
    const status = procStatus(this.pid);
    if (status) this.polledKb = Math.max(this.polledKb, status.rssKb);
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    const status = procStatus(this.pid);
    const hwm = this.reset && status ? status.hwmKb : 0;
    return Math.max(this.polledKb, hwm) / 1024; // MB
  }
}
