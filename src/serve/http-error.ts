/** An error that becomes an HTTP response `{"error": message}` with its status. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 413 | 500 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
