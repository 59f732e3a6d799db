/**
 * Call plans: everything about a call that depends only on its prototype and variadic types, worked out once —
 * the CallSpec, the argument block's layout, the trampoline's placement key, and per argument a writer that puts
 * the host value's C image straight into the block image (numbers without BigInt; anything unusual through the
 * general `encodeValue`, so results and error messages stay exactly those of the general path).
 *
 * Plans are found by object identity, never by building a string per call: a non-variadic prototype has one plan
 * (kept on its function handle), a variadic one a small tree keyed by the variadic arguments' CType objects (the
 * `vararg.*` constructors and inferred types use shared CType constants, so the lookup is a few Map hits).
 */
import type { Arch } from '../emu/arch.ts';
import { callSpec } from './classify.ts';
import { typeName } from './layout.ts';
import { type BlockLayout, blockLayout, trampolineReturnSite } from './trampoline.ts';
import type { ArgSpec, CallSpec, CType, Prototype } from './types.ts';
import {
  ArgumentError, CHAR_POINTER, decodeValue, type DecodedValue, DOUBLE, encodeValue, type GuestMemory, type HostValue, INT, isCharPointer,
  OutBuffer, TypedValue, VOID_POINTER,
} from './values.ts';

/** Where an out-buffer argument is, to read back after the call. */
export interface OutSlot {
  index: number;
  address: number;
  size: number;
}

/** Guest memory for one call's strings and buffers (the host arena). */
export interface ArgumentMemory extends GuestMemory {
  /** Places `text` NUL-terminated (UTF-8, byte-aligned); returns its address. */
  placeString(text: string): number;
  /** Places `size` zero bytes (16-aligned); returns their address. */
  placeZeros(size: number): number;
}

/** Writes one argument's C image at `offset` of the block image; out buffers are added to `outs`. */
type ArgumentWriter = (value: HostValue, image: Uint8Array, view: DataView, offset: number, memory: ArgumentMemory, outs: OutSlot[]) => void;

export interface CallPlan {
  readonly spec: CallSpec;
  readonly layout: BlockLayout;
  /** What the trampoline depends on: plans with equal keys share one trampoline. */
  readonly placementKey: string;
  readonly writers: readonly ArgumentWriter[];
  /** The return value from its memory image (its C size; long double: the x87 bytes). */
  decodeReturn(image: Uint8Array): DecodedValue;
  /** `char *` returns: the result also carries the C string. */
  readonly returnsString: boolean;
  /** The block image, reused by every call of this plan (calls never overlap: one is written before the next). */
  readonly image: Uint8Array;
  readonly imageView: DataView;
  /** The offset of the trampoline's epilogue, the block that returns to the host (trampolineReturnSite). */
  readonly returnSite: number;
}

const TWO_32 = 2 ** 32;

export function makePlan(spec: CallSpec): CallPlan {
  const layout = blockLayout(spec);
  const image = new Uint8Array(layout.size);
  return {
    spec,
    layout,
    placementKey: placementKey(spec),
    writers: spec.args.map((arg, i) => argumentWriter(arg, i, spec.arch, `argument ${i + 1} (${arg.text})`)),
    decodeReturn: returnDecoder(spec.ret.type, spec.arch),
    returnsString: isCharPointer(spec.ret.type),
    image,
    imageView: new DataView(image.buffer),
    returnSite: trampolineReturnSite(spec),
  };
}

/** What a trampoline depends on: locations, sizes and extensions — not names, texts or reasons. */
function placementKey(spec: CallSpec): string {
  return JSON.stringify([
    spec.arch,
    spec.args.map((a) => [a.size, a.extension, a.type.kind === 'float' ? a.type.name : '', a.locations, a.indirect ?? false]),
    [spec.ret.kind, spec.ret.size, spec.ret.locations],
    spec.hiddenPointer ?? null,
    spec.stackSize,
    spec.al ?? null,
  ]);
}

/** The general path: `encodeValue`, then the image into the block. */
function generalWriter(arg: ArgSpec, index: number, arch: Arch, what: string): ArgumentWriter {
  return (value, image, _view, offset, memory, outs) => {
    const encoded = encodeValue(arg.type, value, arch, memory, what);
    image.set(encoded.bytes.subarray(0, arg.size), offset);
    if (encoded.outBuffer && (value instanceof OutBuffer || value instanceof Uint8Array)) {
      outs.push({ index, ...encoded.outBuffer });
    }
  };
}

