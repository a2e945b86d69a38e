export enum ImportErrorCode {
  FileNotFound = 'FILE_NOT_FOUND',
  UnknownFormat = 'UNKNOWN_FORMAT',
  InvalidType = 'INVALID_TYPE',
  TooManyIds = 'TOO_MANY_IDS',
}

/** A bulk import refused before touching the database (a bad line is an InteractionParseError). */
export class ImportException extends Error {
  constructor(
    readonly code: ImportErrorCode,
    message: string,
  ) {
    super(message);
  }
}
