/**
 * Load drivers. Reads: autocannon (HTTP/1.1 keep-alive, N connections, fixed duration), with every
 * 2xx response time collected at sub-millisecond precision (autocannon's own histogram rounds to
 * whole milliseconds, too coarse for a 1.3× comparison of ~2 ms latencies). Writes and the webhook
 * path: a small fetch-based driver that varies each request and checks each answer.
 */
import autocannon from "autocannon";

export interface LoadResult {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  mean: number;
  non2xx: number;
  errors: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function summarize(latencies: number[], elapsedMs: number, non2xx: number, errors: number): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return {
    rps: round((sorted.length / elapsedMs) * 1000, 1),
    requests: sorted.length,
    p50: round(percentile(sorted, 50), 3),
    p99: round(percentile(sorted, 99), 3),
    mean: round(mean, 3),
    non2xx,
    errors,
  };
}

export interface ReadLoad {
  /** Reads the server's CPU time (ms) before and after the run. */
  serverCpu?: () => number | null;
  url: string;
  headers?: Record<string, string>;
  connections: number;
  durationS: number;
}

/** Raw outcome of one or more load slices; `summarize` turns it into a LoadResult. */
export interface RawLoad {
  latencies: number[];
  elapsedMs: number;
  non2xx: number;
  errors: number;
  /** CPU time the server's processes spent meanwhile (Linux; null elsewhere). */
  serverCpuMs: number | null;
}

export const emptyRaw = (): RawLoad => ({ latencies: [], elapsedMs: 0, non2xx: 0, errors: 0, serverCpuMs: 0 });

export function merge(into: RawLoad, more: RawLoad): RawLoad {
  for (const l of more.latencies) into.latencies.push(l);
  into.elapsedMs += more.elapsedMs;
  into.non2xx += more.non2xx;
  into.errors += more.errors;
  into.serverCpuMs =
    into.serverCpuMs === null || more.serverCpuMs === null ? null : into.serverCpuMs + more.serverCpuMs;
  return into;
}

export interface ReadResult extends LoadResult {
  /** Server CPU milliseconds per answered request: what the route costs, whatever else runs. */
  cpuMsPerRequest: number | null;
}

export function summarizeRaw(r: RawLoad): ReadResult {
  const answered = r.latencies.length + r.non2xx;
  return {
    ...summarize(r.latencies, r.elapsedMs, r.non2xx, r.errors),
    cpuMsPerRequest: r.serverCpuMs === null || answered === 0 ? null : round(r.serverCpuMs / answered, 3),
  };
}

/** One autocannon run; throughput counts 2xx answers only. */
export function readLoad(opts: ReadLoad): Promise<RawLoad> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const cpu0 = opts.serverCpu?.() ?? null;
    const started = performance.now();
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        duration: opts.durationS,
        headers: opts.headers ?? {},
        timeout: 10,
      },
      (err, result) => {
        if (err) return reject(err);
        const elapsedMs = performance.now() - started;
        const cpu1 = opts.serverCpu?.() ?? null;
        resolve({
          latencies,
          elapsedMs,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          // a server process that ended meanwhile takes its CPU time out of the sum: no figure then
          serverCpuMs: cpu0 === null || cpu1 === null || cpu1 < cpu0 ? null : cpu1 - cpu0,
        });
      },
    );
    instance.on("response", (_client: unknown, status: number, _bytes: number, time: number) => {
      if (status >= 200 && status < 300) latencies.push(time);
    });
  });
}

export interface DriveOptions {
  concurrency: number;
  /** Stop issuing new work after this long (ms) … */
  durationMs?: number;
  /** … or after this many operations. */
  count?: number;
  /** One operation; resolves true when it succeeded. Its time is measured around it. */
  op: (i: number) => Promise<boolean>;
}

export interface DriveResult extends LoadResult {
  failures: number;
  failureSamples: string[];
}

/** Runs `op` from `concurrency` workers until the duration or count is reached. */
export async function drive(opts: DriveOptions): Promise<DriveResult> {
  let next = 0;
  const latencies: number[] = [];
  let failures = 0;
  const failureSamples: string[] = [];
  const started = performance.now();
  const more = () =>
    (opts.count === undefined || next < opts.count) &&
    (opts.durationMs === undefined || performance.now() - started < opts.durationMs);
  const worker = async () => {
    while (more()) {
      const i = next++;
      const t = performance.now();
      try {
        if (await opts.op(i)) latencies.push(performance.now() - t);
        else failures++;
      } catch (err) {
        failures++;
        if (failureSamples.length < 5) failureSamples.push(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const elapsed = performance.now() - started;
  return { ...summarize(latencies, elapsed, 0, 0), failures, failureSamples };
}
