/** File system errors as one line a user can act on. */

/**
 * A file system error as `WHAT PATH: DESCRIPTION (CODE)`, keeping the original as `cause`. Node's own
 * message names the system call and sometimes no path at all (`EISDIR: illegal operation on a
 * directory, read`), or a path the user never gave (a file inside a temporary directory).
 */
export function fileError(what: string, path: string, err: unknown): Error {
  const { code, message } = err as NodeJS.ErrnoException;
  const description = message.replace(/^[A-Z]+: /, '').replace(/, \w+( '.*)?$/, '');
  return new Error(`${what} ${path}: ${description}${code ? ` (${code})` : ''}`, { cause: err });
}
