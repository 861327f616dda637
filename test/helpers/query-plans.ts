/** EXPLAIN QUERY PLAN helpers: find queries that scan a whole table instead of using an index. */

export interface ScanReport {
  sql: string;
  plan: string[];
}

/** Returns the queries whose plan has `SCAN <table>` without an index, over real tables. */
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
    const params = (trimmed.match(/\?/g) ?? []).length;
    const stmt = db.prepare(`EXPLAIN QUERY PLAN ${trimmed}`);
    const { results } = await (params ? stmt.bind(...Array(params).fill(null)) : stmt).all<{ detail: string }>();
    const plan = results.map((r) => r.detail);
    const bad = plan.some((d) => {
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
