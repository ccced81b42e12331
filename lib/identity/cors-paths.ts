/** The identity endpoints IdentityServer enables CORS on by default. */
export const DEFAULT_CORS_PATHS: readonly string[] = Object.freeze([
  '/.well-known/openid-configuration',
  '/.well-known/openid-configuration/jwks',
  '/connect/token',
  '/connect/userinfo',
  '/connect/revocation',
]);

export const DEFAULT_CORS_POLICY_NAME = 'IdentityServer';

// eslint-disable-next-line no-control-regex
const BAD_PATH_CHARS = /[\u0000-\u0020\u007f?#\\*]/;

/** Why a configured CORS path is unusable, or undefined if it is fine. */
export function corsPathProblem(path: unknown): string | undefined {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    return `${JSON.stringify(path)} is not a path: CORS paths start with '/', e.g. '/connect/token'`;
  }
  if (BAD_PATH_CHARS.test(path)) {
    return `'${path}' contains a space, control character, '?', '#', '\\' or '*': CORS paths are literal request paths such as '/connect/token'`;
  }
  return undefined;
}

/** Compares paths as Express's router does by default: case-insensitively, ignoring one trailing slash. */
function routerKey(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}

/** A set of literal request paths with O(1) lookup. */
export class CorsPathSet {
  private readonly keys: ReadonlySet<string>;

  constructor(readonly paths: readonly string[]) {
    this.keys = new Set(paths.map(routerKey));
  }

  /** `path` is the request's pathname (no query string), as the router sees it. */
  has(path: string): boolean {
    return this.keys.has(routerKey(path));
  }
}
