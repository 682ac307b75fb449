/** What a value looks like after JSON on the wire (undefined stays undefined, as with Nest). */
export function jsonRoundTrip(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}
