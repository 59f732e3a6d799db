/** The machine state at the current step: registers, stack, TLS, system calls, the ABI report and the result. */
import { LitElement, html, nothing } from 'lit';
import { TCB_FIELDS } from '../../src/check/tls-watch.ts';
import {
  float80, formatNumber, hexBytes, liveRoles, PC, POINTER_SIZE, returnRegisters, SP, symbolize, type Session,
} from '../session.ts';

const FLAG_BITS: [number, string][] = [[0, 'CF'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [10, 'DF'], [11, 'OF']];

function padHex(value: string, width: number): { lead: string; rest: string } {
  const digits = value.replace(/^0x/, '').padStart(width, '0');
  const firstNonZero = digits.search(/[^0]/);
  const cut = firstNonZero < 0 ? digits.length - 1 : firstNonZero;
  return { lead: `0x${digits.slice(0, cut)}`, rest: digits.slice(cut) };
}

function f64(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true);
}

function cString(bytes: Uint8Array, known?: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    if (known && !known[i]) break;
    const b = bytes[i]!;
    if (b === 0) break;
    s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}

export class StatePanels extends LitElement {
  static override properties = {
    session: { attribute: false },
    step: { type: Number },
    tokens: { attribute: false },
    showAllVector: { state: true },
  };

  declare session?: Session;
  declare step: number;
  declare tokens?: string[];
  declare showAllVector: boolean;

  constructor() {
    super();
    this.step = 0;
    this.showAllVector = false;
  }

  protected override createRenderRoot() {
    return this;
  }

  private seek(to: number): void {
    this.dispatchEvent(new CustomEvent('step-action', { detail: { action: 'seek', to }, bubbles: true }));
  }

  override render() {
    const s = this.session;
    if (!s) {
      return html`<section class="panel" data-testid="registers"><header>Registers</header><div class="empty">Run a call to see the machine state.</div></section>`;
    }
    // Everything reads the player at this step.
    s.player.seek(this.step);
    return html`
      ${this.resultPanel(s)}
      ${this.registersPanel(s)}
      ${this.stackPanel(s)}
      ${this.abiPanel(s)}
      ${this.tlsPanel(s)}
      ${this.syscallsPanel(s)}`;
  }

