// Small statistics helpers for the benchmarks.

/** Nearest-rank percentile of numbers (p in 0..100); NaN for an empty list. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const median = (values) => percentile(values, 50);

export const round = (v, digits = 1) =>
  Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : v;

/** Runs `fn` over `items` with at most `concurrency` in flight; results in input order. */
export async function pMap(items, concurrency, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/**
 * Prometheus text format → { name → [{ labels, value }] } (enough for counters, gauges and
 * histograms of prom-client).
 */
export function parsePrometheus(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) for (const [, k, v] of m[2].matchAll(/(\w+)="([^"]*)"/g)) labels[k] = v;
    if (!out.has(m[1])) out.set(m[1], []);
    out.get(m[1]).push({ labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a metric's samples, optionally filtered by labels. */
export function metricValue(parsed, name, filter = {}) {
  return (parsed.get(name) ?? [])
    .filter((s) => Object.entries(filter).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/**
 * The difference of one histogram between two scrapes: count, sum (mean), the bucket upper
 * bound under which p% of the observations fall ("≤ 25 ms" style), and the bucket counts
 * themselves (`buckets`, cumulative, by upper bound) so that `mergeHistograms` can add several.
 */
export function histogramDelta(before, after, name) {
  const buckets = (parsed) =>
    new Map((parsed?.get(`${name}_bucket`) ?? []).map((s) => [s.labels.le, s.value]));
  const b0 = buckets(before);
  const delta = new Map([...buckets(after)].map(([le, n]) => [le, n - (b0.get(le) ?? 0)]));
  const count =
    metricValue(after, `${name}_count`) - (before ? metricValue(before, `${name}_count`) : 0);
  const sum = metricValue(after, `${name}_sum`) - (before ? metricValue(before, `${name}_sum`) : 0);
  return summarizeHistogram(delta, count, sum);
}

/** Several histograms' differences (e.g. one per gateway) as one, bucket by bucket. */
export function mergeHistograms(deltas) {
  const buckets = new Map();
  for (const d of deltas)
    for (const [le, n] of d.buckets) buckets.set(le, (buckets.get(le) ?? 0) + n);
  return summarizeHistogram(
    buckets,
    deltas.reduce((a, d) => a + d.count, 0),
    deltas.reduce((a, d) => a + d.sum, 0),
  );
}

function summarizeHistogram(buckets, count, sum) {
  const les = [...buckets.keys()].sort((a, b) =>
    a === '+Inf' ? 1 : b === '+Inf' ? -1 : Number(a) - Number(b),
  );
  const bound = (p) => {
    if (count <= 0) return NaN;
    for (const le of les) {
      if (buckets.get(le) >= (p / 100) * count) return le === '+Inf' ? Infinity : Number(le);
    }
    return Infinity;
  };
  return {
    count,
    sum,
    buckets,
    meanS: count > 0 ? sum / count : NaN,
    p50S: bound(50),
    p99S: bound(99),
    maxBucketS: bound(100),
  };
}
