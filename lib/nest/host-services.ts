/**
 * The host's ICorsPolicyService and ICorsPolicyProvider, resolved once, before the identity provider is built.
 * Over 200 lines because resolving across modules in no set order needs its cycle check and its startup errors
 * beside it (docs/internals.md, How the identity provider gets the host's services).
 */
import { Inject, type InjectionToken } from '@nestjs/common';
import { ModuleRef, type ModulesContainer } from '@nestjs/core';
import { ICorsPolicyService } from '../identity/cors-policy-service.interface.js';
import { ICorsPolicyProvider } from '../policy-lookup/cors-policy-provider.interface.js';
import type { ResolvedCorsOptions } from './identity-cors-options.validation.js';
import type { CorsModuleOverrides } from './identity-cors.providers.js';

/** A line CorsBootstrap logs at startup. */
export interface StartupNote {
  level: 'log' | 'warn';
  message: string;
}

/**
 * What the identity provider is built with: the ICorsPolicyService it asks and the provider it decorates, each
 * the module's own (options, built-in, or overrideProvider) or one registered in a host module, and what to say
 * about that choice at startup. The notes are logged by CorsBootstrap, not here: providers are built before
 * the app's logger is set (Test.createTestingModule(...).compile(), then createNestApplication({ logger })).
 */
export interface HostServices {
  policyService: ICorsPolicyService;
  inner: ICorsPolicyProvider;
  notes: StartupNote[];
}

// Nest's Module and InstanceWrapper, named through the public ModulesContainer rather than deep imports.
type Module = NonNullable<ReturnType<ModulesContainer['get']>>;
type InstanceWrapper = NonNullable<ReturnType<Module['providers']['get']>>;

// Each asks the injector of a host module for its provider, as a class of that module injecting it would.
class ServiceProbe {
  constructor(@Inject(ICorsPolicyService) readonly instance: unknown) {}
}
class ProviderProbe {
  constructor(@Inject(ICorsPolicyProvider) readonly instance: unknown) {}
}

/** How often a wait for a host module's provider looks for a cycle through the identity layer. */
const CYCLE_CHECK_MS = 20;

/**
 * Finds the ICorsPolicyService and ICorsPolicyProvider registered in host modules (every module but
 * IdentityCorsModule's own, whose ModuleRef is `own`) and picks what the identity provider is built with.
 *
 * Nest builds the providers of all modules at once, in no order across modules, so a host's service may not
 * exist yet (it may wait for a database). Each is resolved through its own module's ModuleRef.create(), with a
 * class that injects it: Nest's injector then waits for it (and its dependencies) as for any dependency.
 * `waiting` is the provider of this module that waits for them, for the cycle check (see resolveInModule).
 */
export async function resolveHostServices(
  modules: ModulesContainer,
  own: ModuleRef,
  waiting: InjectionToken,
  built: { policyService: ICorsPolicyService; inner: ICorsPolicyProvider },
  options: ResolvedCorsOptions,
  overrides: CorsModuleOverrides,
): Promise<HostServices> {
  const ownModule = [...modules.values()].find((module) => moduleRefOf(module) === own);
  // A second copy of IdentityCorsModule is no host module (and is refused when it mounts): each copy waiting for
  // the other's services would never end.
  const hosts = [...modules.values()].filter((module) => module.metatype !== ownModule?.metatype);
  const waiter = ownModule?.providers.get(waiting);
  const [services, providers] = await Promise.all([
    resolveAll(hosts, ICorsPolicyService, ServiceProbe, waiter),
    resolveAll(hosts, ICorsPolicyProvider, ProviderProbe, waiter),
  ]);
  const notes: StartupNote[] = [];
  const hostService = pick<ICorsPolicyService>(ICorsPolicyService, services, built.policyService, overrides.corsPolicyService && 'corsPolicyService', notes);
  const hostProvider = pick<ICorsPolicyProvider>(ICorsPolicyProvider, providers, built.inner, overrides.policyProvider && 'policyProvider', notes);
  const policyService = hostService ?? built.policyService;
  const inner = hostProvider ?? built.inner;
  const serviceFrom = overrides.corsPolicyService ? 'the corsPolicyService option' : hostService ? 'an ICorsPolicyService provider in a host module' : undefined;
  if (serviceFrom) noteIgnored(notes, serviceFrom, policyService, ignoredIdentityOptions(options), 'decides which origins the identity endpoints allow');
  const providerFrom = overrides.policyProvider ? 'the policyProvider option' : hostProvider ? 'an ICorsPolicyProvider provider in a host module' : undefined;
  if (providerFrom) noteIgnored(notes, providerFrom, inner, ignoredPolicyOptions(options), "answers every policy name but the identity one (globalPolicy's name is passed to it)");
  return { policyService, inner, notes };
}

