/**
 * A CFunction: the host-callable handle `Machine.fn` / `fnAt` / `onThread(…).fn` return for a C function — called
 * with host values, it makes the call; it also tells its prototype, its address and a call's CallSpec.
 */
import type { CallResult } from './host-call.ts';
import type { CallSpec, Prototype } from './types.ts';
import type { HostValue } from './values.ts';

export interface CFunction {
  (...args: HostValue[]): CallResult;
  readonly prototype: Prototype;
  readonly address: number;
  /** The CallSpec for a call with these arguments (variadic ones decide the variadic types). */
  spec(...args: HostValue[]): CallSpec;
}

/** `address` is asked at each call (a symbol's address may change with `reset()`); `specFor` gives a call's CallSpec. */
export function cFunction(
  proto: Prototype,
  address: () => number,
  call: (address: number, args: HostValue[]) => CallResult,
  specFor: (proto: Prototype, args: HostValue[]) => CallSpec,
): CFunction {
  const f = Object.assign((...args: HostValue[]) => call(address(), args), {
    prototype: proto,
    spec: (...args: HostValue[]) => specFor(proto, args),
  });
  return Object.defineProperty(f, 'address', { get: address, enumerable: true }) as typeof f & { readonly address: number };
}