  private registersPanel(s: Session) {
    const p = s.player;
    const regs = p.registers();
    const changed = new Set(this.step > 0 ? p.changedRegisters(this.step) : []);
    const roles = liveRoles(s).registers;
    const rets = returnRegisters(s.spec);
    const width = s.arch === 'amd64' ? 16 : 8;
    const showRet = s.returnStep !== undefined ? this.step >= s.returnStep : this.step >= p.length;
    const table = p.trace.registers;
    const row = (name: string, value: string, extra: unknown = nothing) => {
      const isChanged = changed.has(name) && name !== PC[s.arch];
      const role = roles.get(name);
      const ret = rets.get(name);
      return html`<div class="reg ${isChanged ? 'changed' : ''}" data-testid="register-${name}">
        <span class="name">${name}</span>
        <span class="val">${value}${extra}${role ? html`<span class="role">← ${role}</span>` : nothing}${ret && showRet ? html`<span class="role ret">→ ${ret}</span>` : nothing}</span>
      </div>`;
    };
    const intRow = (name: string) => {
      const v = regs[name];
      if (v === undefined) return nothing;
      const { lead, rest } = padHex(v, name.endsWith('flags') || table.find((r) => r.name === name)!.size < 8 && s.arch === 'amd64' ? 8 : width);
      let extra: unknown = nothing;
      if (name === 'rflags' || name === 'eflags') {
        const n = Number(BigInt(v));
        extra = html`<span class="flags">${FLAG_BITS.map(([bit, f]) => (n >> bit) & 1 ? html`<b>${f}</b> ` : nothing)}</span>`;
      } else if (name === PC[s.arch] || name === SP[s.arch] || name.endsWith('bp')) {
        const sym = name === PC[s.arch] ? symbolize(s.symbols, Number(BigInt(v))) : undefined;
        if (sym) extra = html`<span class="interp" style="color:var(--cyan)">${sym}</span>`;
      }
      return row(name, html`<span class="lead">${lead}</span>${rest}` as unknown as string, extra);
    };
    const gpr = table.filter((r) => r.group === 'gpr').map((r) => r.name);
    const seg = table.filter((r) => r.group === 'segment').map((r) => r.name);
    const vector = table.filter((r) => r.group === 'vector' && r.kind === 'bytes').map((r) => r.name);
    const x87 = table.filter((r) => r.group === 'x87' && r.kind === 'bytes').map((r) => r.name);
    const x87ctl = table.filter((r) => (r.group === 'x87' || r.group === 'vector') && r.kind === 'int').map((r) => r.name);
    const interesting = (name: string) => this.showAllVector || roles.has(name) || rets.has(name) || changed.has(name) || !/^0+$/.test(regs[name] ?? '');
    const vectorRow = (name: string) => {
      const v = regs[name] ?? '';
      const bytes = hexBytes(v);
      const lo = [...bytes.subarray(0, 8)].reverse().map((b) => b.toString(16).padStart(2, '0')).join('');
      const hi = [...bytes.subarray(8, 16)].reverse().map((b) => b.toString(16).padStart(2, '0')).join('');
      const zero = /^0+$/.test(v);
      const interp = zero ? nothing : html`<span class="interp">f64 ${formatNumber(f64(bytes))}</span>`;
      return row(name, html`<span class="lead">${hi === '0000000000000000' ? '' : `${hi}:`}</span>${zero ? html`<span class="lead">0</span>` : lo}` as unknown as string, interp);
    };
    const x87Row = (name: string) => {
      const bytes = hexBytes(regs[name] ?? '');
      const zero = bytes.every((b) => b === 0);
      return row(name, html`${zero ? html`<span class="lead">0</span>` : formatNumber(float80(bytes))}` as unknown as string,
        zero ? nothing : html`<span class="interp" style="color:var(--faint)">${[...bytes].reverse().map((b) => b.toString(16).padStart(2, '0')).join('')}</span>`);
    };
    const visibleVector = vector.filter(interesting);
    const visibleX87 = x87.filter(interesting);
    return html`<section class="panel" data-testid="registers">
      <header>Registers <span class="right faint">${changed.size ? html`<span class="warn">■</span> changed by step ${this.step - 1}` : 'unchanged'}</span></header>
      <div class="body"><div class="regs">
        ${gpr.map(intRow)}
        <div class="reg-group">segments / TLS</div>
        ${seg.filter((n) => !/^(cs|ss|ds|es)$/.test(n)).map(intRow)}
        <div class="reg-group">vector (SSE) ${vector.length - visibleVector.length ? html`<span style="text-transform:none;letter-spacing:0">· ${vector.length - visibleVector.length} zero hidden</span>` : nothing}
          <button class="btn ghost" style="padding:0 4px;font-size:10.5px" data-testid="toggle-vector" @click=${() => (this.showAllVector = !this.showAllVector)}>${this.showAllVector ? 'hide zero' : 'show all'}</button></div>
        ${visibleVector.map(vectorRow)}
        <div class="reg-group">x87 ${x87.length - visibleX87.length ? html`<span style="text-transform:none;letter-spacing:0">· ${x87.length - visibleX87.length} zero hidden</span>` : nothing}</div>
        ${visibleX87.map(x87Row)}
        ${x87ctl.map(intRow)}
      </div></div>
    </section>`;
  }

