// What a benchmark reads and talks to: its options, Postgres as its administrator, the API.
import pg from 'pg';

/** Runs one statement on the admin database (CREATE / DROP DATABASE). */
export async function adminSql(adminUrl, sql) {
  const c = new pg.Client({ connectionString: adminUrl, application_name: 'wagw-bench' });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** One API call with a bearer key; the body parsed as JSON when it is JSON. */
export async function apiCall(baseUrl, key, method, path, body) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* keep text */
  }
  return { status: res.status, body: parsed };
}

/** A non-negative integer option from the environment, or `dflt`. */
export function envInt(name, dflt) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 0)
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return v;
}
