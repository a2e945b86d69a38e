import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import { ScoringOverloadedError } from '@app/model';
import { ApiError, ApiErrorCode } from './api-error';
import { isStoreUnavailable } from './store-unavailable';

/** The one place domain errors become GraphQL errors; unknown ones are logged and hidden. */
@Catch()
export class GraphqlExceptionFilter extends BaseExceptionFilter implements GqlExceptionFilter {
  private readonly log = new Logger('GraphQL');

  override catch(exception: unknown, host: ArgumentsHost): unknown {
    // REST routes (/health, /metrics, /exports) keep Nest's own handling, bodies included
    if (host.getType<string>() !== 'graphql')
      return super.catch(exception instanceof ApiError ? toHttp(exception) : exception, host);
    if (exception instanceof GraphQLError) return exception;
    if (exception instanceof ApiError) {
      return new GraphQLError(exception.message, { extensions: { code: exception.code, ...exception.details } });
    }
    if (exception instanceof ScoringOverloadedError) {
      return new GraphQLError('Too many requests are waiting for a decode: retry shortly', {
        extensions: { code: ApiErrorCode.Overloaded },
      });
    }
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      return new GraphQLError(exception.message, { extensions: { code: ApiErrorCode.BadUserInput } });
    }
    if (isStoreUnavailable(exception)) {
      this.log.warn(`a store is unavailable: ${(exception as Error).message}`);
      return new GraphQLError('A store this operation needs is unavailable: call it again shortly', {
        extensions: { code: ApiErrorCode.Unavailable },
      });
    }
    this.log.error(exception instanceof Error ? exception.stack : String(exception));
    // no stack, no internals: the log has them
    return new GraphQLError('Internal server error', { extensions: { code: ApiErrorCode.Internal } });
  }
}

const HTTP_STATUS: Record<ApiErrorCode, HttpStatus> = {
  [ApiErrorCode.BadUserInput]: HttpStatus.BAD_REQUEST,
  [ApiErrorCode.Unauthenticated]: HttpStatus.UNAUTHORIZED,
  [ApiErrorCode.Forbidden]: HttpStatus.FORBIDDEN,
  [ApiErrorCode.RateLimited]: HttpStatus.TOO_MANY_REQUESTS,
  [ApiErrorCode.NotFound]: HttpStatus.NOT_FOUND,
  [ApiErrorCode.Overloaded]: HttpStatus.SERVICE_UNAVAILABLE,
  [ApiErrorCode.PayloadTooLarge]: HttpStatus.PAYLOAD_TOO_LARGE,
  [ApiErrorCode.Unavailable]: HttpStatus.SERVICE_UNAVAILABLE,
  [ApiErrorCode.Internal]: HttpStatus.INTERNAL_SERVER_ERROR,
  [ApiErrorCode.InvalidRecommendationId]: HttpStatus.BAD_REQUEST,
  [ApiErrorCode.RecommendationIdExpired]: HttpStatus.BAD_REQUEST,
};

function toHttp(error: ApiError): HttpException {
  return new HttpException(
    { statusCode: HTTP_STATUS[error.code], code: error.code, message: error.message },
    HTTP_STATUS[error.code],
  );
}
