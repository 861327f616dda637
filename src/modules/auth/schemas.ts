import { userContexts } from "../../db/schema";
import { z } from "../../http/openapi";

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    context: z.enum(userContexts),
    studentProfileId: z.string().nullable(),
    tutorProfileId: z.string().nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi("User");

export const tokenPairSchema = z
  .object({
    accessToken: z.string(),
    refreshToken: z.string(),
    expiresIn: z.number().int(),
    user: userSchema,
  })
  .openapi("TokenPair");

export const otpRequestBody = z.strictObject({ email: z.email().max(254) }).openapi("OtpRequest");
export const otpVerifyBody = z
  .strictObject({ email: z.email().max(254), code: z.string().regex(/^\d{6}$/, "A 6-digit code") })
  .openapi("OtpVerify");
export const refreshBody = z.strictObject({ refreshToken: z.string().min(1).max(512) }).openapi("RefreshRequest");
