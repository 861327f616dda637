/**
 * Webhook endpoints, managed by admins. Every change writes its audit row in the same batch. The
 * secret is returned by create and rotation only; lists and reads never carry it.
 */
import { desc, eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { keysetAfter } from "../../db/keyset";
import { webhookEndpoints } from "../../db/schema";
import { newId } from "../../lib/crypto";
import { decodeCursor, page } from "../../lib/cursor";
import { badRequest, notFound } from "../../lib/errors";
import { auditEntry, insertAudit } from "../audit/store";
import type { CreateEndpointInput, UpdateEndpointInput } from "./schemas";
import { newSecret, ROTATION_GRACE_MS } from "./signing";
import { refuseTarget } from "./target";

export type EndpointRow = typeof webhookEndpoints.$inferSelect;

export const endpointView = (e: EndpointRow) => ({
  id: e.id,
  url: e.url,
  events: e.events,
  description: e.description,
  enabled: e.enabled,
  disabledAt: e.disabledAt,
  failingSince: e.failingSince,
  createdAt: e.createdAt,
  updatedAt: e.updatedAt,
});

function checkTarget(svc: ServiceContext, url: string) {
  const reason = refuseTarget(url, svc.config.ENVIRONMENT);
  if (reason) throw badRequest(reason, [{ path: "url", message: reason }]);
}

async function endpointRow(svc: ServiceContext, id: string): Promise<EndpointRow> {
  const row = await svc.db.query.webhookEndpoints.findFirst({ where: eq(webhookEndpoints.id, id) });
  if (!row) throw notFound("Webhook endpoint");
  return row;
}

const exists = (id: string) => ({ sql: "EXISTS (SELECT 1 FROM webhookEndpoints WHERE id = ?)", binds: [id] });

export async function createEndpoint(svc: ServiceContext, adminId: string, input: CreateEndpointInput) {
  checkTarget(svc, input.url);
  const now = svc.clock.now();
  const id = newId("whe");
  const secret = newSecret();
  await svc.d1.batch([
    svc.d1
      .prepare(
        `INSERT INTO webhookEndpoints (id, url, events, description, enabled, secret, createdAt, updatedAt)
VALUES (?, ?, ?, ?, 1, ?, ?, ?)`,
      )
      .bind(id, input.url, JSON.stringify(input.events), input.description ?? null, secret, now, now),
    insertAudit(
      svc.d1,
      auditEntry(svc, adminId, "webhook_endpoint.create", id, { url: input.url, events: input.events.join(",") }, now),
      exists(id),
    ),
  ]);
  return { ...endpointView(await endpointRow(svc, id)), secret };
}

export async function listEndpoints(svc: ServiceContext, q: { limit: number; cursor?: string }) {
  const after = decodeCursor<[number, string]>(q.cursor, ["number", "string"]);
  const rows = await svc.db
    .select()
    .from(webhookEndpoints)
    .where(keysetAfter(webhookEndpoints.createdAt, webhookEndpoints.id, after))
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(q.limit + 1);
  return page(rows, q.limit, endpointView, (e) => [e.createdAt, e.id]);
}

export async function getEndpoint(svc: ServiceContext, id: string) {
  return endpointView(await endpointRow(svc, id));
}

/**
 * Enabling an endpoint starts it afresh (no failure streak, no disabled time); disabling it keeps its
 * pending deliveries, which fail at their next attempt (an admin can retry them once it is back).
 */
export async function updateEndpoint(svc: ServiceContext, adminId: string, id: string, input: UpdateEndpointInput) {
  const current = await endpointRow(svc, id);
  if (input.url !== undefined) checkTarget(svc, input.url);
  const now = svc.clock.now();
  const enabled = input.enabled ?? current.enabled;
  const turnedOn = enabled && !current.enabled;
  const turnedOff = !enabled && current.enabled;
  await svc.d1.batch([
    svc.d1
      .prepare(
        `UPDATE webhookEndpoints SET url = ?, events = ?, description = ?, enabled = ?,
  failingSince = ?, disabledAt = ?, updatedAt = ? WHERE id = ?`,
      )
      .bind(
        input.url ?? current.url,
        JSON.stringify(input.events ?? current.events),
        input.description === undefined ? current.description : input.description,
        enabled ? 1 : 0,
        turnedOn ? null : current.failingSince,
        turnedOn ? null : turnedOff ? now : current.disabledAt,
        now,
        id,
      ),
    insertAudit(
      svc.d1,
      auditEntry(
        svc,
        adminId,
        "webhook_endpoint.update",
        id,
        {
          ...(input.url !== undefined ? { url: input.url } : {}),
          ...(input.events !== undefined ? { events: input.events.join(",") } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        },
        now,
      ),
      exists(id),
    ),
  ]);
  return endpointView(await endpointRow(svc, id));
}

/** Deletes the endpoint and its delivery log (pending deliveries included: nothing is sent any more). */
export async function deleteEndpoint(svc: ServiceContext, adminId: string, id: string) {
  const current = await endpointRow(svc, id);
  const now = svc.clock.now();
  await svc.d1.batch([
    insertAudit(svc.d1, auditEntry(svc, adminId, "webhook_endpoint.delete", id, { url: current.url }, now), exists(id)),
    svc.d1.prepare("DELETE FROM webhookDeliveries WHERE endpointId = ?").bind(id),
    svc.d1.prepare("DELETE FROM webhookEndpoints WHERE id = ?").bind(id),
  ]);
}

/**
 * A new secret, effective at once; the old one keeps signing beside it for ROTATION_GRACE_MS, so a
 * receiver that updates within a day never refuses a delivery.
 */
export async function rotateSecret(svc: ServiceContext, adminId: string, id: string) {
  const current = await endpointRow(svc, id);
  const now = svc.clock.now();
  const secret = newSecret();
  const previousSecretExpiresAt = now + ROTATION_GRACE_MS;
  await svc.d1.batch([
    svc.d1
      .prepare(
        "UPDATE webhookEndpoints SET secret = ?, previousSecret = ?, previousSecretExpiresAt = ?, updatedAt = ? WHERE id = ?",
      )
      .bind(secret, current.secret, previousSecretExpiresAt, now, id),
    insertAudit(svc.d1, auditEntry(svc, adminId, "webhook_endpoint.rotate_secret", id, {}, now), exists(id)),
  ]);
  return { secret, previousSecretExpiresAt };
}
