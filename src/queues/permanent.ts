/** An error that retrying cannot fix: the consumer records the job as a dead letter at once. */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}
