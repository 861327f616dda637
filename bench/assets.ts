/**
 * The back office's static files as the Worker's assets serve them (wrangler.toml `[assets]`;
 * `/admin` is not a `run_worker_first` path, so no Worker code and no D1 run): `GET /admin` (its
 * redirect to `/admin/` followed, as a browser does), then every script the page names, one round
 * after another, each round timed from the first request to the last byte.
 */
import { log, round } from "./config.ts";
import { percentile } from "./load.ts";
import type { WriteMode } from "./paths.ts";
import { rowsOf } from "./rows.ts";
import type { Server } from "./server.ts";

export async function adminAssets(server: Server, mode: WriteMode) {
  const rounds = mode.timed ? 30 : 5;
  log(`  GET /admin + its scripts, ${rounds} rounds`);
  const times: number[] = [];
  let failure: string | null = null;
  let htmlBytes = 0;
  let jsBytes = 0;
  let scripts: string[] = [];
  let encoding: string | null = null;
  let metered = false;
  for (let i = 0; i < rounds && !failure; i++) {
    const t = performance.now();
    const index = await fetch(`${server.url}/admin`);
    const html = await index.text();
    if (!index.ok) {
      failure = `GET /admin → ${index.status}`;
      break;
    }
    metered ||= rowsOf(index) !== null;
    scripts = [...html.matchAll(/<script[^>]*\ssrc="([^"]+\.js)"/g)].map((m) => m[1] ?? "");
    if (scripts.length === 0) failure = "GET /admin names no script";
    let bytes = 0;
    for (const src of scripts) {
      const js = await fetch(new URL(src, index.url));
      const body = await js.arrayBuffer();
      if (!js.ok) failure = `GET ${src} → ${js.status}`;
      encoding = js.headers.get("content-encoding");
      bytes += body.byteLength;
    }
    times.push(performance.now() - t);
    htmlBytes = html.length;
    jsBytes = bytes;
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    rounds: times.length,
    scripts,
    htmlBytes,
    jsBytes,
    /** Content-Encoding of the scripts as served to a client that accepts gzip and br (fetch's default). */
    encoding,
    /** Whether the answers carried D1 row headers (they should not: no Worker code runs). */
    metered,
    p50: round(percentile(sorted, 50), 2),
    p99: round(percentile(sorted, 99), 2),
    failure,
    ok: failure === null,
  };
}
