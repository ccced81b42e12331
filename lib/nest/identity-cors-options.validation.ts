/**
 * Module options: validated with class-validator and built into what the module runs on. Over 200 lines because
 * every problem is reported at once, each naming the value and a fix that is itself accepted (did-you-mean for
 * keys and policy names, RULES 16); the DTOs and the resolution that reads them are kept side by side.
 */
import {
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Min,
  Validate,
  ValidateIf,
  ValidateNested,
  type ValidationArguments,
  type ValidationError,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
  validateSync,
} from 'class-validator';
import { buildPolicy, type CorsPolicyDefinition } from '../core/cors-policy.builder.js';
import { CorsPolicy, maxAgeProblem } from '../core/cors-policy.js';
import { normalizeOrigin } from '../core/origin.js';
import { clientProblems, type CorsClient } from '../identity/cors-client.interface.js';
import { corsPathProblem, CorsPathSet, DEFAULT_CORS_PATHS, DEFAULT_CORS_POLICY_NAME } from '../identity/cors-paths.js';
import type { IdentityCorsModuleOptions } from './identity-cors-options.interface.js';

/** Thrown at startup with every problem found in the options, each naming the value and the fix. */
export class IdentityCorsOptionsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid IdentityCorsModule options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'IdentityCorsOptionsError';
  }
}

/** Options after validation: policies built, origins normalized, defaults filled in. */
export interface ResolvedCorsOptions {
  policies: Map<string, CorsPolicy>;
  defaultPolicy?: CorsPolicy;
  /** Policy for routes without CORS metadata: `{ name }` (undefined name = default policy), or none. */
  globalPolicy?: { name?: string };
  policyTimeout: number;
  handleBeforeExpress: boolean;
  identity: {
    corsPaths: CorsPathSet;
    corsPolicyName: string;
    preflightCacheDuration?: number;
    clients?: CorsClient[];
    allowedOrigins: string[];
    allowAll: boolean;
  };
}

const DEFAULT_POLICY_TIMEOUT_MS = 5000;

/** An array option whose elements are checked one by one; every bad element is reported on its own line. */
abstract class ListConstraint implements ValidatorConstraintInterface {
  protected abstract readonly expected: string;
  protected abstract problemsOf(item: unknown, index: number, seen: Set<unknown>): string[];

  private problems(value: unknown[]): string[] {
    const seen = new Set<unknown>();
    return value.flatMap((item, index) => this.problemsOf(item, index, seen));
  }
  validate(value: unknown): boolean {
    return Array.isArray(value) && this.problems(value).length === 0;
  }
  defaultMessage(args: ValidationArguments): string {
    return Array.isArray(args.value) ? this.problems(args.value).join('\n') : `$property must be an array of ${this.expected}`;
  }
}

@ValidatorConstraint({ name: 'origins' })
class OriginsConstraint extends ListConstraint {
  protected readonly expected = "origins such as ['https://app.example.com']";
  protected problemsOf(origin: unknown, index: number): string[] {
    try {
      normalizeOrigin(origin);
      return [];
    } catch (error) {
      return [`[${index}] ${(error as Error).message}`];
    }
  }
}

@ValidatorConstraint({ name: 'clients' })
class ClientsConstraint extends ListConstraint {
  protected readonly expected = 'clients { clientId, allowedCorsOrigins, enabled? }';
  protected problemsOf(client: unknown, index: number, seen: Set<unknown>): string[] {
    const problems = clientProblems(client, `clients[${index}]`);
    const id = (client as Partial<CorsClient> | null)?.clientId;
    if (typeof id === 'string') {
      if (seen.has(id)) problems.push(`client '${id}' is configured twice: client ids must be unique`);
      seen.add(id);
    }
    return problems;
  }
}

@ValidatorConstraint({ name: 'maxAge' })
class MaxAgeConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return maxAgeProblem('', value) === undefined;
  }
  defaultMessage(args: ValidationArguments): string {
    return maxAgeProblem(args.property, args.value) ?? '';
  }
}

@ValidatorConstraint({ name: 'corsPaths' })
class CorsPathsConstraint extends ListConstraint {
  protected readonly expected = "paths such as ['/connect/token']";
  protected problemsOf(path: unknown): string[] {
    const problem = corsPathProblem(path);
    return problem ? [problem] : [];
  }
}

class IdentityOptionsDto {
  @IsOptional() @IsArray() @Validate(CorsPathsConstraint) corsPaths?: unknown;
  @IsOptional() @IsString() @IsNotEmpty() corsPolicyName?: unknown;
  // null is refused rather than ignored as @IsOptional would: it would reach the identity policy as a max-age.
  @ValidateIf((dto: IdentityOptionsDto) => dto.preflightCacheDuration !== undefined) @Validate(MaxAgeConstraint) preflightCacheDuration?: unknown;
  @IsOptional() @IsArray() @Validate(ClientsConstraint) clients?: unknown;
  @IsOptional() @IsArray() @Validate(OriginsConstraint) allowedOrigins?: unknown;
  @IsOptional() @IsBoolean() allowAll?: unknown;
}

