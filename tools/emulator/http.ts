/** HTTP plumbing shared by every provider: one parsed call per request, and the response helpers. */
import type { IncomingMessage, ServerResponse } from "node:http";

/** One incoming request, read in full (providers answer after seeing the whole body, like the real ones). */
export interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  raw: Buffer;
  /** `raw` as UTF-8 */
  body: string;
  url: URL;
  path: string;
  method: string;
  /** lower-case names; repeated headers joined with "," */
  headers: Record<string, string>;
  /** the caller asked for JSON (`Accept: application/json`): pages answer JSON instead of HTML */
  wantsJson: boolean;
}

/** Answers the call and returns true, or returns false to let the next route try. */
export type Route = (call: Call) => boolean | Promise<boolean>;

export async function readCall(req: IncomingMessage, res: ServerResponse): Promise<Call> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const url = new URL(req.url ?? "/", "http://emulator");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(",") : String(v ?? "");
  return {
    req,
    res,
    raw,
    body: raw.toString("utf8"),
    url,
    path: url.pathname,
    method: req.method ?? "GET",
    headers,
    wantsJson: (headers.accept ?? "").includes("application/json"),
  };
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
  return true;
}

export function html(res: ServerResponse, status: number, page: string): true {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8" });
  res.end(page);
  return true;
}

/** The body parsed as JSON, or undefined when it is not JSON (each provider words that error its own way). */
export function jsonOf(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** `Authorization: <scheme> <something>`, as every provider checks before anything else. */
export const hasAuth = (headers: Record<string, string>, scheme: "Bearer" | "Token") =>
  (headers.authorization ?? "").startsWith(`${scheme} `) && (headers.authorization ?? "").length > scheme.length + 1;
