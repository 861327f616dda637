/**
 * The few RFC 5545 rules the feed needs, written here rather than through a builder library: a
 * feed of 900 events spent most of its CPU in ical-generator (per event: option validation, a
 * Date wrapper per property, a regex fold over every line), and the feed only ever writes the
 * same handful of properties. What matters for correctness is all here:
 *
 * - 3.1: content lines end with CRLF and are folded to at most 75 octets (the continuation's
 *   leading space counts), never inside a UTF-8 sequence or a surrogate pair;
 * - 3.3.11: TEXT escapes `\`, `;`, `,` and line breaks (`\n`), and holds no other control character;
 * - 3.3.5: UTC date-times as `YYYYMMDDTHHMMSSZ`, seconds truncated.
 *
 * test/calendar/ checks the output with an independent parser (ical.js) and validator-style rules.
 */

export const CRLF = "\r\n";
const MAX_OCTETS = 75;

// 3.1 allows no control character in a value but HTAB; a line break is escaped before this applies
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

/** TEXT value escaping (3.3.11); CR LF, CR and LF alike become `\n`, other controls but HTAB are dropped. */
export function escapeText(value: string): string {
  return value
    .replace(/[\\;,]/g, "\\$&")
    .replace(/\r\n|\r|\n/g, "\\n")
    .replace(CONTROLS, "");
}

// printable ASCII only: a line of these is as many octets as characters
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/**
 * One content line, folded (3.1) and ended with CRLF. A line is folded only where it is longer
 * than 75 octets, so most lines take the first return.
 */
export function contentLine(line: string): string {
  // no UTF-16 unit is more than 3 octets: 25 units fit whatever they are
  if (line.length <= MAX_OCTETS / 3) return line + CRLF;
  if (!PLAIN_ASCII.test(line)) return foldOctets(line) + CRLF;
  if (line.length <= MAX_OCTETS) return line + CRLF;
  let out = line.slice(0, MAX_OCTETS);
  for (let i = MAX_OCTETS; i < line.length; i += MAX_OCTETS - 1) out += `${CRLF} ${line.slice(i, i + MAX_OCTETS - 1)}`;
  return out + CRLF;
}

/** The general fold: counts UTF-8 octets per code point, breaking only between code points. */
function foldOctets(line: string): string {
  let out = "";
  let start = 0;
  let octets = 0;
  for (let i = 0; i < line.length; ) {
    const unit = line.charCodeAt(i);
    const pair = unit >= 0xd800 && unit <= 0xdbff && i + 1 < line.length;
    const size = unit < 0x80 ? 1 : unit < 0x800 ? 2 : pair ? 4 : 3;
    if (octets + size > MAX_OCTETS) {
      out += `${line.slice(start, i)}${CRLF} `;
      start = i;
      octets = 1; // the continuation's leading space
    }
    octets += size;
    i += pair ? 2 : 1;
  }
  return out + line.slice(start);
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, "0"));

/**
 * A formatter of UTC date-times (3.3.5, form #2) from epoch milliseconds, sub-second precision
 * dropped. Each one remembers the dates it wrote: a feed's thousand instants fall on a few dozen
 * days, and the calendar part is what costs (a `Date` and its getters).
 */
export function utcDateTimes(): (ms: number) => string {
  const days = new Map<number, string>();
  return (ms) => {
    const day = Math.floor(ms / DAY_MS);
    let date = days.get(day);
    if (date === undefined) {
      const d = new Date(day * DAY_MS);
      date = `${d.getUTCFullYear()}${TWO_DIGITS[d.getUTCMonth() + 1]}${TWO_DIGITS[d.getUTCDate()]}T`;
      days.set(day, date);
    }
    const seconds = Math.floor((ms - day * DAY_MS) / 1000);
    return `${date}${TWO_DIGITS[Math.floor(seconds / 3600)]}${TWO_DIGITS[Math.floor(seconds / 60) % 60]}${TWO_DIGITS[seconds % 60]}Z`;
  };
}
