/** The stepper: toolbar, timeline, "where am I", and the executed instructions around the current step. */
import { LitElement, html, nothing } from 'lit';
import { symbolize, type Session } from '../session.ts';
import './trace-tools.ts';

export type StepAction = 'start' | 'back' | 'forward' | 'over' | 'return' | 'syscall' | 'end' | 'entry';

const BEFORE = 10;

/** Toolbar icons as inline SVG (glyphs like ⏮ are missing from many monospace fonts). */
const ICON: Record<string, string> = {
  start: 'M4 3v10M13 3 6 8l7 5z',
  back: 'M11 3 4 8l7 5z',
  forward: 'M5 3l7 5-7 5z',
  end: 'M12 3v10M3 3l7 5-7 5z',
};
function icon(name: string) {
  return html`<svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" style="display:block"><path d=${ICON[name]!} fill="currentColor" stroke="currentColor" stroke-width="1.4" stroke-linejoin="round"/></svg>`;
}
const AFTER = 22;

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function bytesText(bytes: Uint8Array): string {
  const parts = [...bytes.subarray(0, 6)].map((b) => b.toString(16).padStart(2, "0"));
  return parts.join(' ') + (bytes.length > 6 ? " …" : "");
}

function mnemonicClass(text: string): string {
  const m = text.split(' ')[0] ?? '';
  if (/^(syscall|int|sysenter)$/.test(m)) return 'mn sys';
  if (/^(call|ret|jmp|j[a-z]+|loop|bnd)$/.test(m)) return 'mn flow';
  return 'mn';
}

export class Stepper extends LitElement {
  static override properties = {
    session: { attribute: false },
    step: { type: Number },
  };

  declare session?: Session;
  declare step: number;

  constructor() {
    super();
    this.step = 0;
  }

  protected override createRenderRoot() {
    return this;
  }

  private act(action: StepAction): void {
    this.dispatchEvent(new CustomEvent('step-action', { detail: { action }, bubbles: true }));
  }

  private seek(to: number): void {
    this.dispatchEvent(new CustomEvent('step-action', { detail: { action: 'seek', to }, bubbles: true }));
  }

  /** Keeps the current row in the listing's view, a third of the way down (measured from the listing, not the page). */
  protected override updated(): void {
    const current = this.querySelector<HTMLElement>('.insn.current');
    const box = this.querySelector<HTMLElement>('.disasm');
    if (!current || !box) return;
    const row = current.getBoundingClientRect();
    const view = box.getBoundingClientRect();
    const top = row.top - view.top + box.scrollTop;
    box.scrollTop = Math.max(0, top - box.clientHeight / 3);
    box.scrollLeft = 0;
  }

  private insnText(s: Session, step: number): string {
    try {
      const insn = s.player.instruction(step);
      if (!insn) return '';
      return s.disassembly ? insn.text : `.byte ${bytesText(insn.bytes)}`;
    } catch {
      return '(not disassembled)';
    }
  }

  override render() {
    const s = this.session;
    const length = s?.player.length ?? 0;
    const step = this.step;
    const disabled = !s;
    // Icon buttons are named by their title; worded ones by their word (the glyph before it is decoration).
    const btn = (action: StepAction, label: unknown, title: string, testid: string, off = false) => {
      const worded = typeof label === 'string' ? /^(\S+) (.+)$/.exec(label) : null;
      return html`<button class="btn icon" data-testid=${testid} title=${title} aria-label=${worded ? nothing : title} ?disabled=${disabled || off}
        @click=${() => this.act(action)}>${worded ? html`<span aria-hidden="true">${worded[1]}</span> ${worded[2]}` : label}</button>`;
    };
    const atStart = step <= 0;
    const atEnd = step >= length;
    return html`<div class="stepper">
      <div class="toolbar" role="toolbar" aria-label="Stepping">
        ${btn('start', icon('start'), 'Go to the start (Home)', 'step-start', atStart)}
        ${btn('back', icon('back'), 'Step back (← or b)', 'step-back', atStart)}
        ${btn('forward', icon('forward'), 'Step (→ or s)', 'step-forward', atEnd)}
        ${btn('over', '↷ over', 'Step over a call (o)', 'step-over', atEnd)}
        ${btn('return', '⤴ return', 'Run to return (r)', 'run-to-return', atEnd)}
        ${btn('syscall', '⚡ syscall', 'Run to the next system call (y)', 'run-to-syscall', atEnd)}
        ${btn('end', icon('end'), 'Go to the end (End)', 'step-end', atEnd)}
        <span class="sep"></span>
        ${btn('entry', '⇥ entry', `Jump to the entry of ${s?.spec.function ?? 'the function'}`, 'step-entry', s?.entryStep === undefined)}
        <span class="counter" data-testid="step-counter" aria-live="polite">
          step <span data-testid="step-value">${step}</span><span class="faint"> / ${length}</span></span>
      </div>
      <div class="timeline">
        <div class="track">
          <input type="range" data-testid="timeline" min="0" max=${length} .value=${String(step)} ?disabled=${disabled}
            aria-label="Timeline: step" @input=${(e: Event) => this.seek(Number((e.target as HTMLInputElement).value))} />
          ${s ? this.marks(s) : nothing}
        </div>
      </div>
      <shim-trace-tools .session=${s} .step=${step}></shim-trace-tools>
      ${s ? this.whereAmI(s) : nothing}
      <div class="disasm" data-testid="disassembly" tabindex="0" role=${s ? 'listbox' : nothing} aria-label="Executed instructions"
        aria-activedescendant=${s ? 'insn-current' : nothing}>${s ? this.listing(s) : html`<div class="placeholder"><div>
          <div class="big">No trace yet</div>Run a call: every instruction the real glibc executes is recorded, and you can step through it both ways.</div></div>`}</div>
    </div>`;
  }

