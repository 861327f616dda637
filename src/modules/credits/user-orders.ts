/** `GET /v1/admin/users/:id/orders`: a user's purchase orders as the user sees them (GET /v1/credits/orders). */
import { eq } from "drizzle-orm";
import type { ServiceContext } from "../../context";
import { users } from "../../db/schema";
import { notFound } from "../../lib/errors";
import { listOrders } from "./service";

/** Newest first on creditPurchaseOrders_by_user_and_createdAt; 404 for an unknown user (not an empty page). */
export async function listUserOrders(svc: ServiceContext, userId: string, q: { limit: number; cursor?: string }) {
  const user = await svc.db.query.users.findFirst({ where: eq(users.id, userId), columns: { id: true } });
  if (!user) throw notFound("User");
  return listOrders(svc, userId, q);
}
