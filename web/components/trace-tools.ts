/**
 * Under the stepper's toolbar: search the trace, breakpoints (address or function) to continue to, and "run to" the
 * next or previous call or return — all both ways.
 */
import { LitElement, html, nothing } from 'lit';
import type { Session } from '../session.ts';
import { BreakpointError, type Breakpoint, type Direction, findBreakpoint, findText, parseBreakpoint } from '../trace-find.ts';
import { findCall, findReturn } from '../trace-run.ts';
import { symbolize } from '../session.ts';

export class TraceTools extends LitElement {
  static override properties = {
    session: { attribute: false },
    step: { type: Number },
    query: { state: true },
    note: { state: true },
    breakpoints: { state: true },
  };

  declare session?: Session;
  declare step: number;
  declare query: string;
  /** What the last search or continue found (or did not). */
  declare note: string;
  declare breakpoints: Breakpoint[];

  constructor() {
    super();
    this.step = 0;
    this.query = '';
    this.note = '';
    this.breakpoints = [];
  }

  protected override createRenderRoot() {
    return this;
  }

  protected override willUpdate(changed: Map<string, unknown>): void {
    // Breakpoints belong to the recording they were set in (addresses differ between calls and architectures).
    if (changed.has('session') && changed.get('session') !== undefined) {
      this.breakpoints = [];
      this.note = '';
    }
  }

  private seek(to: number): void {
    this.dispatchEvent(new CustomEvent('step-action', { detail: { action: 'seek', to }, bubbles: true }));
  }

  search(direction: Direction): void {
    const s = this.session;
    if (!s || !this.query.trim()) return;
    const found = findText(s, this.step, direction, this.query);
    if (found === undefined) this.note = `no ${direction > 0 ? 'later' : 'earlier'} instruction matches “${this.query.trim()}”`;
    else {
      this.note = `found at step ${found}`;
      this.seek(found);
    }
  }

  /** Runs forward (or back) to the nearest breakpoint. */
  continueTo(direction: Direction): void {
    const s = this.session;
    if (!s) return;
    if (!this.breakpoints.length) {
      this.note = 'no breakpoints: add an address or a function name first';
      return;
    }
    const found = findBreakpoint(s, this.step, direction, this.breakpoints.map((b) => b.address));
    if (found === undefined) this.note = `no breakpoint is hit ${direction > 0 ? 'after' : 'before'} step ${this.step}`;
    else {
      const hit = this.breakpoints.find((b) => b.address === s.player.trace.pc[found]);
      this.note = `breakpoint ${hit?.label ?? ''} at step ${found}`;
      this.seek(found);
    }
  }

  /** Runs to the next (previous) call — a callee's first instruction — or return — the caller's next instruction. */
  runTo(what: 'call' | 'return', direction: Direction): void {
    const s = this.session;
    if (!s) return;
    const found = (what === 'call' ? findCall : findReturn)(s, this.step, direction);
    if (found === undefined) {
      this.note = `no ${direction > 0 ? 'later' : 'earlier'} ${what}`;
      return;
    }
    const fn = symbolize(s.symbols, s.player.trace.pc[found]!) ?? `0x${s.player.trace.pc[found]!.toString(16)}`;
    this.note = what === 'call' ? `call: entered ${fn} at step ${found}` : `return: back in ${fn} at step ${found}`;
    this.seek(found);
  }

  private addBreakpoint(input: HTMLInputElement): void {
    const s = this.session;
    if (!s) return;
    try {
      const b = parseBreakpoint(s, input.value);
      if (!this.breakpoints.some((x) => x.address === b.address)) this.breakpoints = [...this.breakpoints, b];
      this.note = `breakpoint at ${b.label}`;
      input.value = '';
    } catch (error) {
      if (!(error instanceof BreakpointError)) throw error;
      this.note = error.message;
    }
  }

  override render() {
    const s = this.session;
    if (!s) return nothing;
    return html`<div class="trace-tools">
      <form class="tt-group" role="search" aria-label="Search the trace" @submit=${(e: Event) => { e.preventDefault(); this.search(1); }}>
        <input type="search" data-testid="trace-search" placeholder="find: mnemonic, operand, function  (/)" aria-label="Find in the trace"
          .value=${this.query} @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)}
          @keydown=${(e: KeyboardEvent) => { if (e.key === 'Enter' && e.shiftKey) { e.preventDefault(); this.search(-1); } }} />
        <button type="button" class="btn icon" data-testid="search-prev" aria-label="Previous match" title="Previous match (Shift+Enter)" @click=${() => this.search(-1)}>↑</button>
        <button type="submit" class="btn icon" data-testid="search-next" aria-label="Next match" title="Next match (Enter)">↓</button>
      </form>
      <form class="tt-group" aria-label="Breakpoints" @submit=${(e: Event) => { e.preventDefault(); this.addBreakpoint((e.target as HTMLFormElement).querySelector('input')!); }}>
        <input type="text" data-testid="breakpoint-input" placeholder="break at 0x… or function" aria-label="Breakpoint: an address or a function name" spellcheck="false" />
        <button type="submit" class="btn icon" data-testid="breakpoint-add" aria-label="Add breakpoint" title="Add breakpoint">+</button>
        ${this.breakpoints.map((b) => html`<span class="bp" data-testid="breakpoint">${b.label}<button type="button" class="btn ghost icon"
            aria-label="Remove breakpoint ${b.label}" @click=${() => (this.breakpoints = this.breakpoints.filter((x) => x !== b))}>×</button></span>`)}
        <button type="button" class="btn" data-testid="continue-back" title="Back to the previous breakpoint (Shift+C)" ?disabled=${!this.breakpoints.length}
          @click=${() => this.continueTo(-1)}><span aria-hidden="true">◀</span> reverse-continue</button>
        <button type="button" class="btn" data-testid="continue" title="On to the next breakpoint (c)" ?disabled=${!this.breakpoints.length}
          @click=${() => this.continueTo(1)}>continue <span aria-hidden="true">▶</span></button>
      </form>
      <div class="tt-group" role="group" aria-label="Run to a call or a return">
        <button type="button" class="btn" data-testid="prev-call" title="Back to the previous call (N)" @click=${() => this.runTo('call', -1)}><span aria-hidden="true">◀</span> call</button>
        <button type="button" class="btn" data-testid="next-call" title="Run to the next call: the callee's first instruction (n)" @click=${() => this.runTo('call', 1)}>call <span aria-hidden="true">▶</span></button>
        <button type="button" class="btn" data-testid="prev-return" title="Back to the previous return (U)" @click=${() => this.runTo('return', -1)}><span aria-hidden="true">◀</span> ret</button>
        <button type="button" class="btn" data-testid="next-return" title="Run to the next return: back in a caller (u)" @click=${() => this.runTo('return', 1)}>ret <span aria-hidden="true">▶</span></button>
      </div>
      <span class="tt-note" role="status" data-testid="trace-tools-note">${this.note}</span>
    </div>`;
  }
}

customElements.define('shim-trace-tools', TraceTools);
