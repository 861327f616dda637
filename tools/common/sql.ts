/** A SQL literal for seed files run with `wrangler d1 execute --file` (the demo seed and the bench). */
export const sqlValue = (v: string | number | null): string =>
  v === null ? "NULL" : typeof v === "number" ? String(v) : `'${v.replaceAll("'", "''")}'`;
