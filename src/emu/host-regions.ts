/**
 * The engine's regions that map host memory (`Engine.mapHost`), kept so that the engine can map them again
 * elsewhere in Unicorn's RAM-offset space without copying a byte (see ram-layout.ts). Regions the engine owns
 * (`Engine.map`) cannot be re-mapped — unmapping them frees their bytes — and neither can a table that lost track
 * (a partial unmap or protect, which Unicorn answers by splitting regions): then `known` turns false for good.
 */
import type { HostMemory } from './engine.ts';
import type { LayoutRegion } from './ram-layout.ts';

export interface HostRegion extends LayoutRegion {
  memory: HostMemory;
  offset: number;
}

export class HostRegionTable {
  private readonly byAddress = new Map<number, HostRegion>();
  private lost = false;

  /** Whether every mapped region is a host region this table holds exactly. */
  get known(): boolean {
    return !this.lost;
  }

  /** Whether nothing is mapped at all. */
  get empty(): boolean {
    return !this.lost && this.byAddress.size === 0;
  }

  list(): HostRegion[] {
    return [...this.byAddress.values()];
  }

  addHost(region: HostRegion): void {
    this.byAddress.set(region.address, region);
  }

  /** An engine-owned region was mapped. */
  addOwned(): void {
    this.lost = true;
  }

  removed(address: number, size: number): void {
    const exact = this.byAddress.get(address);
    if (exact && exact.size === size) this.byAddress.delete(address);
    else this.eachOverlapping(address, size, (r) => this.byAddress.delete(r.address));
  }

  protected(address: number, size: number, prot: number): void {
    const exact = this.byAddress.get(address);
    if (exact && exact.size === size) exact.prot = prot;
    else this.eachOverlapping(address, size, (r) => (r.prot = prot));
  }

  clear(): void {
    this.byAddress.clear();
  }

  /** Applies `fn` to the regions inside [address, address+size); one only partly inside loses track. */
  private eachOverlapping(address: number, size: number, fn: (region: HostRegion) => void): void {
    const end = address + size;
    for (const r of [...this.byAddress.values()]) {
      if (r.address >= end || r.address + r.size <= address) continue;
      if (r.address < address || r.address + r.size > end) this.lost = true;
      else fn(r);
    }
  }
}
