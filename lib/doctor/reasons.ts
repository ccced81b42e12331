/**
 * The vocabulary of a CORS diagnosis, shared by the doctor (from the outside) and the in-app explainer:
 * the step a browser is at, why it blocks, and what a reviewer should hear although the browser says nothing.
 */

/** Where in a browser's `fetch` a check happens. */
export type CorsStep = 'request' | 'preflight' | 'actual' | 'redirect';

/** Why a browser blocks a cross-origin `fetch` (each is one failing check of the Fetch standard). */
export type CorsBlockReason =
  /** The preflight's answer is a redirect: browsers never follow one. */
  | 'preflight-redirect'
  /** The preflight's answer passed the CORS check but its status is not 200–299. */
  | 'preflight-status'
  /** No `Access-Control-Allow-Origin` on the answer. */
  | 'allow-origin-missing'
  /** More than one `Access-Control-Allow-Origin` value (several headers, or a list). */
  | 'allow-origin-multiple'
  /** `Access-Control-Allow-Origin` is neither the page's origin nor (without credentials) `*`. */
  | 'allow-origin-mismatch'
  /** `Access-Control-Allow-Origin: *` on a request with credentials. */
  | 'allow-origin-wildcard-with-credentials'
  /** A request with credentials, answered without `Access-Control-Allow-Credentials: true`. */
  | 'allow-credentials-missing'
  /** `Access-Control-Allow-Methods` or `-Allow-Headers` does not parse as a list of tokens. */
  | 'allow-list-invalid'
  /** The request's method is not in `Access-Control-Allow-Methods`. */
  | 'method-not-allowed'
  /** A non-safelisted request header is not in `Access-Control-Allow-Headers`. */
  | 'header-not-allowed'
  /**
   * `Authorization` is sent and `Access-Control-Allow-Headers` has only `*` for it: the Fetch standard blocks
   * this, shipping browsers do not (yet); the doctor reports it as the warning of the same name.
   */
  | 'authorization-not-covered-by-wildcard'
  /** A redirect's `Location` is not a URL the browser can follow (or carries user:password). */
  | 'redirect-invalid'
  /** More than 20 redirects. */
  | 'redirect-limit';

/** What a browser does not complain about but a reviewer should. */
export type CorsWarning =
  /** An origin-specific `Access-Control-Allow-Origin` without `Vary: Origin`: caches may serve it to another origin. */
  | 'vary-origin-missing'
  /** Credentials allowed for an origin made up by the doctor: the server reflects any origin. */
  | 'credentials-with-reflected-origin'
  /** The preflight was allowed, then the actual request got 404/405: the OPTIONS route is not the real route. */
  | 'preflight-ok-actual-not-found'
  /** `Authorization` passed the preflight only through `*`: browsers allow it today, the Fetch standard does not. */
  | 'authorization-not-covered-by-wildcard'
  /** `Access-Control-Max-Age` above what browsers keep (Chromium 2 h, Firefox 24 h). */
  | 'max-age-capped'
  /** `Access-Control-Max-Age` that browsers ignore (not a number of seconds). */
  | 'max-age-invalid';
