/** Stripe's form encoding (`a[b][0][c]=v`) back into nested objects and arrays, as the API reads it. */

type Nested = { [key: string]: Nested | string } | string;

export function parseStripeForm(body: string): Record<string, unknown> {
  const root: Record<string, Nested> = {};
  for (const [fullKey, value] of new URLSearchParams(body)) {
    const m = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(fullKey);
    if (!m) {
      root[fullKey] = value;
      continue;
    }
    const segments = [m[1] as string, ...[...(m[2] ?? "").matchAll(/\[([^[\]]*)\]/g)].map((s) => s[1] as string)];
    let node: Record<string, Nested> = root;
    segments.forEach((seg, i) => {
      const key = seg === "" ? String(Object.keys(node).length) : seg;
      if (i === segments.length - 1) {
        node[key] = value;
        return;
      }
      const next = node[key];
      if (typeof next !== "object") node[key] = {};
      node = node[key] as Record<string, Nested>;
    });
  }
  return toArrays(root) as Record<string, unknown>;
}

function toArrays(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  const entries = Object.entries(v as Record<string, unknown>);
  const mapped = entries.map(([k, x]) => [k, toArrays(x)] as const);
  if (entries.length > 0 && entries.every(([k]) => /^\d+$/.test(k))) {
    return mapped.sort((a, b) => Number(a[0]) - Number(b[0])).map(([, x]) => x);
  }
  return Object.fromEntries(mapped);
}
