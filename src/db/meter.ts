/**
 * D1's rows read and rows written per request — what Cloudflare bills — outside production only.
 * A request's `env.DB` and `env.CREDIT_LEDGER` are wrapped (`meteredEnv`): every statement's
 * `meta.rows_read` / `rows_written` is added to the request's meter, and so are the rows of the
 * ledger's Durable Object operations, which report their own (`d1Rows` on the result). The totals
 * leave as response headers (`x-d1-rows-read`, `x-d1-rows-written`, `x-d1-rows-top`: the costliest
 * statements) for the row-budget tests and the bench. D1's `first()` and `raw()` return no meta,
 * so metered statements run them through `all()` (one execution; rows in column order, as drizzle's
 * own batch path maps them — no query of this code selects two columns of the same name).
 */
import type { Env } from "../env";

export interface RowCount {
  read: number;
  written: number;
  statements: number;
}

/** Calls to D1 (a statement run alone or a whole batch), the request's own and its ledger operations'. */
export interface RoundTrips {
  roundTrips: number;
  ledgerRoundTrips: number;
}

export interface RowMeter extends RowCount, RoundTrips {
  bySql: Map<string, RowCount>;
}

/** What a Durable Object operation reports: its totals and its costliest statements. */
export interface ReportedRows extends RowCount {
  top: [sql: string, read: number, written: number][];
  roundTrips?: number;
}

export const newMeter = (): RowMeter => ({
  read: 0,
  written: 0,
  statements: 0,
  roundTrips: 0,
  ledgerRoundTrips: 0,
  bySql: new Map(),
});

function add(m: RowMeter, sql: string, read: number, written: number, statements = 1) {
  m.read += read;
  m.written += written;
  m.statements += statements;
  const q = m.bySql.get(sql) ?? { read: 0, written: 0, statements: 0 };
  q.read += read;
  q.written += written;
  q.statements += statements;
  m.bySql.set(sql, q);
}

const addMeta = (m: RowMeter, sql: string, meta: { rows_read?: number; rows_written?: number } | undefined) =>
  add(m, sql, meta?.rows_read ?? 0, meta?.rows_written ?? 0);

/** The statements that read the most (then wrote the most), one line each. */
export function topStatements(m: RowMeter, n = 3): ReportedRows["top"] {
  return [...m.bySql.entries()]
    .sort((a, b) => b[1].read - a[1].read || b[1].written - a[1].written)
    .slice(0, n)
    .map(([sql, c]) => [sql.replace(/\s+/g, " ").slice(0, 200), c.read, c.written]);
}

export const reported = (m: RowMeter): ReportedRows => ({
  read: m.read,
  written: m.written,
  statements: m.statements,
  top: topStatements(m),
  roundTrips: m.roundTrips,
});

/** Adds a Durable Object operation's own count (its statements keep their text for the top list). */
export function addReported(m: RowMeter, r: ReportedRows | undefined) {
  if (!r) return;
  m.ledgerRoundTrips += r.roundTrips ?? 0;
  const counted = { read: 0, written: 0, statements: 0 };
  for (const [sql, read, written] of r.top) {
    add(m, sql, read, written);
    counted.read += read;
    counted.written += written;
    counted.statements += 1;
  }
  add(
    m,
    "(other statements of a ledger operation)",
    r.read - counted.read,
    r.written - counted.written,
    r.statements - counted.statements,
  );
}

/** A metered statement's real statement (what `batch` needs) and its SQL text. */
const statementInfo = new WeakMap<object, { target: D1PreparedStatement; sql: string }>();

function meteredStatement(stmt: D1PreparedStatement, sql: string, m: RowMeter): D1PreparedStatement {
  const proxy: D1PreparedStatement = new Proxy(stmt, {
    get(target, prop) {
      if (prop === "bind") return (...values: unknown[]) => meteredStatement(target.bind(...values), sql, m);
      if (prop === "all" || prop === "run") {
        return async () => {
          m.roundTrips += 1;
          const result = await target[prop]();
          addMeta(m, sql, result.meta);
          return result;
        };
      }
      if (prop === "first") {
        return async (column?: string) => {
          m.roundTrips += 1;
          const result = await target.all<Record<string, unknown>>();
          addMeta(m, sql, result.meta);
          const row = result.results[0];
          if (row === undefined) return null;
          return column === undefined ? row : (row[column] ?? null);
        };
      }
      if (prop === "raw") {
        return async (options?: { columnNames?: boolean }) => {
          m.roundTrips += 1;
          const result = await target.all<Record<string, unknown>>();
          addMeta(m, sql, result.meta);
          const rows = result.results.map((r) => Object.values(r));
          const first = result.results[0];
          return options?.columnNames ? [first ? Object.keys(first) : [], ...rows] : rows;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  statementInfo.set(proxy, { target: stmt, sql });
  return proxy;
}

/** `d1` (a database or a session) whose statements count their rows into `m`. */
export function meterD1<T extends Pick<D1Database, "prepare" | "batch">>(d1: T, m: RowMeter): T {
  return new Proxy(d1, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => meteredStatement(target.prepare(sql), sql, m);
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          // the batch needs the real statements; each proxy remembers its own and its SQL text
          m.roundTrips += 1;
          const infos = statements.map((s) => statementInfo.get(s));
          const results = await target.batch(statements.map((s, i) => infos[i]?.target ?? s));
          for (const [i, r] of results.entries()) addMeta(m, infos[i]?.sql ?? "(unmetered statement)", r.meta);
          return results;
        };
      }
      if (prop === "withSession") {
        return (constraint?: string) => meterD1((target as unknown as D1Database).withSession(constraint), m);
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * The ledger's namespace as one request sees it: each operation's result carries the Durable
 * Object's own rows (`d1Rows`), added to the request's meter on the way back.
 */
function meteredLedger<N extends object>(ns: N, m: RowMeter): N {
  return new Proxy(ns, {
    get(target, prop) {
      if (prop === "get") {
        return (...args: unknown[]) => {
          const stub = (Reflect.get(target, "get") as (...a: unknown[]) => object).apply(target, args);
          return new Proxy(stub, {
            get(s, method) {
              const value = Reflect.get(s, method);
              if (typeof value !== "function" || typeof method !== "string") return value;
              // an RPC method is itself a proxy (its "apply" would be a remote call): call it on the stub
              return async (...callArgs: unknown[]) => {
                const stubMethods = s as Record<string, (...a: unknown[]) => Promise<unknown>>;
                const result = (await stubMethods[method]?.(...callArgs)) as { d1Rows?: ReportedRows } | undefined;
                addReported(m, result?.d1Rows);
                return result;
              };
            },
          });
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The bindings with D1 and the ledger metered into `m`. */
export function meteredEnv(env: Env, m: RowMeter): Env {
  return { ...env, DB: meterD1(env.DB, m), CREDIT_LEDGER: meteredLedger(env.CREDIT_LEDGER, m) };
}

/** The response headers of a metered request. */
export function meterHeaders(m: RowMeter): Record<string, string> {
  return {
    "x-d1-rows-read": String(m.read),
    "x-d1-rows-written": String(m.written),
    "x-d1-statements": String(m.statements),
    "x-d1-round-trips": String(m.roundTrips),
    "x-d1-ledger-round-trips": String(m.ledgerRoundTrips),
    "x-d1-rows-top": encodeURIComponent(JSON.stringify(topStatements(m))),
  };
}