  private stackPanel(s: Session) {
    const p = s.player;
    const ptr = POINTER_SIZE[s.arch];
    const sp = Number(p.registerBigInt(SP[s.arch]));
    const roles = liveRoles(s).stack;
    const written = new Set<number>();
    if (this.step > 0) {
      for (const w of p.writesAt(this.step - 1)) {
        for (let a = w.address - (w.address % ptr); a < w.address + w.old.length; a += ptr) written.add(a);
      }
    }
    const redZone = s.arch === 'amd64' ? 128 : 0;
    const below = s.arch === 'amd64' ? 8 : 4;
    let lowest = sp - below * ptr;
    lowest -= ((lowest % 16) + 16) % 16;
    let highest = sp + 20 * ptr;
    if (s.entrySp !== undefined && s.entrySp >= sp && s.entrySp - sp < 512) {
      highest = Math.max(highest, s.entrySp + ptr + s.spec.stackSize + 2 * ptr);
    }
    highest = Math.min(highest, lowest + 56 * ptr);
    const rows = [];
    const sizedSymbols = s.symbols.filter((sym) => sym.size !== undefined);
    for (let a = highest; a >= lowest; a -= ptr) {
      const { bytes, known } = p.peek(a, ptr);
      const allKnown = known.every((k) => k === 1);
      const value = allKnown ? [...bytes].reverse().map((b) => b.toString(16).padStart(2, '0')).join('') : [...bytes].reverse().map((b, i) => (known[ptr - 1 - i] ? b.toString(16).padStart(2, '0') : '??')).join('');
      const off = a - sp;
      const role = roles.get(a);
      const cls = [
        'srow',
        a === sp ? 'sp' : '',
        redZone && a < sp && a >= sp - redZone ? 'redzone' : '',
        a % 16 === 0 ? 'aligned' : '',
        written.has(a) ? 'written' : '',
        role?.startsWith('arg') || role?.startsWith('hidden') ? 'argslot' : '',
        role === 'return address' ? 'retaddr' : '',
      ].join(' ');
      const anns = [];
      if (a === sp) anns.push(html`<span style="color:var(--accent)">← ${SP[s.arch]}</span>`);
      if (role) {
        const sym = role === 'return address' && allKnown ? symbolize(s.symbols, Number(BigInt(`0x${value}`))) : undefined;
        anns.push(html`<span class=${role === 'return address' ? 'ra' : role.startsWith('hidden') ? 'hp' : 'role'}>${role}${sym ? ` (${sym})` : ''}</span>`);
      } else if (allKnown) {
        // A word pointing into a traced function (one with a known size, so data never gets a name): a return
        // address that a call inside the callee pushed, or a code pointer.
        const sym = symbolize(sizedSymbols, Number(BigInt(`0x${value}`)));
        if (sym) anns.push(html`<span class="ra" data-testid="stack-code-pointer">→ ${sym}</span>`);
      }
      if (redZone && a < sp && a >= sp - redZone && a + ptr === sp) anns.push(html`<span class="bad" style="opacity:.8">red zone (128 B)</span>`);
      if (written.has(a)) anns.push(html`<span class="warn">written</span>`);
      rows.push(html`<div class=${cls}>
        <span class="addr">${a.toString(16)}</span>
        <span class="off">${off === 0 ? SP[s.arch] : `${off > 0 ? '+' : '-'}0x${Math.abs(off).toString(16)}`}</span>
        <span class="val ${allKnown ? '' : 'unknown'}">${value}</span>
        <span class="ann">${anns.map((x, i) => html`${i ? ' · ' : ''}${x}`)}</span>
      </div>`);
    }
    const alignNow = ((sp + (s.arch === 'amd64' ? 8 : 4)) % 16) === 0;
    return html`<section class="panel" data-testid="stack">
      <header>Stack <span class="right faint">${SP[s.arch]} = 0x${sp.toString(16)} · ${SP[s.arch]} mod 16 = ${sp % 16}${s.entryStep === this.step ? html` · <span class=${alignNow ? 'ok' : 'bad'}>${alignNow ? 'aligned at entry ✓' : 'misaligned at entry ✗'}</span>` : nothing}</span></header>
      <div class="stack-rows">${rows}</div>
      <div class="legend">
        <span><i style="background:var(--purple)"></i>return address</span>
        <span><i style="background:var(--orange)"></i>argument slot</span>
        ${redZone ? html`<span><i style="background:rgba(248,113,113,.35)"></i>red zone</span>` : nothing}
        <span><i style="background:var(--yellow)"></i>written by the last step</span>
        <span><span class="dash"></span>16-byte boundary</span>
        <span>?? = not in the trace</span>
      </div>
    </section>`;
  }

