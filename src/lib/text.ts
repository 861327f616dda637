/**
 * The rules for text that people type (names, bios, reasons, descriptions): one zod helper,
 * `humanText`, used by every request schema that takes such a field, so the rules live here once.
 *
 * The value is trimmed, NFC-normalized (so "e" + U+0301 and "é" are the same name and count as one
 * character) and, in multi-line fields, CRLF/CR become LF; lengths are measured after that. Refused
 * (400 `validation_failed`, with the field's path):
 * - lone surrogates: JSON's `"\ud800"` parses to one, and storage would turn it into U+FFFD;
 * - C0 controls (U+0000–U+001F: NUL, ESC, …), DEL and C1 controls (U+007F–U+009F); a multi-line
 *   field keeps LF and TAB, a one-line field refuses them, and also U+2028/U+2029 (line breaks);
 * - bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which make text read
 *   differently from what it is ("invoice\u202Efdp.exe"). The marks U+200E/U+200F/U+061C stay:
 *   right-to-left writers need them and they reorder nothing on their own.
 * - names only (`name: true`): links and e-mail addresses. A name is shown to other people (in
 *   e-mails too), so "URGENT: verify at https://evil.example" must not be one.
 *
 * The e-mail templates apply their own neutralizing (email/user-text.ts) on top, for rows written
 * before these rules and for text from elsewhere (report summaries).
 */
import { z } from "zod";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0 controls but TAB and LF, DEL, C1 controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_MULTILINE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_ONE_LINE = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/;
export const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;
/** A scheme (`https://`, `mailto:`), `www.`, or something shaped like an e-mail address. */
const LINK_OR_ADDRESS = /[a-z][a-z0-9+.-]*:\/\/|\bmailto:|\bwww\.|[^\s@]@[^\s@]+\.[^\s@]/i;

const codePoint = (ch: string) => `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;

/** Why `s` (already normalized) breaks the rules, or null when it is fine. */
export function textProblem(s: string, opts: { multiline?: boolean; name?: boolean } = {}): string | null {
  if (LONE_SURROGATE.test(s)) return "Contains a lone surrogate (not a Unicode character)";
  const control = (opts.multiline ? CONTROL_MULTILINE : CONTROL_ONE_LINE).exec(s);
  if (control) {
    return opts.multiline || !/[\n\r\u2028\u2029]/.test(control[0])
      ? `Contains a control character (${codePoint(control[0])})`
      : "Must be a single line";
  }
  const bidi = BIDI_CONTROL.exec(s);
  if (bidi) return `Contains a bidirectional override or isolate (${codePoint(bidi[0])})`;
  if (opts.name && LINK_OR_ADDRESS.test(s)) return "Names cannot contain links or e-mail addresses";
  return null;
}

/** Trim, NFC, and (multi-line) LF line ends: what is stored and measured. */
export function normalizeText(s: string, multiline = false): string {
  const trimmed = s.trim().normalize("NFC");
  return multiline ? trimmed.replace(/\r\n?/g, "\n") : trimmed;
}

export interface HumanTextOptions {
  /** Maximum length in UTF-16 code units, after normalizing. */
  max: number;
  /** Minimum length after normalizing (default 0; 1 for a required name). */
  min?: number;
  /** Allows LF and TAB (bios, reasons). */
  multiline?: boolean;
  /** A person's or a thing's name: additionally no links or e-mail addresses. */
  name?: boolean;
}

/** A zod string for typed text under the rules above; still a ZodString, so `.optional()` etc. work. */
export function humanText({ max, min = 0, multiline = false, name = false }: HumanTextOptions) {
  // `.overwrite` keeps the schema a ZodString (documented as a string in OpenAPI) while changing the
  // value; the checks after it see the normalized text.
  return z
    .string()
    .overwrite((s) => normalizeText(s, multiline))
    .min(min)
    .max(max)
    .superRefine((s, ctx) => {
      const problem = textProblem(s, { multiline, name });
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
}
