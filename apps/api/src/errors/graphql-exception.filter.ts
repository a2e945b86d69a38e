import { ArgumentsHost, Catch, HttpException, Logger } from '@nestjs/common';
import { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import { ApiError, ApiErrorCode } from './api-error';

/** The one place domain errors become GraphQL errors; unknown ones are logged and hidden. */
@Catch()
export class GraphqlExceptionFilter implements GqlExceptionFilter {
  private readonly logger = new Logger('GraphQL');

  catch(exception: unknown, host: ArgumentsHost): GraphQLError | unknown {
    if (host.getType<string>() !== 'graphql') throw exception; // REST routes keep Nest's own handling
    if (exception instanceof GraphQLError) return exception;
    if (exception instanceof ApiError) {
      return new GraphQLError(exception.message, { extensions: { code: exception.code, ...exception.details } });
    }
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      return new GraphQLError(exception.message, { extensions: { code: ApiErrorCode.BadUserInput } });
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    // no stack, no internals: the log has them
    return new GraphQLError('Internal server error', { extensions: { code: ApiErrorCode.Internal } });
  }
}
