/**
 * The memory view: guest memory at any address (or errno, an argument, a function) as hex + ASCII, as it was at the
 * current step — it follows stepping both ways — with "run to the previous / next write" of what it shows.
 */
import { LitElement, html, nothing } from 'lit';
import type { Session } from '../session.ts';
import { asciiByte, hexByte, MemoryExpressionError, type MemoryTarget, memoryRows, resolveMemoryTarget, VIEW_BYTES } from '../memory-view.ts';
import { findWrite } from '../trace-run.ts';
import type { Direction } from '../trace-find.ts';

export class MemoryView extends LitElement {
  static override properties = {
    session: { attribute: false },
    step: { type: Number },
    expression: { state: true },
    target: { state: true },
    note: { state: true },
  };

  declare session?: Session;
  declare step: number;
  /** What the student typed (kept across calls: `errno` or `buf` mean the same thing in the next call). */
  declare expression: string;
  declare target?: MemoryTarget;
  declare note: string;

  constructor() {
    super();
    this.step = 0;
    this.expression = '';
    this.note = '';
  }

  protected override createRenderRoot() {
    return this;
  }

  protected override willUpdate(changed: Map<string, unknown>): void {
    // Re-resolved at every step: a register (`rsp+0x28`) names what it holds now; the rest resolve the same.
    if ((changed.has('session') || changed.has('step')) && this.session && this.expression) this.show(this.expression, false);
  }

  /** Resolves and shows an expression (typed, or from another tool); false with a note when it does not resolve. */
  show(expression: string, announce = true): boolean {
    this.expression = expression;
    const s = this.session;
    if (!s) return false;
    try {
      s.player.seek(this.step);
      this.target = resolveMemoryTarget(s, expression);
      if (announce) this.note = `${this.target.label} = 0x${this.target.address.toString(16)} (watching ${this.target.size} byte${this.target.size === 1 ? '' : 's'})`;
      return true;
    } catch (error) {
      if (!(error instanceof MemoryExpressionError)) throw error;
      this.target = undefined;
      this.note = error.message;
      return false;
    }
  }

  /** Runs to the next (previous) write of the watched bytes: stops just after the storing instruction. */
  runToWrite(direction: Direction): void {
    const s = this.session;
    const t = this.target;
    if (!s || !t) {
      this.note = 'type what to watch first: an address, errno or an argument name';
      return;
    }
    const w = findWrite(s, this.step, direction, t.address, t.size);
    if (!w) {
      this.note = `no ${direction > 0 ? 'later' : 'earlier'} write of ${t.label}`;
      return;
    }
    let text = '';
    try {
      text = s.player.instruction(w.step)?.text ?? '';
    } catch {
      text = '';
    }
    const by = s.player.syscallsAt(w.step).length ? `the system call at step ${w.step}` : text ? `\`${text}\` at step ${w.step}` : `step ${w.step}`;
    this.note = `${t.label} written by ${by} (${w.size} byte${w.size === 1 ? '' : 's'} at 0x${w.address.toString(16)})`;
    this.dispatchEvent(new CustomEvent('step-action', { detail: { action: 'seek', to: w.position }, bubbles: true }));
  }

  private page(delta: number): void {
    if (!this.target) return;
    const address = Math.max(0, this.target.address + delta);
    this.show(`0x${address.toString(16)}`);
  }

  override render() {
    const s = this.session;
    if (!s) return nothing;
    s.player.seek(this.step);
    const t = this.target;
    const rows = t ? memoryRows(s, t.address, VIEW_BYTES) : [];
    const watched = (a: number) => t !== undefined && a >= t.address && a < t.address + t.size;
    return html`<section class="panel memory-panel" data-testid="memory-view" aria-label="Memory">
      <header><h2 class="panel-h">Memory</h2> <span class="right faint">at step ${this.step}</span></header>
      <div class="body">
        <form class="mem-form" @submit=${(e: Event) => { e.preventDefault(); this.show((e.target as HTMLFormElement).querySelector('input')!.value); }}>
          <input type="text" data-testid="memory-address" spellcheck="false" aria-label="Memory address: 0x…, errno, an argument name or a function; optional , size"
            placeholder="0x…, errno, buf, buf+8, errno,4" .value=${this.expression} />
          <button type="submit" class="btn" data-testid="memory-show">Show</button>
        </form>
        <div class="mem-actions">
          <button type="button" class="btn" data-testid="memory-prev-write" ?disabled=${!t} title="Back to the previous write of the watched bytes"
            @click=${() => this.runToWrite(-1)}><span aria-hidden="true">◀</span> previous write</button>
          <button type="button" class="btn" data-testid="memory-next-write" ?disabled=${!t} title="Run to the next write of the watched bytes (w)"
            @click=${() => this.runToWrite(1)}>next write <span aria-hidden="true">▶</span></button>
          <button type="button" class="btn icon" ?disabled=${!t} aria-label="Show the ${VIEW_BYTES} bytes before" title="Show the ${VIEW_BYTES} bytes before" @click=${() => this.page(-VIEW_BYTES)}>−${VIEW_BYTES}</button>
          <button type="button" class="btn icon" ?disabled=${!t} aria-label="Show the ${VIEW_BYTES} bytes after" title="Show the ${VIEW_BYTES} bytes after" @click=${() => this.page(VIEW_BYTES)}>+${VIEW_BYTES}</button>
        </div>
        <div class="mem-note" role="status" data-testid="memory-note">${this.note}</div>
        ${t ? html`<table class="mem" data-testid="memory-table">
          <caption class="sr-only">${t.label}: ${VIEW_BYTES} bytes from 0x${t.address.toString(16)} at step ${this.step}; ?? = not touched by this call</caption>
          <thead><tr><th scope="col">address</th><th scope="col">bytes</th><th scope="col">ASCII</th></tr></thead>
          <tbody>${rows.map((row) => html`<tr>
            <th scope="row" class="mem-addr">${row.address.toString(16)}</th>
            <td class="mem-hex" data-testid="memory-hex">${row.bytes.map((b, i) => html`${i ? ' ' : ''}<span class=${[b === undefined ? 'unknown' : '', row.written[i] ? 'written' : '', watched(row.address + i) ? 'watched' : ''].join(' ')}>${hexByte(b)}</span>`)}</td>
            <td class="mem-ascii" data-testid="memory-ascii">${row.bytes.map(asciiByte).join('')}</td>
          </tr>`)}</tbody>
        </table>
        <div class="faint mem-legend">?? = not touched by this call (not in the trace) · <span class="written">written by the last step</span> · <span class="watched">watched</span></div>` : nothing}
      </div>
    </section>`;
  }
}

customElements.define('shim-memory', MemoryView);
