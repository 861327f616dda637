/** EXPLAIN QUERY PLAN helpers: find queries that scan a whole table instead of using an index. */

export interface ScanReport {
  sql: string;
  plan: string[];
}

/** Returns the queries whose plan has `SCAN <table>` without an index (over real tables) or a sort step for ORDER BY. */
export async function fullScans(db: D1Database, queries: string[]): Promise<ScanReport[]> {
  const tables = new Set(
    (await db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{ name: string }>()).results.map(
      (r) => r.name,
    ),
  );
  const out: ScanReport[] = [];
  for (const sql of queries) {
    const trimmed = sql.trim();
    if (!/^(select|update|delete|insert|with)/i.test(trimmed)) continue;
    if (/sqlite_master|d1_migrations|_cf_/i.test(trimmed)) continue;
    const params = parameterCount(trimmed);
    const stmt = db.prepare(`EXPLAIN QUERY PLAN ${trimmed}`);
    const { results } = await (params ? stmt.bind(...Array(params).fill(null)) : stmt).all<{ detail: string }>();
    const plan = results.map((r) => r.detail);
    // a sort step: the rows are collected and sorted before the first is returned (a page would
    // read every matching row); an index in the ORDER BY's order avoids it. A compound SELECT's
    // MERGE sorts its arms to combine them (no ORDER BY is involved): the reconciliation's UNIONs
    // over a time range are bounded by that range.
    const sorts =
      !plan.some((d) => d.startsWith("MERGE (")) &&
      plan.some((d) => /USE TEMP B-TREE FOR (RIGHT PART OF )?ORDER BY/.test(d));
    const bad =
      sorts ||
      plan.some((d) => {
        const m = d.match(/^SCAN (\S+)(.*)$/);
        return (
          m?.[1] !== undefined &&
          tables.has(m[1]) &&
          !/USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY/.test(m[2] ?? "")
        );
      });
    if (bad) out.push({ sql: trimmed, plan });
  }
  return out;
}

/** How many values a statement binds: `?` takes the next number, `?N` is number N (SQLite's rule). */
export function parameterCount(sql: string): number {
  let max = 0;
  for (const m of sql.matchAll(/\?(\d*)/g)) max = m[1] ? Math.max(max, Number(m[1])) : max + 1;
  return max;
}
