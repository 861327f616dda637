/**
 * E-mail through Resend's official SDK (`RESEND_API_URL` configurable). Every send carries a stable
 * `Idempotency-Key`, so a retried job never mails twice. In development without RESEND_API_KEY the
 * e-mail is written to the log instead.
 */
import { Resend } from "resend";
import type { Config } from "../config";
import { ProviderError } from "./errors";

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
  idempotencyKey: string;
}

export interface EmailSender {
  send(email: OutgoingEmail): Promise<{ id: string | null }>;
}

export function emailSender(config: Config): EmailSender | null {
  if (!config.RESEND_API_KEY) {
    if (config.ENVIRONMENT === "production") return null;
    return {
      async send(email) {
        console.log(
          JSON.stringify({
            level: "info",
            msg: "email (not sent: RESEND_API_KEY unset)",
            to: email.to,
            subject: email.subject,
            text: email.text,
          }),
        );
        return { id: null };
      },
    };
  }
  const client = new Resend(config.RESEND_API_KEY, { baseUrl: config.RESEND_API_URL.replace(/\/$/, "") });
  return {
    async send(email) {
      let result: Awaited<ReturnType<typeof client.emails.send>>;
      try {
        result = await client.emails.send(
          { from: config.EMAIL_FROM, to: [email.to], subject: email.subject, text: email.text, html: email.html },
          { idempotencyKey: email.idempotencyKey },
        );
      } catch (err) {
        throw new ProviderError("resend", `network error: ${(err as Error).message}`, true);
      }
      if (result.error) {
        const status = result.error.statusCode ?? 0;
        throw new ProviderError(
          "resend",
          result.error.message,
          status === 0 || status === 429 || status >= 500,
          status,
        );
      }
      return { id: result.data?.id ?? null };
    },
  };
}
