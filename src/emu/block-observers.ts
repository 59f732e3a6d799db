/**
 * Block observers and the address sets that filter them. An unfiltered observer sees every block (traces); one
 * with `{ at: set }` sees only the blocks starting at an address in the set (the ABI checker: function entries,
 * return addresses), and the filtering happens in the block counter — in C with the native counter — so that
 * the other blocks never cross into JavaScript. The JavaScript counter filters the same way: the same observers
 * fire at the same blocks either way.
 */
import type { BlockCounter, CounterSet } from './block-counter.ts';
import { MAX_WATCHED_SETS } from './block-counter.ts';
import type { AddressSet, BlockObserver, BlockObserverOptions, HookHandle } from './engine.ts';

/** An address set could not take one more address, or one more set could not filter (both: out of resources). */
export class AddressSetError extends Error {
  override name = 'AddressSetError';
}

/** An AddressSet backed by a counter's set: counted here, so that the counter sees only 0 ↔ 1 changes. */
export class CountedAddressSet implements AddressSet {
  private readonly counts = new Map<number, number>();
  private every = false;

  constructor(
    readonly owner: BlockObservers,
    readonly members: CounterSet,
  ) {}

  add(address: number): void {
    const count = this.counts.get(address) ?? 0;
    if (count === 0 && !this.members.add(address)) {
      throw new AddressSetError(`the native block counter ran out of memory adding 0x${address.toString(16)} to an address set`);
    }
    this.counts.set(address, count + 1);
  }

  remove(address: number): void {
    const count = this.counts.get(address);
    if (count === undefined) return;
    if (count > 1) {
      this.counts.set(address, count - 1);
    } else {
      this.counts.delete(address);
      this.members.delete(address);
    }
  }

  has(address: number): boolean {
    return this.counts.has(address);
  }

  get size(): number {
    return this.counts.size;
  }

  get everyBlock(): boolean {
    return this.every;
  }

  set everyBlock(on: boolean) {
    if (on === this.every) return;
    this.every = on;
    this.owner.update();
  }
}

interface Registration {
  observer: BlockObserver;
  at: CountedAddressSet | undefined;
}

/** An engine's block observers, in the order they were added, and what its counter must watch for them. */
export class BlockObservers {
  private registrations: Registration[] = [];
  /** The sets the counter filters on now. */
  private readonly watching = new Set<CountedAddressSet>();

  constructor(private readonly counter: BlockCounter) {}

  createSet(): AddressSet {
    return new CountedAddressSet(this, this.counter.newSet());
  }

  add(observer: BlockObserver, options: BlockObserverOptions = {}): HookHandle {
    const at = options.at;
    if (at !== undefined && (!(at instanceof CountedAddressSet) || at.owner !== this)) {
      throw new AddressSetError('a block observer can only be filtered by an address set made by the same engine (engine.createAddressSet())');
    }
    const registration: Registration = { observer, at };
    this.registrations = [...this.registrations, registration];
    try {
      this.update();
    } catch (error) {
      this.registrations = this.registrations.filter((r) => r !== registration);
      throw error;
    }
    return new ObserverHandle(this, registration);
  }

  /** Removes a registration (ObserverHandle.remove). */
  drop(registration: Registration): void {
    this.registrations = this.registrations.filter((r) => r !== registration);
    this.update();
  }

  /** Calls the observers this block is for (one copy of the list per change: observers may come and go here). */
  dispatch(address: number, size: number): void {
    for (const { observer, at } of this.registrations) {
      if (at === undefined || at.everyBlock || at.has(address)) observer(address, size);
    }
  }

  /** Tells the counter which blocks to report: all of them, or those in the sets still in use. */
  update(): void {
    // Runs twice per checked host call (its observer comes and goes): loops, not a new Set per change.
    let observing = false;
    for (const r of this.registrations) if (r.at === undefined || r.at.everyBlock) observing = true;
    this.counter.observing = observing;
    for (const set of this.watching) {
      if (!this.registrations.some((r) => r.at === set)) {
        this.counter.watch(set.members, false);
        this.watching.delete(set);
      }
    }
    for (const { at: set } of this.registrations) {
      if (set === undefined || this.watching.has(set)) continue;
      if (!this.counter.watch(set.members, true)) {
        throw new AddressSetError(`at most ${MAX_WATCHED_SETS} address sets can filter block observers at once: remove an observer first`);
      }
      this.watching.add(set);
    }
  }
}

/** What `add` returns: removes its observer (a class, not a closure: one is made per checked host call). */
class ObserverHandle implements HookHandle {
  constructor(
    private readonly observers: BlockObservers,
    private readonly registration: Registration,
  ) {}

  remove(): void {
    this.observers.drop(this.registration);
  }
}
