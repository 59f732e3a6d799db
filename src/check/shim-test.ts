/**
 * Shim under test (`Machine.testShim`): a host call of the user's trampoline, watched at the target's entry, where
 * every argument register and stack slot is diffed (shim-diff.ts) against what the target's CallSpec requires.
 */
import { bytesOf } from '../emu/bytes.ts';
import type { AddressSet, Engine, RegName } from '../emu/engine.ts';
import { argumentImages, encodeBlock, placeBlock } from '../callspec/call.ts';
import type { CallResult, HostCaller } from '../callspec/host-call.ts';
import type { PlanCache } from '../callspec/plan.ts';
import type { Prototype } from '../callspec/types.ts';
import { ArgumentError, type HostValue } from '../callspec/values.ts';
import { type ArgumentDiff, diffArguments } from './shim-diff.ts';

export interface ShimTestOptions {
  /** The user's trampoline (an exported symbol) and where it is (default: global scope). */
  shim: string;
  library?: string;
  /** The target's prototype (its name is the function the shim must call) and where the target is. */
  prototype: string;
  targetLibrary?: string;
  /** The arguments the target must receive. */
  args: HostValue[];
  /** When the shim does not simply forward: its own prototype and arguments. */
  shimPrototype?: string;
  shimArgs?: HostValue[];
}

export interface ShimTestResult {
  /** The shim reached the target with every argument where the CallSpec says. */
  ok: boolean;
  /** Whether control reached the target at all. */
  reached: boolean;
  diffs: ArgumentDiff[];
  /** The shim call's own result (with `abi` when checking is on). */
  result: CallResult;
}

/** What a shim test needs from the machine: its host calls, declarations, symbols and call plans. */
export interface ShimTestContext {
  calls: HostCaller;
  callBudget: number;
  parsePrototype(text: string): Prototype;
  address(name: string, library?: string): number;
  plans(proto: Prototype): PlanCache;
}

/** One address set per engine for testShim's observer (sets live as long as their engine). */
const targetEntries = new WeakMap<Engine, AddressSet>();

function targetEntrySet(engine: Engine): AddressSet {
  let set = targetEntries.get(engine);
  if (!set) targetEntries.set(engine, (set = engine.createAddressSet()));
  return set;
}

/** Calls the shim (by default with the target's prototype and arguments: a forwarding shim) and diffs at the target. */
export function testShim(options: ShimTestOptions, context: ShimTestContext): ShimTestResult {
  const { calls } = context;
  if (calls.inCallback > 0) throw new ArgumentError('cannot test a shim from inside a callback: call testShim between calls');
  const proto = context.parsePrototype(options.prototype);
  const shimProto = options.shimPrototype
    ? context.parsePrototype(options.shimPrototype)
    : { ...proto, name: options.shim, text: proto.text.replace(proto.name, options.shim) };
  const targetAddress = context.address(proto.name, options.targetLibrary);
  const shimAddress = context.address(shimProto.name, options.library);
  const targetPlan = context.plans(proto).planFor(options.args);
  const targetSpec = targetPlan.spec;
  const shimArgs = options.shimArgs ?? options.args;
  const shimPlan = context.plans(shimProto).planFor(shimArgs);

  const tlsLayout = calls.prepareInstrumentation(true);
  calls.arena.reset();
  const shimOuts = encodeBlock(calls.env, shimPlan, shimAddress, shimArgs);
  // A forwarding shim receives the very values (and string pointers) the target must get.
  let expected = argumentImages(shimPlan);
  if (options.shimArgs) {
    const shimImage = shimPlan.image.slice();
    encodeBlock(calls.env, targetPlan, targetAddress, options.args);
    expected = argumentImages(targetPlan);
    shimPlan.image.set(shimImage); // the same plan when the prototypes are one
  }
  const shimBlock = placeBlock(calls.env, shimPlan, shimOuts);

  const engine = calls.env.engine;
  const arch = calls.env.arch;
  const word = arch === 'amd64' ? 8 : 4;
  let diffs: ArgumentDiff[] | undefined;
  // Filtered to the target's entry: no JavaScript at the other blocks of the call.
  const at = targetEntrySet(engine);
  at.add(targetAddress);
  const watch = engine.addBlockObserver((address) => {
    if (address !== targetAddress || diffs) return;
    const sp = Number(engine.reg(arch === 'amd64' ? 'rsp' : 'esp'));
    diffs = diffArguments(targetSpec, expected, {
      register: (name) =>
        name.startsWith('xmm')
          ? engine.regBytes(name as RegName, 16)
          : bytesOf(engine.reg(name as RegName), word),
      stack: (offset, size) => engine.read(sp + word + offset, size),
    });
  });
  let result: CallResult;
  try {
    result = calls.execute(shimAddress, shimPlan, shimBlock, context.callBudget, true, tlsLayout);
  } finally {
    watch.remove();
    at.remove(targetAddress);
  }
  return { ok: diffs !== undefined && diffs.length === 0, reached: diffs !== undefined, diffs: diffs ?? [], result };
}
