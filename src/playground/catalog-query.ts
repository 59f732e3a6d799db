/**
 * GET /api/info and /api/catalog: the architectures and libraries the playground offers, and the function catalog
 * searched (popular functions first for an empty query).
 */
import { typeName } from '../callspec/layout.ts';
import type { CType } from '../callspec/types.ts';
import { isCharPointer } from '../callspec/values.ts';
import { catalog, type CatalogEntry, searchCatalog } from '../catalog/catalog.ts';
import { ARCHES, LIBRARIES, TEST_LIBRARIES } from './machines.ts';
import { type Json, PlaygroundError } from './request.ts';

/** Functions listed first by an empty catalog query. */
export const POPULAR = ['snprintf', 'printf', 'strlen', 'open', 'qsort', 'pcap_lib_version', 'pcap_compile'];

export function info(): Json {
  return { arches: [...ARCHES], libraries: [...LIBRARIES], testLibraries: [...TEST_LIBRARIES] };
}

export type ParamKind = 'int' | 'float' | 'pointer' | 'string' | 'struct' | 'function';

export function paramKind(type: CType): ParamKind {
  switch (type.kind) {
    case 'int':
    case 'enum':
      return 'int';
    case 'float':
      return 'float';
    case 'struct':
    case 'union':
    case 'complex': // {re, im}
    case 'vector': // {e0, e1, …}
      return 'struct';
    case 'function':
      return 'function';
    case 'pointer':
      if (type.to.kind === 'function') return 'function';
      return isCharPointer(type) ? 'string' : 'pointer';
    default:
      return 'pointer';
  }
}

function entryJson(entry: CatalogEntry): Json {
  const p = entry.prototype;
  return {
    name: entry.name,
    library: entry.library,
    header: entry.header,
    prototype: entry.text,
    variadic: p.variadic,
    returns: typeName(p.ret),
    params: p.params.map((param, i) => ({ name: param.name ?? `arg${i + 1}`, type: typeName(param.type), kind: paramKind(param.type) })),
  };
}

export function catalogQuery(q: string | null | undefined, limitText: string | null | undefined): Json {
  let limit = 50;
  if (limitText !== null && limitText !== undefined && limitText !== '') {
    limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) throw new PlaygroundError(`"limit" must be a positive integer, got "${limitText}"`);
    limit = Math.min(limit, 2000);
  }
  const query = (q ?? '').trim();
  let entries: readonly CatalogEntry[];
  if (query === '') {
    const all = catalog();
    const popular = POPULAR.map((name) => all.find((e) => e.name === name)).filter((e): e is CatalogEntry => e !== undefined);
    entries = [...popular, ...all.filter((e) => !POPULAR.includes(e.name))].slice(0, limit);
  } else {
    entries = searchCatalog(query, limit);
  }
  return { entries: entries.map(entryJson) };
}
