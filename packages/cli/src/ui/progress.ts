/** "1 face", "3 faces": a count and its noun, in the plural when it is not one. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/**
 * A one-line progress bar on a terminal (stderr); silent when stderr is not a TTY. On a narrow
 * terminal the bar, then the ETA, the rate, the extra words and the counted noun are left out
 * whole, rather than the line being cut in the middle of a word.
 */
export class ProgressBar {
  static readonly #drawing = new Set<ProgressBar>();
  readonly #stream: NodeJS.WriteStream;
  readonly #label: string;
  readonly #unit: string;
  readonly #started = performance.now();
  #lastDraw = 0;
  #active = false;

  /** `unit`: what is counted (singular), e.g. "file"; its plural adds an s. */
  constructor(label: string, options: { unit?: string; stream?: NodeJS.WriteStream } = {}) {
    this.#label = label;
    this.#unit = options.unit ?? 'file';
    this.#stream = options.stream ?? process.stderr;
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
    ProgressBar.#drawing.add(this);
    this.#stream.write(`\r${this.line(done, total, extra, now)}\x1b[K`);
  }

  /** The line drawn for these figures, fitted to the terminal's width. */
  line(done: number, total: number | undefined, extra = '', now = performance.now()): string {
    const width = 30;
    const fraction = total ? Math.min(1, done / total) : 0;
    const filled = Math.round(fraction * width);
    const seconds = (now - this.#started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const count = total === undefined ? plural(done, this.#unit) : `${done}/${plural(total, this.#unit)}`;
    const parts: { text: string; drop?: number; short?: string }[] = [
      { text: this.#label },
      { text: total ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]` : '', drop: 1 },
      { text: count, drop: 5, short: total === undefined ? String(done) : `${done}/${total}` },
      { text: `${rate.toFixed(1)}/s`, drop: 3 },
      { text: total && rate > 0 ? `ETA ${formatSeconds((total - done) / rate)}` : '', drop: 2 },
      { text: extra, drop: 4 },
    ];
    const columns = (this.#stream.columns ?? 120) - 1;
    const join = () => parts.filter((p) => p.text).map((p) => p.text).join(' ');
    for (let level = 1; join().length > columns && level <= 5; level += 1) {
      for (const p of parts) if (p.drop === level) p.text = p.short ?? '';
    }
    return join().slice(0, Math.max(0, columns));
  }

  /** Ends the line (the next output starts on a fresh one). */
  done(): void {
    if (this.#active) this.#stream.write('\n');
    this.#active = false;
    ProgressBar.#drawing.delete(this);
  }

  /** Ends every bar still drawing, before a message (an interrupt, a failure). */
  static endAll(): void {
    for (const bar of [...ProgressBar.#drawing]) bar.done();
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