  private marks(s: Session) {
    const n = Math.max(1, s.player.length);
    const pct = (p: number) => `${(p / n) * 100}%`;
    const steps = [...new Set(s.player.trace.syscalls.map((c) => c.step))];
    return html`<div class="marks">
      ${s.entryStep !== undefined && s.returnStep !== undefined
        ? html`<div class="span" style="left:${pct(s.entryStep)};width:${pct(s.returnStep - s.entryStep)}"></div>` : nothing}
      ${s.entryStep !== undefined ? html`<div class="mark entry" title="entry" style="left:${pct(s.entryStep)}"></div>` : nothing}
      ${s.returnStep !== undefined ? html`<div class="mark ret" title="return" style="left:${pct(s.returnStep)}"></div>` : nothing}
      ${steps.slice(0, 200).map((p) => html`<div class="mark syscall" title="system call" style="left:${pct(p)}"></div>`)}
    </div>`;
  }

  private whereAmI(s: Session) {
    const p = s.player;
    const pc = p.trace.pc[this.step] ?? 0;
    const where = symbolize(s.symbols, pc);
    const depth = p.depth(this.step);
    const phase = this.step >= p.length
      ? 'finished'
      : this.step < s.mainRun.start ? 'helper run before the call'
      : s.entryStep === undefined ? 'in the call'
      : this.step < s.entryStep ? 'trampoline: setting up the arguments'
      : s.returnStep !== undefined && this.step >= s.returnStep ? 'trampoline: storing the result'
      : `inside ${s.spec.function}`;
    return html`<div class="whereami" data-testid="where">
      <span>at <b>0x${pc.toString(16)}</b>${where ? html` <b style="color:var(--cyan)">${where}</b>` : nothing}</span>
      <span>depth <b>${depth}</b></span>
      <span>${phase}</span>
    </div>`;
  }

  private listing(s: Session) {
    const p = s.player;
    const from = Math.max(0, this.step - BEFORE);
    const to = Math.min(p.length, this.step + AFTER);
    const rows = [];
    let lastSym: string | undefined;
    for (let i = from; i <= to; i++) {
      if (i === p.length) {
        rows.push(html`<div class="insn divider ${i === this.step ? 'current' : ''}" role="option" aria-selected=${String(i === this.step)}
          id=${i === this.step ? 'insn-current' : nothing} @click=${() => this.seek(i)}>— end of trace (${i} instructions) —</div>`);
        break;
      }
      const pc = p.trace.pc[i]!;
      const insn = p.instruction(i);
      const sym = symbolize(s.symbols, pc);
      const fn = sym?.replace(/\+0x[0-9a-f]+$/, '');
      const depth = p.depth(i);
      const text = this.insnText(s, i);
      const tags = [];
      if (i === s.entryStep) tags.push(`→ enter ${s.spec.function}`);
      if (i === s.returnStep) tags.push(`← returned from ${s.spec.function}`);
      if (p.trace.runs.some((r) => r.step === i)) tags.push('run start');
      if (p.syscallsAt(i).length) tags.push(`syscall ${p.syscallsAt(i).map((c) => c.name).join(', ')}`);
      if (fn && fn !== lastSym && i !== from && !tags.length) tags.push(`in ${fn}`);
      lastSym = fn;
      const cls = i === this.step ? 'insn current' : i < this.step ? 'insn past' : 'insn';
      const [mn, ...rest] = text.split(' ');
      rows.push(html`<div class=${cls} data-testid=${i === this.step ? 'current-instruction' : nothing} role="option"
        aria-selected=${String(i === this.step)} id=${i === this.step ? 'insn-current' : nothing} @click=${() => this.seek(i)}>
        <span class="st">${i}</span>
        <span class="addr">${hex(pc)}</span>
        <span class="sym" title=${sym ?? ''}>${'·'.repeat(Math.min(Math.max(depth, 0), 6))}${sym ?? ''}</span>
        <span class="bytes">${insn ? bytesText(insn.bytes) : ''}</span>
        <span class="text"><span class="code"><span class=${mnemonicClass(text)}>${mn}</span> ${rest.join(' ')}</span>${tags.length ? html`<span class="tag">${tags.join(' · ')}</span>` : nothing}</span>
      </div>`);
    }
    return rows;
  }
}

customElements.define('shim-stepper', Stepper);
