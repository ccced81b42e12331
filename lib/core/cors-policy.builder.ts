import { ANY, CorsPolicy, type IsOriginAllowed } from './cors-policy.js';

/** Fluent construction of a CorsPolicy, after ASP.NET Core's CorsPolicyBuilder. Validation happens in build(). */
export class CorsPolicyBuilder {
  private readonly origins: string[] = [];
  private readonly methods: string[] = [];
  private readonly headers: string[] = [];
  private readonly exposedHeaders: string[] = [];
  private supportsCredentials = false;
  private preflightMaxAge?: number;
  private isOriginAllowed?: IsOriginAllowed;

  /** Starts from the given origins, or from a copy of an existing policy. */
  constructor(from?: CorsPolicy | Iterable<string>) {
    if (from instanceof CorsPolicy) {
      this.origins.push(...from.origins);
      this.methods.push(...from.methods);
      this.headers.push(...from.headers);
      this.exposedHeaders.push(...from.exposedHeaders);
      this.supportsCredentials = from.supportsCredentials;
      this.preflightMaxAge = from.preflightMaxAge;
      if (!from.isDefaultIsOriginAllowed) this.isOriginAllowed = (origin) => from.isOriginAllowed(origin);
    } else if (from) {
      this.origins.push(...from);
    }
  }

  /**
   * Exact origins (`https://app.example.com`) or subdomain patterns (`https://*.example.com`). A pattern must sit
   * under a registrable domain (not a public suffix such as `*.com` or `*.github.io`; `*.localhost` is accepted).
   */
  withOrigins(...origins: string[]): this {
    this.origins.push(...origins);
    return this;
  }

  allowAnyOrigin(): this {
    this.origins.splice(0, this.origins.length, ANY);
    return this;
  }

  withMethods(...methods: string[]): this {
    this.methods.push(...methods);
    return this;
  }

  allowAnyMethod(): this {
    this.methods.splice(0, this.methods.length, ANY);
    return this;
  }

  withHeaders(...headers: string[]): this {
    this.headers.push(...headers);
    return this;
  }

  allowAnyHeader(): this {
    this.headers.splice(0, this.headers.length, ANY);
    return this;
  }

  withExposedHeaders(...headers: string[]): this {
    this.exposedHeaders.push(...headers);
    return this;
  }

  allowCredentials(): this {
    this.supportsCredentials = true;
    return this;
  }

  disallowCredentials(): this {
    this.supportsCredentials = false;
    return this;
  }

  /** Seconds a browser may cache the preflight answer: a whole number ≥ 0 (checked by build()). */
  setPreflightMaxAge(seconds: number): this {
    this.preflightMaxAge = seconds;
    return this;
  }

  /**
   * Replaces the list-based origin check with a predicate (sync or async), as in ASP.NET Core. With
   * allowCredentials(), a predicate that allows origins no site uses (`https://cors-canary.invalid`) is refused:
   * by build() when it answers synchronously, at module startup when it answers with a promise.
   */
  setIsOriginAllowed(isOriginAllowed: IsOriginAllowed): this {
    this.isOriginAllowed = isOriginAllowed;
    return this;
  }

  /**
   * ASP.NET Core's switch for `https://*.example.com` entries. Patterns given to withOrigins are
   * always honoured here, so this only exists for parity; it keeps a custom predicate, if any.
   */
  setIsOriginAllowedToAllowWildcardSubdomains(): this {
    return this;
  }

  build(): CorsPolicy {
    return new CorsPolicy({
      origins: this.origins,
      methods: this.methods,
      headers: this.headers,
      exposedHeaders: this.exposedHeaders,
      supportsCredentials: this.supportsCredentials,
      preflightMaxAge: this.preflightMaxAge,
      isOriginAllowed: this.isOriginAllowed,
    });
  }
}

/** A policy as options accept it: built already, or a callback that configures a builder. */
export type CorsPolicyDefinition = CorsPolicy | ((builder: CorsPolicyBuilder) => unknown);

export function buildPolicy(definition: CorsPolicyDefinition): CorsPolicy {
  if (definition instanceof CorsPolicy) return definition;
  const builder = new CorsPolicyBuilder();
  const returned = definition(builder);
  return returned instanceof CorsPolicy ? returned : builder.build();
}
