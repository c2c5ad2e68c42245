/** A one-line progress bar on a terminal (stderr); silent when stderr is not a TTY. */
export class ProgressBar {
  readonly #stream: NodeJS.WriteStream;
  readonly #label: string;
  readonly #started = performance.now();
  #lastDraw = 0;
  #active = false;

  constructor(label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#stream = stream;
  }

  get enabled(): boolean {
    return this.#stream.isTTY === true;
  }

  update(done: number, total: number | undefined, extra = ''): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.#lastDraw < 100 && done !== total) return;
    this.#lastDraw = now;
    this.#active = true;
    const width = 30;
    const fraction = total ? Math.min(1, done / total) : 0;
    const filled = Math.round(fraction * width);
    const seconds = (now - this.#started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = total && rate > 0 ? ` ETA ${formatSeconds((total - done) / rate)}` : '';
    const bar = total ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]` : '';
    const line = `${this.#label} ${bar} ${done}${total ? `/${total}` : ''} ${rate.toFixed(1)}/s${eta}${extra ? ` ${extra}` : ''}`;
    this.#stream.write(`\r${line.slice(0, (this.#stream.columns ?? 120) - 1)}\x1b[K`);
  }

  done(): void {
    if (this.#active) this.#stream.write('\n');
    this.#active = false;
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
