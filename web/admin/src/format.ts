/**
 * How the page shows times, money and credits. Times are in the admin's own time zone (the
 * browser's), with the exact UTC value in the element's title; money comes from the API in minor
 * units (cents) with its currency.
 */

export const adminTimeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export const formatDateTime = (ms: number) => dateTime.format(ms);
export const formatDate = (ms: number) => dateOnly.format(ms);
/** `2026-12-02 17:05:09 UTC`: the hover text of every time. */
export const utcText = (ms: number) => `${new Date(ms).toISOString().replace("T", " ").slice(0, 19)} UTC`;

const moneyFormats = new Map<string, Intl.NumberFormat>();
export function formatMoney(cents: number, currency: string): string {
  const c = currency.toUpperCase();
  let f = moneyFormats.get(c);
  if (!f) {
    f = new Intl.NumberFormat(undefined, { style: "currency", currency: c });
    moneyFormats.set(c, f);
  }
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(cents / 10 ** digits);
}

const integer = new Intl.NumberFormat();
export const formatCredits = (n: number) => `${integer.format(n)} ${Math.abs(n) === 1 ? "credit" : "credits"}`;
export const formatCount = (n: number) => integer.format(n);

/** Midnight today and tomorrow in the admin's zone, as epoch ms (the dashboard's "today"). */
export function todayRange(now = new Date()): { from: number; to: number } {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const end = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  return { from: start.getTime(), to: end.getTime() };
}

/** `<input type="datetime-local">` value ↔ epoch ms, in the admin's zone. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
export function fromLocalInput(v: string): number | undefined {
  if (!v) return undefined;
  const ms = new Date(v).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}
