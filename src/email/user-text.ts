/**
 * Text that someone else typed (a name, a subject) or that a model wrote from someone's words (a report
 * summary), made safe to put in an e-mail to another person. The request schemas already refuse the
 * worst of it (lib/text.ts), but rows written before those rules, and text that never passed them,
 * reach the templates too, so this holds on its own:
 * - one line: control characters, line breaks and tabs become single spaces (nothing can start a new
 *   header or paragraph); bidi overrides/isolates and invisible characters are removed, lone
 *   surrogates become U+FFFD;
 * - no address, no link: e-mail addresses become "[address removed]", URLs (a scheme, `www.`,
 *   `javascript:`, a host with a path) "[link removed]", and a bare host name is defanged
 *   ("evil[.]example"), so no mail client turns it into something to click;
 * - bounded: cut to `max` characters (code points) with an ellipsis.
 * HTML escaping is the layout's job (templates.ts); the text part shows these values as quoted.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Bidi embeddings/overrides/isolates, soft hyphen, Mongolian vowel separator, zero-width space, word joiners, BOM. */
const INVISIBLE = /[\u202A-\u202E\u2066-\u2069\u00AD\u180E\u200B\u2060-\u2064\uFEFF]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
const BREAKS_AND_CONTROLS = /[\s\u0000-\u001F\u007F-\u009F]+/g;
const EMAIL_ADDRESS = /[^\s@<>()[\]"',;:]+@[^\s@<>()[\]"',;:]+\.[^\s@<>()[\]"',;:]+/g;
/** The rest of a link, without the sentence's closing punctuation ("see www.x.com." keeps its dot). */
const TAIL = String.raw`(?:\S*[^\s.,;:!?)\]'"”’])?`;
const URL_LIKE = new RegExp(
  [
    String.raw`\b[a-z][a-z0-9+.-]*:\/\/`,
    String.raw`\bwww\.`,
    String.raw`\b(?:javascript|vbscript|data|mailto):`,
    String.raw`\b[a-z0-9-]+(?:\.[a-z0-9-]+)+\/`,
  ]
    .map((start) => start + TAIL)
    .join("|"),
  "gi",
);
const BARE_HOST = /\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,63}\b/gi;

export const LINK_REMOVED = "[link removed]";
export const ADDRESS_REMOVED = "[address removed]";

/** Cuts to `max` code points, the last one an ellipsis when something was cut. */
export function bounded(s: string, max: number): string {
  const points = Array.from(s);
  if (points.length <= max) return s;
  return `${points
    .slice(0, max - 1)
    .join("")
    .trimEnd()}…`;
}

/** One neutral, bounded line of someone's text (see above). */
export function userText(s: string, max: number): string {
  const line = s
    .normalize("NFC")
    .replace(LONE_SURROGATE, "\uFFFD")
    .replace(INVISIBLE, "")
    .replace(BREAKS_AND_CONTROLS, " ")
    .replace(EMAIL_ADDRESS, ADDRESS_REMOVED)
    .replace(URL_LIKE, LINK_REMOVED)
    .replace(BARE_HOST, (host) => host.replaceAll(".", "[.]"))
    .trim();
  return bounded(line, max);
}
