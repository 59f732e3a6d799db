/**
 * POST /api/plan: where each argument of a call goes and where its result comes back (a CallSpec with teaching
 * notes, explanations.ts), computed without running anything; the fixed arguments' tokens are checked as the call
 * would parse them.
 */
import type { Arch } from '../emu/arch.ts';
import { callSpec } from '../callspec/classify.ts';
import { renderCallSpec } from '../callspec/render.ts';
import type { CType } from '../callspec/types.ts';
import { ArgumentError, completeVariadicType, OutBuffer, TypedValue } from '../callspec/values.ts';
import { parseToken } from '../cli/tokens.ts';
import { annotate } from './explanations.ts';
import { archOf, type Json, object, parsePrototype, scopeFor, stringOf, tokensOf } from './request.ts';
import { uploadArch, uploadOf } from './upload-store.ts';

/** The type of a variadic token (`double:1.5`, `str:ok`, `out:16`). */
function variadicTypeOf(token: string, position: number, decls: string | undefined): CType {
  const value = parseToken(token, undefined, position, {});
  if (value instanceof TypedValue) return completeVariadicType(value.type, (kind, tag) => scopeFor(decls).tag(kind, tag), position);
  if (value instanceof OutBuffer) return { kind: 'pointer', to: { kind: 'void' } };
  throw new ArgumentError(`argument ${position} ("${token}") is variadic and needs a type prefix, e.g. double:1.5, int:42, str:text`);
}

export interface PlanRequest {
  arch?: Arch;
  prototype: string;
  args?: string[];
  decls?: string;
}

export function plan(body: unknown): Json {
  const o = object(body, 'plan request');
  const upload = uploadOf(o.upload);
  const arch = upload ? uploadArch(upload, o.arch) : archOf(o.arch);
  const prototype = stringOf(o.prototype, 'prototype', true);
  const tokens = tokensOf(o.args);
  const decls = stringOf(o.decls, 'decls');
  const proto = parsePrototype(prototype, decls);
  const variadic = proto.variadic
    ? tokens.slice(proto.params.length).map((token, i) => variadicTypeOf(token, proto.params.length + i + 1, decls))
    : [];
  if (!proto.variadic && tokens.length > proto.params.length) {
    throw new ArgumentError(`${proto.name} takes ${proto.params.length} argument(s), got ${tokens.length}: ${proto.text}`);
  }
  // The tokens given for fixed parameters must parse as they would for the call (a bad out:N shows while typing).
  proto.params.forEach((param, i) => {
    if (i < tokens.length) parseToken(tokens[i]!, param.type, i + 1);
  });
  const raw = callSpec(proto, arch, variadic);
  const { spec, explanations } = annotate(raw);
  return { spec, table: renderCallSpec(raw), explanations };
}
