/** How provider failures are classified for the queue: transient ones are retried, permanent ones are not. */
export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    readonly provider: string,
    message: string,
    /** true for 5xx, 429 and network failures: worth retrying. */
    readonly transient: boolean,
    readonly status?: number,
    /** The provider's own error code (Stripe's `code`, e.g. `insufficient_capabilities_for_transfer`). */
    readonly code?: string,
  ) {
    super(`${provider}: ${message}`);
  }
}