/** The ModuleRef Nest registers in every module (as its own provider, resolved when the module is added). */
function moduleRefOf(module: Module): unknown {
  return module.providers.get(ModuleRef)?.instance;
}

/** The method each token's instances must have: what the identity provider calls on them. */
const REQUIRED_METHOD: Record<symbol, string> = { [ICorsPolicyService]: 'isOriginAllowed(origin)', [ICorsPolicyProvider]: 'getPolicy(request, policyName)' };

/** The instances that host modules register for `token`, in module order, each once. */
async function resolveAll(hosts: Module[], token: symbol, probe: new (instance: unknown) => { instance: unknown }, waiter: InstanceWrapper | undefined): Promise<unknown[]> {
  const registering = hosts.filter((module) => module.providers.has(token));
  const found = await Promise.all(registering.map((module) => resolveInModule(module, token, probe, waiter)));
  // One without the method would fail every request it decides (denied, logged as a failing policy): a startup error instead.
  const method = REQUIRED_METHOD[token]!;
  found.forEach((instance, i) => {
    if (instance === undefined) return;
    if (typeof (instance as Record<string, unknown> | null)?.[method.slice(0, method.indexOf('('))] === 'function') return;
    const value = instance === null || typeof instance !== 'object' ? JSON.stringify(instance) ?? String(instance) : `an object without ${method.slice(0, method.indexOf('('))}`;
    throw new Error(
      `${token.description} registered in ${registering[i]!.name} is ${value}, not an ${token.description}: register a class or an object with ${method}, or remove that provider from ${registering[i]!.name}.`,
    );
  });
  return [...new Set(found)].filter((instance) => instance !== undefined);
}

/**
 * A host module's provider for `token`, once Nest has built it. ModuleRef.create() waits for a provider being
 * built and builds one not started yet, but it is not an edge of Nest's own cycle detection (a throwaway
 * class waits, not `waiter`): a host provider that depends, through any chain, on `waiter` (say it injects
 * CorsExplainer, which needs the identity provider) would wait for ever, and the app would never start. So while
 * it waits, this follows the dependencies Nest has recorded so far (InstanceWrapper's constructor and property
 * metadata, in Nest 11 and 12) from the host's provider, and fails if they reach `waiter`.
 */