  private tlsPanel(s: Session) {
    const p = s.player;
    const tls = s.result.tls;
    const regs = p.registers();
    const segment = tls?.layout.segment ?? (s.arch === 'amd64' ? 'fs' : 'gs');
    const tp = tls?.layout.threadPointer ?? Number(BigInt(regs[`${segment}_base`] ?? '0'));
    const ptr = POINTER_SIZE[s.arch];
    const fields = tls?.layout.tcb.fields ?? Object.entries(TCB_FIELDS[s.arch]).map(([o, name]) => ({ offset: Number(o), name, value: '' }));
    const word = (address: number, size: number) => {
      const { bytes, known } = p.peek(address, size);
      if (!known.every((k) => k === 1)) return undefined;
      let v = 0n;
      for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
      return `0x${v.toString(16)}`;
    };
    const errnoAt = tls?.layout.errno;
    const errnoNow = errnoAt !== undefined ? word(errnoAt, 4) : undefined;
    return html`<section class="panel" data-testid="tls">
      <header>Thread-local storage <span class="right faint">${segment} base 0x${tp.toString(16)}${tls?.layout.selector !== undefined ? ` · gs = 0x${tls.layout.selector.toString(16)}` : ''}</span></header>
      <div class="body">
        <div class="kv">
          <span class="k">thread pointer</span><span class="v">${segment}:0 = 0x${tp.toString(16)} <span class="faint">(TCB, glibc tcbhead_t)</span></span>
          ${fields.map((f) => {
            const live = word(tp + f.offset, f.name.startsWith('multiple') || f.name.startsWith('gscope') || f.name.startsWith('feature') ? 4 : ptr);
            const guard = f.name.startsWith('stack_guard');
            return html`<span class="k">${segment}:0x${f.offset.toString(16)}</span>
              <span class="v">${live ?? f.value ?? '?'} <span class=${guard ? 'warn' : 'faint'}>${f.name}</span></span>`;
          })}
          ${errnoAt !== undefined ? html`<span class="k">errno</span><span class="v">${errnoNow !== undefined ? Number(errnoNow) : '?'} <span class="faint">at ${segment}:-0x${(tp - errnoAt).toString(16)} (0x${errnoAt.toString(16)})</span></span>` : nothing}
          ${tls?.layout.modules.map((m) => html`<span class="k">static TLS</span><span class="v">${m.module} <span class="faint">${segment}:-0x${(tp - m.start).toString(16)}, ${m.size} B</span></span>`)}
        </div>
        ${tls?.accesses.length ? html`<div class="panel-title" style="margin:10px -12px 4px;position:static">accessed during the call</div>
          <div class="list">${tls.accesses.map((a) => html`<div class="li" style="cursor:default"><span class=${a.access === 'write' ? 'warn' : 'muted'}>${a.access.padEnd(5)}</span>
            <span>${a.segmentOffset}</span><span class="faint">${a.name}</span><span class="faint" style="margin-left:auto">${a.size} B ×${a.count}</span></div>`)}</div>` : nothing}
      </div>
    </section>`;
  }

  private syscallsPanel(s: Session) {
    const calls = s.player.trace.syscalls;
    return html`<section class="panel" data-testid="syscalls">
      <header>System calls <span class="right faint">${calls.length}</span></header>
      ${calls.length ? html`<ul class="list" style="padding:4px 0" aria-label="System calls: pick one to go to its step">${calls.map((c) => html`<li><button type="button" data-testid="syscall-item"
          class="li ${c.step === this.step ? 'now' : c.step > this.step ? 'future' : ''}" aria-current=${c.step === this.step ? 'step' : 'false'} @click=${() => this.seek(c.step)}>
          <span class="faint">#${c.step}</span><span>${c.name}(${c.args.slice(0, 3).join(', ')}…)</span><span class="faint">=</span>
          <span class=${c.result.startsWith('-') ? 'bad' : 'ok'}>${c.result}</span></button></li>`)}</ul>`
        : html`<div class="empty">No system calls: the call stayed in user space.</div>`}
    </section>`;
  }

  private abiPanel(s: Session) {
    const abi = s.result.abi;
    const events = s.player.trace.events;
    return html`<section class="panel" data-testid="abi-report">
      <header>ABI check ${abi ? html`<span class="right">${abi.ok ? html`<span class="badge ok">clean</span>` : html`<span class="badge bad">violations</span>`}</span>` : nothing}</header>
      <div class="body">
        ${!abi ? html`<div class="faint">The ABI checker was not on for this call.</div>`
          : abi.violations.length === 0 ? html`<div class="abi-ok" data-testid="abi-ok"><span class="big">✓</span>
              <div><div><b>ABI clean</b> — no violations</div><div class="faint" style="font-size:12px">stack alignment, %al for varargs, callee-saved registers,
                direction flag, x87 stack, control words and narrow-int extension were checked at every call between objects.</div></div></div>`
          : abi.violations.map((v) => html`<div class="violation ${v.severity}" data-testid="violation">
              <div class="head"><span class="badge ${v.severity === 'error' ? 'bad' : 'warn'}">${v.rule}</span>
                <span>${v.function}</span><span class="faint">at ${v.at}</span></div>
              <div class="kv" style="margin-bottom:4px"><span class="k">expected</span><span class="v">${v.expected}</span>
                <span class="k">found</span><span class="v bad">${v.actual}</span><span class="k">caller</span><span class="v faint">${v.caller}</span></div>
              <div class="msg">${v.message}</div></div>`)}
        ${events.length ? html`<ul class="list" style="margin-top:6px" aria-label="Checked events: pick one to go to its step">${events.map((e) => html`<li><button type="button" class="li" @click=${() => this.seek(e.step)}>
            <span class="faint">#${e.step}</span><span>${e.kind}</span></button></li>`)}</ul>` : nothing}
      </div>
    </section>`;
  }

