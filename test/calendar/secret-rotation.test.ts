/**
 * What a JWT_SECRET rotation does to feed URLs (docs/calendar.md): while JWT_SECRET_PREVIOUS is the
 * old secret the old URL keeps working, until GET /v1/me/calendar notices that the stored hash is
 * not the current key's token and rewrites it (a new URL); without the previous secret the old
 * URL is 404 at once. Also the OpenAPI document's shape of the feed route.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getConfig } from "../../src/config";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import { signAccessToken } from "../../src/modules/auth/tokens";
import { call, createUser, env, json } from "../helpers/api";

const NEW_SECRET = "rotated-secret-rotated-secret-rotated-secret-42";
const rotated = { ...env, JWT_SECRET: NEW_SECRET, JWT_SECRET_PREVIOUS: env.JWT_SECRET } as Env;
const stranger = { ...env, JWT_SECRET: NEW_SECRET } as Env;

async function send(bindings: Env, path: string, token?: string): Promise<Response> {
  const ctx = createExecutionContext();
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const res = await worker.fetch(new Request(`http://api.test${path}`, { headers }), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const path = (url: string) => new URL(url).pathname;

async function urlUnder(bindings: Env, token: string): Promise<string> {
  const res = await send(bindings, "/v1/me/calendar", token);
  expect(res.status).toBe(200);
  return (await json<{ url: string }>(res)).url;
}

describe("JWT_SECRET rotation", () => {
  it("with the old secret as JWT_SECRET_PREVIOUS: the old URL works until GET rewrites it, then the new one", async () => {
    const user = await createUser();
    const before = await urlUnder(env, user.token);
    expect((await send(rotated, path(before))).status).toBe(200);
    // the access token of the old secret still verifies (previous key); the URL is the new key's
    const after = await urlUnder(rotated, user.token);
    expect(after).not.toBe(before);
    expect(await urlUnder(rotated, user.token)).toBe(after);
    expect((await send(rotated, path(before))).status).toBe(404);
    expect((await send(rotated, path(after))).status).toBe(200);
  });

  it("without the previous secret every URL of the old one is 404 at once", async () => {
    const user = await createUser();
    const before = await urlUnder(env, user.token);
    expect((await send(stranger, path(before))).status).toBe(404);
    const token = await signAccessToken(getConfig(stranger), { sub: user.id, role: "student" });
    const after = await urlUnder(stranger, token);
    expect(after).not.toBe(before);
    expect((await send(stranger, path(after))).status).toBe(200);
  });
});

describe("OpenAPI document", () => {
  it("names the feed /v1/calendar/{token}.ics with its token parameter and text/calendar", async () => {
    const doc = await json<{ paths: Record<string, Record<string, Record<string, unknown>>> }>(
      await call("/v1/openapi.json"),
    );
    const op = doc.paths["/v1/calendar/{token}.ics"]?.get as {
      parameters: { name: string; in: string; required: boolean }[];
      responses: Record<string, { content?: Record<string, unknown> }>;
      security?: unknown;
    };
    expect(op.parameters).toEqual([expect.objectContaining({ name: "token", in: "path", required: true })]);
    expect(Object.keys(op.responses["200"]?.content ?? {})).toEqual(["text/calendar"]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "404"]));
    expect(op.security).toEqual([]); // the token in the URL is the credential: no bearer token
    expect(doc.paths["/v1/me/calendar"]?.get).toBeDefined();
    expect(doc.paths["/v1/me/calendar/rotate"]?.post).toBeDefined();
  });
});