async function resolveInModule(module: Module, token: symbol, probe: new (instance: unknown) => { instance: unknown }, waiter: InstanceWrapper | undefined): Promise<unknown> {
  const wrapper = module.providers.get(token) as InstanceWrapper;
  const moduleRef = moduleRefOf(module) as ModuleRef;
  let timer: NodeJS.Timeout | undefined;
  const cycle = new Promise<never>((_, reject) => {
    const check = () => {
      const path = waiter && dependencyPath(wrapper, waiter);
      if (path) reject(new Error(cycleMessage(token, module, path, waiter.host)));
      else timer = setTimeout(check, CYCLE_CHECK_MS);
    };
    timer = setTimeout(check, 0);
  });
  try {
    return (await Promise.race([moduleRef.create(probe), cycle])).instance;
  } catch (error) {
    if (!wrapper.isDependencyTreeStatic()) throw new Error(requestScopedMessage(token, module, wrapper), { cause: error });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The chain of recorded dependencies from `from` to `to` (both included), if there is one. */
function dependencyPath(from: InstanceWrapper, to: InstanceWrapper): InstanceWrapper[] | undefined {
  const seen = new Set<InstanceWrapper>();
  const walk = (wrapper: InstanceWrapper): InstanceWrapper[] | undefined => {
    if (wrapper === to) return [wrapper];
    if (seen.has(wrapper)) return undefined;
    seen.add(wrapper);
    const next = [...(wrapper.getCtorMetadata() ?? []), ...(wrapper.getPropertiesMetadata() ?? []).map((property) => property.wrapper)];
    // A forwardRef() dependency is not waited for.
    for (const dependency of next) {
      if (!dependency || dependency.forwardRef) continue;
      const rest = walk(dependency);
      if (rest) return [wrapper, ...rest];
    }
    return undefined;
  };
  return walk(from);
}

function nameOf(wrapper: InstanceWrapper): string {
  if (!wrapper.inject && typeof wrapper.metatype === 'function' && wrapper.metatype.name) return wrapper.metatype.name;
  const token = wrapper.token;
  return typeof token === 'symbol' ? (token.description ?? 'a symbol') : typeof token === 'function' ? token.name : String(token);
}

/** `path` runs from the host's provider to the waiting provider of `ours` (IdentityCorsModule), which it leaves out. */
function cycleMessage(token: symbol, module: Module, path: InstanceWrapper[], ours: Module | undefined): string {
  const chain = path.slice(0, -1);
  const entry = chain.find((wrapper) => wrapper.host === ours) ?? chain[1] ?? chain[0];
  return (
    `${token.description} ${nameOf(chain[0])}, registered in ${module.name}, depends on the identity provider it is built into ` +
    `(${chain.map(nameOf).join(' → ')}), so neither can be built. Inject ModuleRef instead, and get ${nameOf(entry)} when you use it: ` +
    `this.moduleRef.get(${nameOf(entry)}, { strict: false }).`
  );
}

function requestScopedMessage(token: symbol, module: Module, wrapper: InstanceWrapper): string {
  return (
    `${token.description} ${nameOf(wrapper)}, registered in ${module.name}, is request-scoped (itself or a dependency): ` +
    `IdentityCorsModule builds its identity provider once, at startup, with one instance. Make it a singleton (the default scope).`
  );
}

/** Which instance a host module gives for `token`, unless `option` (the module option that gives one) did: then it is ignored, with a warning. */
function pick<T>(token: symbol, found: unknown[], own: unknown, option: string | false, notes: StartupNote[]): T | undefined {
  const others = found.filter((instance) => instance !== own);
  const name = (instance: unknown) => (instance as object).constructor?.name ?? 'anonymous';
  if (option && others.length > 0) {
    notes.push({
      level: 'warn',
      message: `${token.description} ${name(others[0])}, registered in a host module, is ignored: ${name(own)}, given by the ${option} option, wins. Remove one of them to silence this.`,
    });
    return undefined;
  }
  if (option) return undefined;
  if (others.length > 1) notes.push({ level: 'warn', message: `${token.description} is registered in ${others.length} host modules; using the first one found` });
  if (others.length > 0) notes.push({ level: 'log', message: `Using the host's ${token.description} (${name(others[0])})` });
  return others[0] as T | undefined;
}

/** Built-in identity options that a host's ICorsPolicyService makes moot. */
function ignoredIdentityOptions(options: ResolvedCorsOptions): string[] {
  const { clients, allowedOrigins, allowAll } = options.identity;
  return [clients ? 'identity.clients' : '', allowedOrigins.length > 0 ? 'identity.allowedOrigins' : '', allowAll ? 'identity.allowAll' : ''].filter(Boolean);
}

/** Options that only the built-in DefaultCorsPolicyProvider reads. */
function ignoredPolicyOptions(options: ResolvedCorsOptions): string[] {
  return [options.policies.size > 0 ? 'policies' : '', options.defaultPolicy ? 'defaultPolicy' : ''].filter(Boolean);
}

/** Says at startup which setting wins when a host's service or provider makes options moot, and how to silence it (RULES 15). */
function noteIgnored(notes: StartupNote[], from: string, winner: object, ignored: string[], role: string): void {
  if (ignored.length === 0) return;
  const name = winner.constructor?.name ?? 'anonymous';
  notes.push({
    level: 'warn',
    message: `${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} ignored: ${name}, given by ${from}, ${role}. Remove ${ignored.join(' and ')} from the options to silence this, or remove ${from.replace(/^(an|the) /, 'the ')} to use ${ignored.length === 1 ? 'it' : 'them'}.`,
  });
}
