/**
 * bench/history.json: the key figures of the last runs (each `npm run bench` appends one and keeps
 * the last HISTORY_RUNS), so a regression shows at a glance in bench/RESULTS.md; and bench/history.svg,
 * a small chart of bookings/s, the health ceiling's req/s and the bundle's KiB over those runs
 * (hand-written SVG, no dependency). When history.json does not exist yet, the run before (the
 * committed bench/results.json) is its first entry.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH, round } from "./config.ts";

export const HISTORY_RUNS = 10;

export interface HistoryRun {
  date: string;
  commit: string;
  totalSeconds: number | null;
  loadAverageAtStart: number[];
  bundleKiB: number | null;
  adminJsKiB: number | null;
  startupMs: number | null;
  healthRpsSmall: number | null;
  healthRpsLarge: number | null;
  healthCpuMsLarge: number | null;
  bookingsPerSec: number | null;
  seriesPerSec: number | null;
  ledgerOpsPerSec: number | null;
  webhookCreditedP50Ms: number | null;
  sweepMsPerSession: number | null;
  /** Routes and paths over their row budget (null: the run measured no rows). */
  rowsOverBudget: number | null;
  targetsMissed: number | null;
}

/** The fields a run's results.json has (every one optional: older runs lack some). */
interface ResultsLike {
  date?: string;
  totalSeconds?: number;
  machine?: { commit?: string; loadAverageAtStart?: number[] };
  bundle?: { gzipKiB?: number };
  adminBundle?: { jsGzipKiB?: number };
  startup?: { profileMs?: number | null };
  scales?: { scale?: string; reads?: { health?: { rps?: number; cpuMsPerRequest?: number | null } } }[];
  writes?: {
    bookings?: { perSec?: number | null };
    series?: { perSec?: number | null };
    ledgerOps?: { perSec?: number | null };
    webhook?: { p50?: number | null };
  } | null;
  sweep?: { perSessionMs?: number } | null;
  rows?: { status?: string }[];
  targets?: { ok?: boolean }[];
}

const num = (v: number | null | undefined) => (typeof v === "number" && Number.isFinite(v) ? v : null);

export function historyEntry(r: ResultsLike): HistoryRun {
  const health = (name: string) => r.scales?.find((s) => s.scale === name)?.reads?.health;
  return {
    date: r.date ?? "",
    commit: r.machine?.commit ?? "",
    totalSeconds: num(r.totalSeconds),
    loadAverageAtStart: r.machine?.loadAverageAtStart ?? [],
    bundleKiB: num(r.bundle?.gzipKiB),
    adminJsKiB: num(r.adminBundle?.jsGzipKiB),
    startupMs: num(r.startup?.profileMs),
    healthRpsSmall: num(health("small")?.rps),
    healthRpsLarge: num(health("large")?.rps),
    healthCpuMsLarge: num(health("large")?.cpuMsPerRequest),
    bookingsPerSec: num(r.writes?.bookings?.perSec),
    seriesPerSec: num(r.writes?.series?.perSec),
    ledgerOpsPerSec: num(r.writes?.ledgerOps?.perSec),
    webhookCreditedP50Ms: num(r.writes?.webhook?.p50),
    sweepMsPerSession: num(r.sweep?.perSessionMs),
    rowsOverBudget: r.rows ? r.rows.filter((x) => x.status === "over").length : null,
    targetsMissed: r.targets ? r.targets.filter((t) => t.ok === false).length : null,
  };
}

