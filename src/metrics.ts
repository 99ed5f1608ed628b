/**
 * Metrics in the Prometheus text format, with the `hearsay_` prefix and a unit suffix on every name
 * (STYLE.md §9). A tiny registry: counters and gauges with a bounded set of label values (labels
 * come from our own enums such as drop reasons, never from peer-controlled strings, so series cannot
 * grow without bound).
 */

type Labels = Readonly<Record<string, string>>;

interface Series {
  labels: Labels;
  value: number;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  series: Map<string, Series>;
  collect?: () => Array<{ labels: Labels; value: number }>;
}

/** At most this many label combinations per family: a bug that labels by peer input cannot exhaust memory. */
const MAX_SERIES = 256;

function labelKey(labels: Labels): string {
  // The receive path counts several things per packet: skip sorting for the common 0/1-label case.
  let first: string | undefined;
  let count = 0;
  for (const k in labels) {
    if (count++ === 0) first = k;
    else break;
  }
  if (count === 0) return '';
  if (count === 1) return `${first}=${labels[first!]}`;
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export class Counter {
  constructor(private readonly family: Family) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    let s = this.family.series.get(key);
    if (s === undefined) {
      if (this.family.series.size >= MAX_SERIES) return;
      s = { labels, value: 0 };
      this.family.series.set(key, s);
    }
    s.value += by;
  }

  get(labels: Labels = {}): number {
    return this.family.series.get(labelKey(labels))?.value ?? 0;
  }

  /** A handle on one label combination, for hot paths: `inc()` then costs one addition. */
  series(labels: Labels = {}): { inc(by?: number): void } {
    const key = labelKey(labels);
    let s = this.family.series.get(key);
    if (s === undefined) {
      s = { labels, value: 0 };
      if (this.family.series.size < MAX_SERIES) this.family.series.set(key, s);
    }
    const target = s;
    return { inc: (by = 1) => { target.value += by; } };
  }

  /** Sum over all label combinations. */
  total(): number {
    let t = 0;
    for (const s of this.family.series.values()) t += s.value;
    return t;
  }

  /** Values by one label's value, for tests and the admin API. */
  byLabel(label: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.family.series.values()) {
      const k = s.labels[label] ?? '';
      out[k] = (out[k] ?? 0) + s.value;
    }
    return out;
  }
}

export class Gauge {
  constructor(private readonly family: Family) {}

  set(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    const s = this.family.series.get(key);
    if (s !== undefined) s.value = value;
    else if (this.family.series.size < MAX_SERIES) this.family.series.set(key, { labels, value });
  }

  get(labels: Labels = {}): number {
    return this.family.series.get(labelKey(labels))?.value ?? 0;
  }
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string): Counter {
    return new Counter(this.family(name, help, 'counter'));
  }

  gauge(name: string, help: string): Gauge {
    return new Gauge(this.family(name, help, 'gauge'));
  }

  /** A gauge whose series are computed at scrape time. */
  collectGauge(name: string, help: string, collect: () => Array<{ labels: Labels; value: number }>): void {
    this.family(name, help, 'gauge').collect = collect;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const f of this.families.values()) {
      lines.push(`# HELP ${f.name} ${f.help}`);
      lines.push(`# TYPE ${f.name} ${f.type}`);
      const series = f.collect ? f.collect() : [...f.series.values()];
      for (const s of series) {
        const keys = Object.keys(s.labels);
        const l = keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeLabel(s.labels[k]!)}"`).join(',')}}`;
        lines.push(`${f.name}${l} ${Number.isFinite(s.value) ? s.value : 0}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  private family(name: string, help: string, type: 'counter' | 'gauge'): Family {
    if (!/^hearsay_[a-z0-9_]+$/.test(name)) throw new RangeError(`metric name ${name} must start with hearsay_`);
    const existing = this.families.get(name);
    if (existing !== undefined) {
      if (existing.type !== type) throw new RangeError(`metric ${name} registered twice with different types`);
      return existing;
    }
    const f: Family = { name, help, type, series: new Map() };
    this.families.set(name, f);
    return f;
  }
}
