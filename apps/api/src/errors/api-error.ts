/** The codes clients see in `errors[].extensions.code`. */
export enum ApiErrorCode {
  BadUserInput = 'BAD_USER_INPUT',
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  RateLimited = 'RATE_LIMITED',
  NotFound = 'NOT_FOUND',
  /** The scoring threads' queue is full (SCORING_QUEUE_LIMIT): retry shortly, or elsewhere. */
  Overloaded = 'OVERLOADED',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  /** A store the operation needs is unreachable and the operation could not finish: call it again. */
  Unavailable = 'SERVICE_UNAVAILABLE',
  Internal = 'INTERNAL_SERVER_ERROR',
  /** A recommendationId this service did not issue, or altered. */
  InvalidRecommendationId = 'INVALID_RECOMMENDATION_ID',
  /** A recommendationId older than RECOMMENDATION_ID_TTL_DAYS. */
  RecommendationIdExpired = 'RECOMMENDATION_ID_EXPIRED',
}

/** A domain error the client can act on; anything else is reported as an internal error. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class BadUserInputError extends ApiError {
  constructor(message: string, details: { index?: number; field?: string } = {}) {
    super(ApiErrorCode.BadUserInput, message, details);
  }
}

export class UnauthenticatedError extends ApiError {
  constructor(message: string) {
    super(ApiErrorCode.Unauthenticated, message);
  }
}

/** A valid key without the scope the operation needs; `scope` names it. */
export class ForbiddenError extends ApiError {
  constructor(message: string, scope: string) {
    super(ApiErrorCode.Forbidden, message, { scope });
  }
}
