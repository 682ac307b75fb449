/** A process's Prometheus exposition (`/metrics` under `url`). */
export const metricsText = async (url: string): Promise<string> =>
  (await fetch(`${url}/metrics`)).text();

/** The value of one sample (`name{labels}` exactly as exposed), or undefined. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
