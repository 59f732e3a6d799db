/**
 * Request validation for the playground's JSON API: a request body's shape and fields (arch, strings, argument
 * tokens, booleans), each refused with a PlaygroundError that says what was wrong, and its prototype parsed in a
 * scope with the catalog's types plus the request's own declarations.
 */
import type { Arch } from '../emu/arch.ts';
import type { Declarations } from '../callspec/parse.ts';
import type { Prototype } from '../callspec/types.ts';
import { catalogDeclarations } from '../catalog/catalog.ts';

const MAX_TOKENS = 64;

/** A request the API refuses (bad JSON shape, unknown arch, …): answered with 400 and the message. */
export class PlaygroundError extends Error {
  override name = 'PlaygroundError';
}

export type Json = Record<string, unknown>;

export function object(body: unknown, what: string): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new PlaygroundError(`${what}: expected a JSON object`);
  return body as Json;
}

export function archOf(value: unknown): Arch {
  if (value === undefined) return 'amd64';
  if (value === 'amd64' || value === 'i386') return value;
  throw new PlaygroundError(`"arch" must be "amd64" or "i386", got ${JSON.stringify(value)}`);
}

export function stringOf(value: unknown, name: string, required: true): string;
export function stringOf(value: unknown, name: string, required?: false): string | undefined;
export function stringOf(value: unknown, name: string, required = false): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw new PlaygroundError(`"${name}" is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new PlaygroundError(`"${name}" must be a string`);
  if (required && value.trim() === '') throw new PlaygroundError(`"${name}" is empty`);
  return value;
}

export function tokensOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new PlaygroundError('"args" must be an array of argument tokens (strings), e.g. ["out:64", "64", "%f", "double:1.5"]');
  if (value.length > MAX_TOKENS) throw new PlaygroundError(`at most ${MAX_TOKENS} arguments`);
  return value.map((token, i) => {
    if (typeof token === 'string') return token;
    if (typeof token === 'number' && Number.isFinite(token)) return String(token);
    throw new PlaygroundError(`"args"[${i}] must be a string token (like "42", "1.5", "out:64", "double:1.5")`);
  });
}

export function booleanOf(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new PlaygroundError(`"${name}" must be true or false`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// declarations

let sharedScope: Declarations | undefined;

/** A scope with the catalog's types (pcap_t, struct tm, …) plus the request's own declarations. */
export function scopeFor(decls: string | undefined): Declarations {
  if (!decls || decls.trim() === '') {
    sharedScope ??= catalogDeclarations();
    return sharedScope;
  }
  const scope = catalogDeclarations();
  scope.addDeclarations(decls);
  return scope;
}

export function parsePrototype(text: string, decls: string | undefined): Prototype {
  return scopeFor(decls).parsePrototype(text);
}
