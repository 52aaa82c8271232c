/**
 * A one-line progress bar on stderr for batches in a terminal: files done /
 * total, rate, ETA, changed and errors so far. Off when stderr is not a TTY
 * (CI logs, pipes, pre-commit), for `TERM=dumb`, and for small batches, where
 * it would only flicker. Other output goes through `log` so the bar is
 * cleared first and redrawn after, and never interleaves with it.
 */
type Writable = NodeJS.WritableStream;

/** Batches with fewer files than this get no bar. */
export const PROGRESS_MIN_FILES = 8;
const REDRAW_MS = 80;

export interface Progress {
  /** One more file done. */
  tick(status: "changed" | "unchanged" | "skipped" | "error"): void;
  /** Writes text to a stream without tearing the bar. */
  log(stream: Writable, text: string): void;
  /** Clears the bar for good. */
  stop(): void;
}

export interface ProgressTarget {
  readonly stream: Writable;
  readonly isTTY: boolean;
  /** Terminal width, when known. */
  readonly columns?: number;
}

export function shouldShowProgress(target: ProgressTarget, total: number, env = process.env): boolean {
  return target.isTTY && total >= PROGRESS_MIN_FILES && env.TERM !== "dumb";
}

export function createProgress(target: ProgressTarget, total: number, enabled: boolean): Progress {
  if (!enabled) {
    return {
      tick: () => undefined,
      log: (stream, text) => {
        if (text) stream.write(text);
      },
      stop: () => undefined,
    };
  }
  return new Bar(target, total);
}

class Bar implements Progress {
  private done = 0;
  private changed = 0;
  private errors = 0;
  private readonly started = performance.now();
  private lastDraw = 0;
  private drawn = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly target: ProgressTarget,
    private readonly total: number,
  ) {
    this.draw();
  }

  tick(status: "changed" | "unchanged" | "skipped" | "error"): void {
    this.done++;
    if (status === "changed") this.changed++;
    if (status === "error") this.errors++;
    this.schedule();
  }

  log(stream: Writable, text: string): void {
    if (!text) return;
    this.clear();
    stream.write(text);
    this.schedule();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.clear();
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = performance.now();
    if (now - this.lastDraw >= REDRAW_MS || this.done === this.total) {
      this.draw();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.draw();
      }, REDRAW_MS);
      this.timer.unref();
    }
  }

  private clear(): void {
    if (!this.drawn) return;
    this.target.stream.write("\r\x1b[K");
    this.drawn = false;
  }

  private draw(): void {
    if (this.stopped) return;
    this.lastDraw = performance.now();
    this.target.stream.write(`\r${this.line()}\x1b[K`);
    this.drawn = true;
  }

  line(): string {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const left = this.total - this.done;
    const eta = rate > 0 && this.done >= 4 ? formatSeconds(left / rate) : "…";
    const pct = this.total ? Math.floor((this.done / this.total) * 100) : 100;
    const tail =
      ` ${this.done}/${this.total} files ${pct}% | ${rate.toFixed(0)} files/s | ETA ${eta}` +
      ` | ${this.changed} changed${this.errors ? `, ${this.errors} error${this.errors === 1 ? "" : "s"}` : ""}`;
    const columns = this.target.columns ?? 80;
    const width = Math.max(0, Math.min(30, columns - tail.length - 8));
    if (width < 5) return `dfopt${tail}`.slice(0, Math.max(10, columns - 1));
    const filled = Math.round((this.done / Math.max(1, this.total)) * width);
    return `dfopt ${"█".repeat(filled)}${"░".repeat(width - filled)}${tail}`;
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "…";
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.ceil(s % 60)).padStart(2, "0")}s`;
}