/** Appends this run to bench/history.json (seeded with the run before when missing); the last runs. */
export function appendHistory(results: ResultsLike): HistoryRun[] {
  const file = join(BENCH, "history.json");
  let runs: HistoryRun[] = [];
  if (existsSync(file)) {
    runs = (JSON.parse(readFileSync(file, "utf8")) as { runs: HistoryRun[] }).runs;
  } else if (existsSync(join(BENCH, "results.json"))) {
    try {
      runs = [historyEntry(JSON.parse(readFileSync(join(BENCH, "results.json"), "utf8")) as ResultsLike)];
    } catch {
      // an unreadable earlier run starts no history
    }
  }
  runs = [...runs, historyEntry(results)].slice(-HISTORY_RUNS);
  const json = JSON.stringify(
    {
      note: `The key figures of the last ${HISTORY_RUNS} runs of \`npm run bench\`, oldest first (bench/history.ts). Figures move with the machine and its load (loadAverageAtStart).`,
      runs,
    },
    null,
    2,
  );
  // arrays of numbers on one line, as biome formats them (the file is linted)
  const formatted = json.replace(
    /\[\n\s+([^[\]{}]*?)\n\s+\]/g,
    (_, inner: string) => `[${inner.split(/,\n\s+/).join(", ")}]`,
  );
  writeFileSync(file, `${formatted}\n`);
  writeFileSync(join(BENCH, "history.svg"), historySvg(runs));
  return runs;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Three small line charts, one per series, over the runs (x: run, oldest left). */
export function historySvg(runs: HistoryRun[]): string {
  const series: { title: string; unit: string; color: string; values: (number | null)[] }[] = [
    { title: "bookings/s (large)", unit: "/s", color: "#2563eb", values: runs.map((r) => r.bookingsPerSec) },
    {
      title: "GET /v1/health req/s (large)",
      unit: "/s",
      color: "#16a34a",
      values: runs.map((r) => r.healthRpsLarge),
    },
    {
      title: "Worker bundle KiB gzip (budget 600)",
      unit: " KiB",
      color: "#dc2626",
      values: runs.map((r) => r.bundleKiB),
    },
  ];
  const W = 640;
  const H = 130;
  const left = 56;
  const right = 16;
  const top = 26;
  const bottom = 22;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const n = runs.length;
  const x = (i: number) => left + (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const parts: string[] = [];
  series.forEach((s, k) => {
    const y0 = k * H;
    const vals = s.values.filter((v): v is number => v !== null);
    const lo = vals.length ? Math.min(...vals) : 0;
    const hi = vals.length ? Math.max(...vals) : 1;
    const pad = (hi - lo) * 0.15 || Math.max(1, hi * 0.05);
    const [min, max] = [Math.max(0, lo - pad), hi + pad];
    const y = (v: number) => y0 + top + plotH - ((v - min) / (max - min)) * plotH;
    parts.push(`<g>`);
    parts.push(`<text x="${left}" y="${y0 + 16}" font-size="13" font-weight="bold">${esc(s.title)}</text>`);
    parts.push(
      `<rect x="${left}" y="${y0 + top}" width="${plotW}" height="${plotH}" fill="#f8fafc" stroke="#cbd5e1"/>`,
    );
    for (const v of [min, (min + max) / 2, max]) {
      parts.push(
        `<text x="${left - 6}" y="${round(y(v) + 4, 1)}" font-size="10" text-anchor="end" fill="#475569">${round(v, 1)}</text>`,
      );
    }
    const pts = s.values
      .map((v, i) => (v === null ? null : `${round(x(i), 1)},${round(y(v), 1)}`))
      .filter((p): p is string => p !== null);
    if (pts.length > 1) {
      parts.push(`<polyline points="${pts.join(" ")}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
    s.values.forEach((v, i) => {
      if (v === null) return;
      parts.push(
        `<circle cx="${round(x(i), 1)}" cy="${round(y(v), 1)}" r="3" fill="${s.color}"><title>${esc(
          `${runs[i]?.date.slice(0, 16) ?? ""}: ${v}${s.unit}`,
        )}</title></circle>`,
      );
    });
    runs.forEach((r, i) => {
      parts.push(
        `<text x="${round(x(i), 1)}" y="${y0 + H - 6}" font-size="9" text-anchor="middle" fill="#475569">${esc(r.date.slice(5, 10))}</text>`,
      );
    });
    parts.push(`</g>`);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H * series.length}" viewBox="0 0 ${W} ${H * series.length}" font-family="system-ui, sans-serif">`,
    `<title>npm run bench: bookings/s, GET /v1/health req/s and the bundle's KiB over the last ${runs.length} runs</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}
