import { z } from "../../http/openapi";

export const packSchema = z
  .object({ id: z.string(), credits: z.number().int(), priceCents: z.number().int(), currency: z.string() })
  .openapi("CreditPack");

export const checkoutBody = z.strictObject({ packId: z.string().min(1).max(100) }).openapi("CheckoutRequest");
export const checkoutResponse = z
  .object({ orderId: z.string(), checkoutSessionId: z.string(), checkoutUrl: z.string() })
  .openapi("CheckoutResponse");

export const orderSchema = z
  .object({
    id: z.string(),
    packId: z.string(),
    status: z.enum(["pending", "completed", "failed", "expired"]),
    totalCredits: z.number().int(),
    totalCents: z.number().int(),
    currency: z.string(),
    checkoutSessionId: z.string().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
    completedAt: z.number().int().nullable(),
    failedAt: z.number().int().nullable(),
    expiredAt: z.number().int().nullable(),
  })
  .openapi("PurchaseOrder");

export const ledgerEntrySchema = z
  .object({
    id: z.string(),
    type: z.enum(["credit", "debit"]),
    amount: z.number().int(),
    balanceAfter: z.number().int(),
    source: z.enum(["purchase", "session_booking", "session_refund", "manual_adjustment"]),
    purchaseOrderId: z.string().nullable(),
    sessionId: z.string().nullable(),
    description: z.string(),
    createdAt: z.number().int(),
  })
  .openapi("LedgerEntry");

export const adjustmentBody = z
  .strictObject({
    userId: z.string().min(1).max(100),
    type: z.enum(["credit", "debit"]),
    amount: z.number().int().positive().max(1_000_000),
    description: z.string().trim().min(1).max(500),
  })
  .openapi("AdjustmentRequest");
