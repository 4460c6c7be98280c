/**
 * Domain errors. Services throw `AppError` with a stable code; the HTTP layer maps the code to a
 * status (see `http/error-handler.ts`) and keeps the code in the response envelope.
 */
export const errorStatus = {
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  PAYMENT_FAILED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  PAYMENT_PROVIDER_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;
export type ErrorStatus = (typeof errorStatus)[ErrorCode];

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details: unknown = null) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }

  get status(): ErrorStatus {
    return errorStatus[this.code];
  }
}

export const notFound = (what: string, id: string) =>
  new AppError("NOT_FOUND", `${what} '${id}' was not found`);

export const conflict = (message: string, details: unknown = null) =>
  new AppError("CONFLICT", message, details);

export const forbidden = (message: string) => new AppError("FORBIDDEN", message);

export const invalid = (message: string, details: unknown = null) =>
  new AppError("VALIDATION_ERROR", message, details);

/** For routes of the contract whose behaviour a later piece of work builds. */
export const notImplemented = (what: string) =>
  new AppError("NOT_IMPLEMENTED", `${what} is not implemented yet`);