class ModuleOptionsDto {
  @IsOptional() @IsObject() policies?: unknown;
  @IsOptional() defaultPolicy?: unknown;
  @IsOptional() globalPolicy?: unknown;
  @IsOptional()
  @IsInt({ message: '$property must be a whole number of milliseconds (got $value): use e.g. 5000' })
  @Min(1, { message: '$property must be at least 1 ms (got $value): use e.g. 5000' })
  policyTimeout?: unknown;
  @IsOptional()
  @IsBoolean({ message: '$property must be true or false (got $value): false handles CORS in Express, after earlier middleware' })
  handleBeforeExpress?: unknown;
  @IsOptional() @IsObject() @ValidateNested() identity?: IdentityOptionsDto;
}

const MODULE_KEYS = ['policies', 'defaultPolicy', 'globalPolicy', 'policyTimeout', 'handleBeforeExpress', 'identity'];
// Extras of forRoot/forRootAsync (see identity-cors.module-definition.ts) arrive beside the options.
const EXTRA_KEYS = ['isGlobal', 'corsPolicyService', 'policyProvider'];
const IDENTITY_KEYS = ['corsPaths', 'corsPolicyName', 'preflightCacheDuration', 'clients', 'allowedOrigins', 'allowAll'];

/** Edit distance (insertions, deletions, substitutions), for did-you-mean suggestions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * The known name closest to a misspelled one, only when it is close: a different case, or at most one edit
 * per three characters (two at most). Undefined when nothing is that close, or two are equally close.
 */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const scored = [...new Set(known)]
    .map((candidate) => ({ candidate, distance: candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase()) }))
    .filter(({ candidate, distance }) => candidate !== name && distance <= Math.min(2, Math.max(1, Math.floor(name.length / 3))))
    .sort((a, b) => a.distance - b.distance);
  if (scored.length === 0 || (scored.length > 1 && scored[1].distance === scored[0].distance)) return undefined;
  return scored[0].candidate;
}

/** `; did you mean 'x'?` when a known name is close, else ''. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const closest = closestName(name, known);
  return closest === undefined ? '' : `; did you mean '${closest}'?`;
}

function unknownKeys(value: object, known: string[], at: string, elsewhere: { keys: string[]; at: string }): string[] {
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => {
      if (elsewhere.keys.includes(key)) return `${at}${key} is not an option here: it belongs in ${elsewhere.at ? elsewhere.at.slice(0, -1) : 'the top level of the options'}: use '${elsewhere.at}${key}'`;
      const closest = closestName(key, known);
      const hint = closest === undefined ? '' : `did you mean '${closest}'? use '${at}${closest}'; `;
      return `${at}${key} is not an option: ${hint}known options are ${known.join(', ')}`;
    });
}

/** One line per problem: list constraints report each bad element on its own line. */
function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => [
    ...Object.values(error.constraints ?? {})
      .flatMap((message) => message.split('\n'))
      .map((message) => (message.startsWith(error.property) ? `${prefix}${message}` : `${prefix}${error.property}: ${message}`)),
    ...flatten(error.children ?? [], `${prefix}${error.property}.`),
  ]);
}

function isPolicyDefinition(value: unknown): value is CorsPolicyDefinition {
  return typeof value === 'function' || value instanceof CorsPolicy;
}

/**
 * identity.clients replaces DefaultCorsPolicyService, and allowAll makes an allow-list moot: options that would be
 * ignored are refused, naming both and the fix (RULES 15). An empty allowedOrigins list is no conflict (it often comes
 * from an unset environment variable).
 */
function identityConflicts(identity: unknown): string[] {
  if (typeof identity !== 'object' || identity === null) return [];
  const { clients, allowedOrigins, allowAll } = identity as Record<string, unknown>;
  const listsOrigins = Array.isArray(allowedOrigins) && allowedOrigins.length > 0;
  const problems: string[] = [];
  if (clients !== undefined && listsOrigins) {
    problems.push(
      "identity.clients and identity.allowedOrigins are both set, and clients would win (allowedOrigins would be ignored): list those origins in a client's allowedCorsOrigins, or remove identity.clients",
    );
  }
  if (clients !== undefined && allowAll === true) {
    problems.push('identity.clients and identity.allowAll are both set, and clients would win (allowAll would be ignored): remove allowAll, or remove identity.clients to allow every origin');
  }
  if (clients === undefined && listsOrigins && allowAll === true) {
    problems.push('identity.allowAll and identity.allowedOrigins are both set, and allowAll would win (allowedOrigins would be ignored): remove allowAll to allow only the listed origins, or remove allowedOrigins');
  }
  return problems;
}

