/**
 * The API's errors are problem+json documents whose `code` is a closed list; openapi-fetch returns
 * them typed in `error`. `unwrap` turns a result into its data or a thrown ProblemError.
 */
import type { components } from "./schema";

export type Problem = components["schemas"]["Problem"];
export type ProblemCode = Problem["code"];

export class ProblemError extends Error {
  readonly status: number;
  readonly code: ProblemCode | undefined;
  readonly problem: Problem | undefined;
  constructor(response: Response, body: unknown) {
    const problem = isProblem(body) ? body : undefined;
    super(problem ? `${response.status} ${problem.code}: ${problem.detail}` : `HTTP ${response.status}`);
    this.name = "ProblemError";
    this.status = response.status;
    this.code = problem?.code;
    this.problem = problem;
  }
}

function isProblem(body: unknown): body is Problem {
  return typeof body === "object" && body !== null && typeof (body as { code?: unknown }).code === "string";
}

/** The data of a successful call; a ProblemError for anything else. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) throw new ProblemError(result.response, result.error);
  return result.data as T;
}
