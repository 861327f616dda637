/**
 * Agora App Builder: `POST /v1/channel` creates a room with a host and a viewer passphrase; the
 * join links `GET /meet/:passphrase` land on a page naming the room and the role.
 */
import { randomBytes } from "node:crypto";
import { type Call, html, jsonOf, send } from "./http.ts";
import { esc, layout } from "./pages.ts";
import { rid, type State } from "./state.ts";

export function meetPage(room: { channel: string; title: string; role: string } | null): string {
  if (!room) return layout("Unknown room", "<h1>Unknown passphrase</h1><p>No room has this passphrase.</p>");
  return layout(
    `Room ${room.title}`,
    `<h1>${esc(room.title)}</h1><p>You joined channel <code>${esc(room.channel)}</code> as <strong>${esc(room.role)}</strong>. (Emulated Agora App Builder room: no audio or video here.)</p>`,
  );
}

/** The room landing page (not a provider call: not recorded). */
export function meet(state: State, { method, path, res }: Call): boolean {
  const m = /^\/meet\/([^/]+)$/.exec(path);
  if (!m || method !== "GET") return false;
  return html(res, 200, meetPage(state.rooms.get(decodeURIComponent(m[1] as string)) ?? null));
}

/** `POST /v1/channel`. */
export function agora(state: State, call: Call): boolean {
  const { path, method, headers, res } = call;
  if (path !== "/v1/channel" || method !== "POST") return false;
  const refuse = (status: number, reason: string, error: string) => {
    state.log.loud("agora", call, reason);
    return send(res, status, { error });
  };
  if (!headers["x-api-key"] || !headers["x-project-id"]) {
    return refuse(401, "X-API-KEY and X-Project-ID headers are required", "missing credentials");
  }
  const parsed = jsonOf(call.body) as { title?: unknown; enable_pstn?: unknown } | undefined;
  if (parsed === undefined) return refuse(400, "body is not JSON", "invalid JSON body");
  if (typeof parsed.title !== "string" || !parsed.title) return refuse(400, "title is required", "title required");
  if (parsed.enable_pstn !== undefined && typeof parsed.enable_pstn !== "boolean") {
    return refuse(400, "enable_pstn must be a boolean", "enable_pstn must be a boolean");
  }
  const room = {
    channel: rid("ch"),
    title: parsed.title,
    host_pass_phrase: randomBytes(8).toString("hex"),
    viewer_pass_phrase: randomBytes(8).toString("hex"),
  };
  state.rooms.set(room.host_pass_phrase, { channel: room.channel, title: room.title, role: "host" });
  state.rooms.set(room.viewer_pass_phrase, { channel: room.channel, title: room.title, role: "viewer" });
  return send(res, 200, room);
}
