/** The CallSpec as a table: where each argument goes, and why (click a reason for the full explanation). */
import { LitElement, html, nothing } from 'lit';
import type { ArgSpec, CallSpec, Location } from '../../src/callspec/types.ts';
import { typeName } from '../../src/callspec/layout.ts';
import { shortReason } from '../../src/callspec/reason.ts';

/** The short "why" of a reason sentence, capitalized for the table. */
export function shortWhy(reason: string): string {
  const short = shortReason(reason);
  return short.charAt(0).toUpperCase() + short.slice(1);
}

function locationBadges(locations: Location[], size: number) {
  if (!locations.length) return html`<span class="faint">nowhere (empty)</span>`;
  return locations.map((l) => {
    const piece = locations.length > 1 ? ` [${l.offset}–${l.offset + l.size - 1}]` : '';
    return l.kind === 'reg'
      ? html`<span class="badge reg">${l.reg}${piece}</span> `
      : html`<span class="badge stack">stack+${l.stackOffset}${piece || (l.size !== size ? ` (${l.size} B)` : '')}</span> `;
  });
}

export class PlanTable extends LitElement {
  static override properties = {
    spec: { attribute: false },
    explanations: { attribute: false },
    open: { state: true },
  };

  declare spec?: CallSpec;
  declare explanations?: Record<string, string>;
  declare open: Set<string>;

  constructor() {
    super();
    this.open = new Set();
  }

  protected override createRenderRoot() {
    return this;
  }

  private toggle(key: string): void {
    const open = new Set(this.open);
    if (open.has(key)) open.delete(key);
    else open.add(key);
    this.open = open;
  }

  /** Explanation texts for a row: by the row's key, then by the classes and locations it names. */
  private explain(keys: string[]): string[] {
    const ex = this.explanations ?? {};
    const out: string[] = [];
    const lower = Object.fromEntries(Object.entries(ex).map(([k, v]) => [k.toLowerCase(), v]));
    for (const k of keys) {
      const text = ex[k] ?? lower[k.toLowerCase()];
      if (text && !out.includes(text)) out.push(text);
    }
    return out;
  }

  private argKeys(arg: ArgSpec, i: number): string[] {
    const explain = (arg as { explain?: string }).explain;
    const keys = [...(explain ? [explain] : []), `arg ${arg.index}`, `arg${arg.index}`, `arg-${arg.index}`, `args.${i}`, `args[${i}]`, String(arg.index)];
    if (arg.variadic) keys.push('variadic');
    keys.push(...arg.classes);
    for (const l of arg.locations) keys.push(l.kind === 'reg' ? l.reg : 'stack');
    return keys;
  }

  private why(key: string, reason: string, extra: string[]) {
    const open = this.open.has(key);
    return html`<button type="button" class="why" data-testid="why-${key}" aria-expanded=${String(open)} @click=${() => this.toggle(key)}
        title="The full explanation">${shortWhy(reason)}<span class="more" aria-hidden="true">${open ? '▾ less' : '▸ why'}</span></button>
      ${open ? html`<div class="why-detail" data-testid="why-detail-${key}"><p>${reason}</p>${extra.map((t) => html`<p>${t}</p>`)}</div>` : nothing}`;
  }

  override render() {
    const spec = this.spec;
    if (!spec) return html`<div class="empty">Pick a function to see its calling-convention plan.</div>`;
    const ret = spec.ret;
    const arch = spec.arch;
    const retWhere = ret.kind === 'void'
      ? html`<span class="faint">nothing</span>`
      : ret.kind === 'memory'
        ? html`<span class="badge stack">memory</span> <span class="faint">via hidden pointer</span>`
        // st0, or st0 and st1 for a _Complex long double (its imaginary part in st1).
        : ret.kind === 'x87' ? ret.locations.map((l) => html`<span class="badge reg">${l.kind === 'reg' ? l.reg : 'st0'}</span> `) : locationBadges(ret.locations, ret.size);
    const alText = spec.al !== undefined ? `%al = ${spec.al}` : undefined;
    return html`
      <div class="plan-head"><span class="proto" title=${spec.prototype}>${spec.prototype}</span>
        <span class="badge">${arch}</span>${spec.convention ? html` <span class="badge" data-testid="plan-convention">${spec.convention}</span>` : nothing}</div>
      <table class="plan" data-testid="plan-table">
        <thead><tr><th>#</th><th>parameter</th><th>location</th><th>class</th><th>why</th></tr></thead>
        <tbody>
          ${spec.args.map((arg, i) => html`<tr data-testid="plan-row-${i}" class=${arg.variadic ? 'variadic' : ''}>
              <td class="n">arg ${arg.index}</td>
              <td class="p" title=${typeName(arg.type)}>${arg.text}</td>
              <td class="loc">${locationBadges(arg.locations, arg.size)}${arg.extension !== 'none' ? html`<span class="faint" style="font-size:11px">${arg.extension}-ext</span>` : nothing}</td>
              <td>${arg.classes.map((c) => html`<span class="badge cls">${c}</span> `)}${arg.classes.length ? nothing : html`<span class="faint">${arg.size} B</span>`}</td>
              <td>${this.why(`arg-${i}`, arg.reason, this.explain(this.argKeys(arg, i)))}</td>
            </tr>`)}
          <tr data-testid="plan-return" class="extra">
            <td class="n">ret</td><td class="p">${typeName(ret.type)}</td><td class="loc">${retWhere}</td>
            <td>${ret.classes.map((c) => html`<span class="badge cls">${c}</span> `)}</td>
            <td>${ret.reason ? this.why('return', ret.reason, this.explain([(ret as { explain?: string }).explain ?? 'return', 'return'])) : nothing}</td>
          </tr>
          ${alText ? html`<tr data-testid="plan-al" class="extra">
              <td class="n">%al</td><td class="p">${alText}</td><td class="loc"><span class="badge reg">al</span></td><td></td>
              <td>${this.why('al', `${alText}: the number of vector registers (xmm) this variadic call passes arguments in — an upper bound the callee uses to decide how many xmm registers to save for va_arg (psABI §3.2.3)`, this.explain(['al', 'variadic']))}</td>
            </tr>` : nothing}
          ${spec.hiddenPointer ? html`<tr data-testid="plan-hidden" class="extra">
              <td class="n">sret</td><td class="p">hidden return pointer</td><td class="loc">${locationBadges([spec.hiddenPointer], spec.hiddenPointer.size)}</td><td></td>
              <td>${this.why('hidden', ret.reason, this.explain(['hidden-pointer']))}</td>
            </tr>` : nothing}
        </tbody>
      </table>
      <div class="plan-notes">
        <span class="note">stack args: <b>${spec.stackSize} B</b></span>
        <span class="note">aligned to <b>${spec.stackAlign}</b> at the call</span>
        ${alText ? html`<span class="note" data-testid="plan-al-note"><b>${alText}</b> (variadic)</span>` : nothing}
        ${spec.shadowSpace ? html`<span class="note" data-testid="plan-shadow">shadow space: <b>${spec.shadowSpace} B</b> above the return address</span>` : nothing}
        ${spec.calleePops ? html`<span class="note">callee pops <b>${spec.calleePops} B</b>${spec.convention ? ` (${spec.convention})` : ''}</span>` : nothing}
        ${arch === 'amd64' && !spec.shadowSpace ? html`<span class="note">red zone: <b>128 B</b> below rsp</span>` : nothing}
      </div>`;
  }
}

customElements.define('shim-plan', PlanTable);