/**
 * Stores an integer of `bytes` bytes when `encodeValue` would accept it and store the same bits: a whole number in
 * [-2^(bits-1), 2^bits - 1] (either signedness's spelling of the bits, as C conversions allow). False otherwise.
 */
function storeInteger(value: number, bytes: number, view: DataView, offset: number): boolean {
  if (!Number.isInteger(value)) return false;
  switch (bytes) {
    case 1:
      if (value < -0x80 || value > 0xff) return false;
      view.setUint8(offset, value & 0xff);
      return true;
    case 2:
      if (value < -0x8000 || value > 0xffff) return false;
      view.setUint16(offset, value & 0xffff, true);
      return true;
    case 4:
      if (value < -0x80000000 || value > 0xffffffff) return false;
      view.setUint32(offset, value >>> 0, true);
      return true;
    case 8: {
      if (value < -(2 ** 63) || value >= 2 ** 64) return false;
      // Exact for every whole double in range: the high word is the floor, the low word what remains.
      const high = Math.floor(value / TWO_32);
      view.setUint32(offset, value - high * TWO_32, true);
      view.setUint32(offset + 4, high >>> 0, true);
      return true;
    }
    default:
      return false;
  }
}

function argumentWriter(arg: ArgSpec, index: number, arch: Arch, what: string): ArgumentWriter {
  const general = generalWriter(arg, index, arch, what);
  const type = arg.type;
  const size = arg.size;
  // A TypedValue of exactly this type (variadic arguments) is its value; of another type, undefined: the general path.
  const unwrap = (value: HostValue): HostValue | undefined => (value instanceof TypedValue ? (value.type === type ? value.value : undefined) : value);
  if ((type.kind === 'int' && type.name !== '_Bool') || type.kind === 'enum') {
    return (value, image, view, offset, memory, outs) => {
      const v = unwrap(value);
      if (typeof v === 'number' && storeInteger(v, size, view, offset)) return;
      general(value, image, view, offset, memory, outs);
    };
  }
  if (type.kind === 'float' && (type.name === 'double' || type.name === 'float')) {
    const double = type.name === 'double';
    return (value, image, view, offset, memory, outs) => {
      const v = unwrap(value);
      // NaN as a number is refused by the general path (only the text "nan" is a NaN argument): keep that.
      if (typeof v !== 'number' || Number.isNaN(v)) return general(value, image, view, offset, memory, outs);
      if (double) view.setFloat64(offset, v, true);
      else view.setFloat32(offset, v, true);
    };
  }
  if (type.kind === 'pointer') {
    const text = isCharPointer(type);
    return (value, image, view, offset, memory, outs) => {
      const v = unwrap(value);
      if (v === undefined) {
        general(value, image, view, offset, memory, outs);
      } else if (v === null) {
        image.fill(0, offset, offset + size);
      } else if (typeof v === 'number' && storeInteger(v, size, view, offset)) {
        // a pointer given as its address
      } else if (typeof v === 'string' && text) {
        storeInteger(memory.placeString(v), size, view, offset);
      } else if (v instanceof OutBuffer) {
        const address = memory.placeZeros(v.size);
        storeInteger(address, size, view, offset);
        outs.push({ index, address, size: v.size });
      } else {
        general(value, image, view, offset, memory, outs);
      }
    };
  }
  return general;
}

/** Scratch for floating-point returns: a DataView on a small result would force V8 to give it a buffer of its own. */
const floatBytes = new Uint8Array(8);
const floatView = new DataView(floatBytes.buffer);

/** The little-endian 32-bit word at `at`, unsigned. */
function word32(image: Uint8Array, at: number): number {
  return (image[at]! | (image[at + 1]! << 8) | (image[at + 2]! << 16) | (image[at + 3]! << 24)) >>> 0;
}