/** Validates module options with class-validator and builds what the module runs on; throws one error listing every problem. */
export function resolveOptions(options: IdentityCorsModuleOptions | undefined): ResolvedCorsOptions {
  const raw = (options ?? {}) as IdentityCorsModuleOptions & Record<string, unknown>;
  if (typeof raw !== 'object') throw new IdentityCorsOptionsError(['options must be an object']);
  const dto = Object.assign(new ModuleOptionsDto(), raw);
  if (typeof raw.identity === 'object' && raw.identity !== null) dto.identity = Object.assign(new IdentityOptionsDto(), raw.identity);
  const problems = [
    ...unknownKeys(raw, [...MODULE_KEYS, ...EXTRA_KEYS], '', { keys: IDENTITY_KEYS, at: 'identity.' }),
    ...(typeof raw.identity === 'object' && raw.identity !== null
      ? unknownKeys(raw.identity, IDENTITY_KEYS, 'identity.', { keys: [...MODULE_KEYS, ...EXTRA_KEYS], at: '' })
      : []),
    ...identityConflicts(raw.identity),
    ...flatten(validateSync(dto)),
  ];

  const policies = new Map<string, CorsPolicy>();
  for (const [name, definition] of Object.entries(raw.policies ?? {})) {
    if (!isPolicyDefinition(definition)) {
      problems.push(`policies.${name} must be a CorsPolicy or a builder callback (b) => b.withOrigins(...)`);
      continue;
    }
    try {
      policies.set(name, buildPolicy(definition));
    } catch (error) {
      problems.push(`policies.${name}: ${(error as Error).message}`);
    }
  }

  const policyNames = Object.keys(raw.policies ?? {});
  const known = policyNames.join(', ') || 'none';
  let defaultPolicy: CorsPolicy | undefined;
  if (typeof raw.defaultPolicy === 'string') {
    defaultPolicy = policies.get(raw.defaultPolicy);
    if (!defaultPolicy && !(raw.defaultPolicy in (raw.policies ?? {}))) {
      problems.push(`defaultPolicy '${raw.defaultPolicy}' names no policy: define it in policies (known: ${known})${didYouMean(raw.defaultPolicy, policyNames)}`);
    }
  } else if (raw.defaultPolicy !== undefined) {
    if (!isPolicyDefinition(raw.defaultPolicy)) problems.push('defaultPolicy must be a CorsPolicy, a builder callback, or the name of one of policies');
    else {
      try {
        defaultPolicy = buildPolicy(raw.defaultPolicy);
      } catch (error) {
        problems.push(`defaultPolicy: ${(error as Error).message}`);
      }
    }
  }

  let globalPolicy: ResolvedCorsOptions['globalPolicy'];
  if (raw.globalPolicy === true) {
    if (raw.defaultPolicy === undefined) problems.push('globalPolicy: true applies the default policy, but no defaultPolicy is set: set defaultPolicy or name a policy');
    globalPolicy = {};
  } else if (typeof raw.globalPolicy === 'string') {
    if (!(raw.globalPolicy in (raw.policies ?? {}))) {
      problems.push(`globalPolicy '${raw.globalPolicy}' names no policy: define it in policies (known: ${known})${didYouMean(raw.globalPolicy, policyNames)}`);
    }
    globalPolicy = { name: raw.globalPolicy };
  } else if (raw.globalPolicy !== undefined && raw.globalPolicy !== false) {
    problems.push(`globalPolicy must be a policy name or true (got ${JSON.stringify(raw.globalPolicy)})`);
  }

  if (problems.length > 0) throw new IdentityCorsOptionsError(problems);

  const identity = raw.identity ?? {};
  return {
    policies,
    defaultPolicy,
    globalPolicy,
    policyTimeout: raw.policyTimeout ?? DEFAULT_POLICY_TIMEOUT_MS,
    handleBeforeExpress: raw.handleBeforeExpress ?? true,
    identity: {
      corsPaths: new CorsPathSet(identity.corsPaths ?? DEFAULT_CORS_PATHS),
      corsPolicyName: identity.corsPolicyName ?? DEFAULT_CORS_POLICY_NAME,
      preflightCacheDuration: identity.preflightCacheDuration,
      clients: identity.clients,
      allowedOrigins: (identity.allowedOrigins ?? []).map(normalizeOrigin),
      allowAll: identity.allowAll ?? false,
    },
  };
}