  private resultPanel(s: Session) {
    const r = s.result;
    const tokens = this.tokens ?? [];
    const outs = Object.entries(r.out ?? {});
    const live = this.liveBuffers(s, tokens);
    return html`<section class="panel" data-testid="result">
      <header>Result <span class="right faint">${r.instructions ?? s.player.length} instructions</span></header>
      <div class="body">
        ${s.fault ? html`<div class="result-line bad" data-testid="fault">${s.spec.function}(…) did not return: the guest faulted at step ${Math.max(0, s.player.length - 1)}</div>
            <div class="fault-msg" data-testid="fault-message">${s.fault}</div>`
          : html`<div class="result-line">${s.spec.function}(…) <span class="eq">=</span> <span class="ret" data-testid="return-value">${typeof r.return === 'object' && r.return !== null ? JSON.stringify(r.return) : String(r.return ?? 'void')}</span>
          <span class="faint" style="margin-left:10px">errno</span> <span data-testid="errno" class=${r.errno ? 'bad' : ''}>${r.errno ?? 0}</span></div>`}
        ${(r.formatWarnings ?? []).map((w) => html`<div class="violation warning" data-testid="format-warning" role="note">
            <div class="head"><span class="badge warn">${w.rule}</span><span>format and arguments disagree</span></div>
            <div class="msg">${w.message}</div></div>`)}
        ${r.string !== undefined ? html`<div class="outbuf"><span class="lbl">returned string</span><span class="str">"${r.string}"</span></div>` : nothing}
        ${outs.map(([i, v]) => html`<div class="outbuf" data-testid="out-${i}"><span class="lbl">${s.spec.args[Number(i)]?.text ?? `arg ${i}`} (after the call)</span><span class="str">"${v}"</span></div>`)}
        ${live.map((b) => html`<div class="outbuf" data-testid="live-${b.index}"><span class="lbl">${b.label} at step ${this.step}</span><span class="str">"${b.text}"</span></div>`)}
        ${r.stdout ? html`<div class="outbuf"><span class="lbl">stdout</span>${r.stdout}</div>` : nothing}
        ${r.stderr ? html`<div class="outbuf"><span class="lbl">stderr</span><span class="bad">${r.stderr}</span></div>` : nothing}
      </div>
    </section>`;
  }

  /** The out-buffers' contents at the current step (their addresses are the argument values at entry). */
  private liveBuffers(s: Session, tokens: string[]): { index: number; label: string; text: string }[] {
    if (s.entryStep === undefined) return [];
    const p = s.player;
    const out: { index: number; label: string; text: string }[] = [];
    const here = p.step;
    const addresses: { index: number; address: number; size: number }[] = [];
    p.seek(s.entryStep);
    tokens.forEach((t, i) => {
      const m = /^out:(\d+)$/.exec(t);
      const arg = s.spec.args[i];
      if (!m || !arg || arg.locations.length !== 1) return;
      const l = arg.locations[0]!;
      let address: number | undefined;
      if (l.kind === 'reg') address = Number(p.registerBigInt(l.reg.length === 3 && s.arch === 'i386' ? l.reg : l.reg));
      else if (s.entrySp !== undefined) {
        const { bytes, known } = p.peek(s.entrySp + POINTER_SIZE[s.arch] + l.stackOffset, POINTER_SIZE[s.arch]);
        if (known.every((k) => k === 1)) address = bytes.reduceRight((acc, b) => acc * 256 + b, 0);
      }
      if (address !== undefined) addresses.push({ index: i, address, size: Math.min(Number(m[1]), 64) });
    });
    p.seek(here);
    for (const a of addresses) {
      const { bytes, known } = p.peek(a.address, a.size);
      out.push({ index: a.index, label: `${s.spec.args[a.index]!.text} @0x${a.address.toString(16)}`, text: cString(bytes, known) });
    }
    return out;
  }
}

customElements.define('shim-state', StatePanels);