/** Reads the return image; ints and pointers without BigInt while the value is exact as a number. */
function returnDecoder(type: CType, arch: Arch): (image: Uint8Array) => DecodedValue {
  const general = (image: Uint8Array) => decodeValue(type, image, arch);
  if (type.kind === 'void') return () => undefined;
  const integer = type.kind === 'enum' || (type.kind === 'int' && type.name !== '_Bool') || type.kind === 'pointer';
  if (!integer) {
    if (type.kind === 'float' && (type.name === 'double' || type.name === 'float')) {
      const double = type.name === 'double';
      return (image) => {
        floatBytes.set(image.subarray(0, double ? 8 : 4));
        return double ? floatView.getFloat64(0, true) : floatView.getFloat32(0, true);
      };
    }
    return general;
  }
  const signed = type.kind === 'enum' || (type.kind === 'int' && !type.name.startsWith('unsigned'));
  return (image) => {
    switch (image.length) {
      case 1:
        return signed ? (image[0]! << 24) >> 24 : image[0]!;
      case 2: {
        const v = image[0]! | (image[1]! << 8);
        return signed ? (v << 16) >> 16 : v;
      }
      case 4:
        return signed ? word32(image, 0) | 0 : word32(image, 0);
      case 8: {
        const high = signed ? word32(image, 4) | 0 : word32(image, 4);
        // Exact as a number below 2^53 in magnitude; beyond that the general path gives a bigint.
        if (high > -0x200000 && high < 0x200000) return high * TWO_32 + word32(image, 0);
        return general(image);
      }
      default:
        return general(image);
    }
  };
}

/** The type of a variadic argument: explicit (`vararg.double(x)`), or inferred from obvious host values. */
export function variadicType(value: HostValue, position: number): CType {
  if (value instanceof TypedValue) return value.type;
  if (typeof value === 'string') return CHAR_POINTER;
  if (value instanceof OutBuffer || value instanceof Uint8Array || value === null) return VOID_POINTER;
  if (typeof value === 'number' && !Number.isInteger(value)) return DOUBLE;
  if (typeof value === 'number' && value >= -(2 ** 31) && value < 2 ** 31) return INT;
  throw new ArgumentError(
    `variadic argument #${position} (${String(value)}) needs an explicit type: use vararg.int/long/longlong/double/… (CLI: int:, long:, double:, …)`,
  );
}

interface VariadicNode {
  plan?: CallPlan;
  /** Weak: a type made afresh for every call must not keep a node per call alive. */
  next?: WeakMap<CType, VariadicNode>;
}

/**
 * The plans of one prototype on one architecture. `planFor` checks the argument count and finds (or makes) the
 * plan for these variadic types: by CType identity, then — for types made on the fly — by their spelled-out
 * names, so equal signatures still share one plan.
 */
export class PlanCache {
  private fixed: CallPlan | undefined;
  private readonly root: VariadicNode = {};
  private readonly byName = new Map<string, CallPlan>();

  constructor(
    readonly proto: Prototype,
    readonly arch: Arch,
    /** Completes a variadic argument's type before classification (e.g. a `struct tag` reference's fields). */
    private readonly complete: (type: CType, position: number) => CType = (type) => type,
  ) {}

  planFor(args: readonly HostValue[]): CallPlan {
    const proto = this.proto;
    const fixedCount = proto.params.length;
    if (proto.variadic ? args.length < fixedCount : args.length !== fixedCount) {
      throw new ArgumentError(`${proto.name} takes ${fixedCount}${proto.variadic ? ' or more' : ''} argument(s), got ${args.length}`);
    }
    if (!proto.variadic) return (this.fixed ??= makePlan(callSpec(proto, this.arch, [])));
    let node = this.root;
    for (let i = fixedCount; i < args.length; i++) {
      const type = variadicType(args[i]!, i - fixedCount + 1);
      node.next ??= new WeakMap();
      let child = node.next.get(type);
      if (!child) node.next.set(type, (child = {}));
      node = child;
    }
    return (node.plan ??= this.planByName(args.slice(fixedCount).map((a, i) => variadicType(a, i + 1))));
  }

  private planByName(variadicTypes: CType[]): CallPlan {
    const key = variadicTypes.map(typeName).join(',');
    let plan = this.byName.get(key);
    if (!plan) {
      const complete = variadicTypes.map((type, i) => this.complete(type, i + 1));
      this.byName.set(key, (plan = makePlan(callSpec(this.proto, this.arch, complete))));
    }
    return plan;
  }
}
