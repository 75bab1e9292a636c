/**
 * The few typed errors services throw; the API turns each into its HTTP status.
 */

/** The request itself is wrong (400). */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

/** The thing asked for does not exist (404). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** A service Glacis depends on is unreachable right now (503). */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

/** The request conflicts with the thing's state: cancelling an ended task, retrying one that did not fail (409). */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}
