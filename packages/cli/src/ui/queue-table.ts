export interface QueueRow {
  name: string;
  waiting: number;
  prioritized: number;
  active: number;
  delayed: number;
  failed: number;
  workers: number;
  paused: boolean;
}

/** The queues as a table whose columns fit their longest cell (queue names differ in length). */
export function queueTable(queues: readonly QueueRow[]): string {
  const header = ['queue', 'waiting', 'active', 'delayed', 'failed', 'workers'];
  const rows = queues.map((q) => [q.name, String(q.waiting + q.prioritized), String(q.active), String(q.delayed), String(q.failed), String(q.workers)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], paused = false) => `${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}${paused ? '  (paused)' : ''}`.trimEnd();
  return [line(header), ...rows.map((r, i) => line(r, queues[i]!.paused))].map((l) => `${l}\n`).join('');
}
