/** The call picker: searchable catalog, prototype, an argument editor generated from the parameters, Run. */
import { LitElement, html, nothing } from 'lit';
import type { CallSpec } from '../../src/callspec/types.ts';
import { typeName } from '../../src/callspec/layout.ts';
import { onRovingKey, rovingTabIndex } from './roving.ts';
import { api, bytesToBase64, type Arch, type CatalogEntry, type CatalogParam, type UploadInfo } from '../api.ts';

export const VARIADIC_TYPES = ['int', 'uint', 'long', 'ulong', 'longlong', 'ulonglong', 'double', 'longdouble', 'ptr', 'str'] as const;

export interface VariadicArg {
  type: string;
  value: string;
}

export interface CallDraft {
  prototype: string;
  library?: string;
  /** The id of the uploaded shared object the call runs in. */
  upload?: string;
  args: string[];
  /** Plan the prototype alone (its parameters), without the argument rows: they are about to follow it. */
  shape?: boolean;
}

interface ParamView {
  name: string;
  type: string;
  kind: 'string' | 'out' | 'int' | 'float' | 'struct' | 'pointer';
}

/** Examples that make a function's first run say something. */
const PRESETS: Record<string, { args: string[]; variadic?: VariadicArg[] }> = {
  snprintf: { args: ['out:64', '64', '%f'], variadic: [{ type: 'double', value: '1.5' }] },
  sprintf: { args: ['out:64', '%d %s'], variadic: [{ type: 'int', value: '42' }, { type: 'str', value: 'ok' }] },
  printf: { args: ['%d\\n'], variadic: [{ type: 'int', value: '7' }] },
  strlen: { args: ['hello, world'] },
  strtod: { args: ['3.25', 'ptr:0'] },
  atoi: { args: ['1234'] },
  open: { args: ['/nonexistent/file', '0'] },
};

function paramKind(p: { type: string; kind?: string; name?: string }): ParamView['kind'] {
  const k = (p.kind ?? '').toLowerCase();
  const t = p.type.replace(/\s+/g, ' ').trim();
  const pointer = t.includes('*') || t.includes('[');
  if (/^(const )?(unsigned |signed )?char ?\*$/.test(t)) return t.startsWith('const') ? 'string' : 'out';
  if (k.includes('out')) return 'out';
  if (k === 'string') return 'string';
  if (k === 'function' || t.includes('(*')) return 'pointer';
  if (pointer) return t.startsWith('const') ? 'pointer' : 'out';
  if (k.includes('struct') || k.includes('union') || /^(struct|union) /.test(t)) return 'struct';
  if (k.includes('float') || /^(float|double|long double)$/.test(t)) return 'float';
  return 'int';
}

function defaultToken(p: ParamView): string {
  switch (p.kind) {
    case 'string': return 'hello';
    case 'out': return 'out:64';
    case 'pointer': return 'ptr:0';
    case 'struct': return '{0, 0}';
    case 'float': return '1.5';
    default: return /^(n|len|size|maxlen|count|nbytes|bufsize|buflen)$/.test(p.name) ? '64' : '0';
  }
}

const HINTS: Record<ParamView['kind'], string> = {
  string: 'text, copied into guest memory (NUL-terminated)',
  out: 'out:N — N zeroed bytes, shown after the call',
  pointer: 'ptr:0 (NULL), an address, or out:N',
  struct: '{a, b, …} — a struct by value',
  float: 'a number: 1.5, -2e10, inf, nan',
  int: 'an integer: 42, -1, 0x1f',
};

export class CallPicker extends LitElement {
  static override properties = {
    arch: { type: String },
    spec: { attribute: false },
    disabled: { type: Boolean },
    busy: { type: Boolean },
    entries: { state: true },
    query: { state: true },
    selected: { state: true },
    prototype: { state: true },
    library: { state: true },
    params: { state: true },
    values: { state: true },
    variadic: { state: true },
    isVariadic: { state: true },
    uploaded: { state: true },
    uploading: { state: true },
  };

  /** 'both' in the compare mode (the call runs on amd64 and i386). */
  declare arch: Arch | 'both';
  declare spec?: CallSpec;
  declare disabled: boolean;
  declare busy: boolean;
  declare entries: CatalogEntry[];
  declare query: string;
  declare selected?: string;
  declare prototype: string;
  declare library?: string;
  declare params: ParamView[];
  declare values: string[];
  declare variadic: VariadicArg[];
  declare isVariadic: boolean;
  /** The user's uploaded shared object: its exports replace the catalog in the function list. */
  declare uploaded?: UploadInfo;
  declare uploading: boolean;

  constructor() {
    super();
    this.arch = 'amd64';
    this.disabled = false;
    this.busy = false;
    this.entries = [];
    this.query = '';
    this.prototype = '';
    this.params = [];
    this.values = [];
    this.variadic = [];
    this.isVariadic = false;
    this.uploading = false;
  }

  /** True while the prototype text is the user's own (params come from the plan's spec). */
  private custom = false;
  /** The typed prototype changed: the next plan is of its parameters alone, and the rows follow it. */
  private shapePending = false;
  private searchTimer?: ReturnType<typeof setTimeout>;
  private planTimer?: ReturnType<typeof setTimeout>;
  private searchSeq = 0;

  protected override createRenderRoot() {
    return this;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.search('', true);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearTimeout(this.searchTimer);
    clearTimeout(this.planTimer);
  }

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('spec') && this.spec && this.custom) {
      this.adoptSpecParams(this.spec);
      if (this.shapePending) {
        // The rows follow the typed prototype now; plan again with their values.
        this.shapePending = false;
        this.requestPlan(0);
      }
    }
  }

  /** Loads a call (from a lesson) into the editor. */
  load(call: { prototype: string; args: string[]; library?: string }): void {
    const entry = this.entries.find((e) => e.prototype === call.prototype);
    this.selected = entry?.name;
    this.library = call.library ?? entry?.library;
    this.prototype = call.prototype;
    this.custom = !entry;
    this.isVariadic = entry?.variadic ?? call.prototype.includes('...');
    this.params = entry ? entry.params.map(toView) : [];
    const fixed = entry ? entry.params.length : call.args.length;
    this.values = call.args.slice(0, fixed);
    this.variadic = call.args.slice(fixed).map((token) => {
      const m = /^([a-z]+):(.*)$/s.exec(token);
      return m && (VARIADIC_TYPES as readonly string[]).includes(m[1]!) ? { type: m[1]!, value: m[2]! } : { type: 'int', value: token };
    });
    this.requestPlan(0);
  }

  private async search(q: string, initial = false): Promise<void> {
    const seq = ++this.searchSeq;
    try {
      const { entries } = await api.catalog(q, 300);
      if (seq !== this.searchSeq) return;
      this.entries = entries;
      if (initial && !this.selected) {
        const first = entries.find((e) => e.name === 'snprintf') ?? entries[0];
        if (first) this.select(first);
      }
    } catch (error) {
      this.fail(error);
    }
  }

  private onSearch(e: Event): void {
    this.query = (e.target as HTMLInputElement).value;
    if (this.uploaded) return; // the exports are filtered as they render
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(() => void this.search(this.query), 150);
  }

  private select(entry: CatalogEntry): void {
    this.selected = entry.name;
    this.library = entry.library;
    this.prototype = entry.prototype;
    this.custom = false;
    this.isVariadic = entry.variadic;
    this.params = entry.params.map(toView);
    const preset = PRESETS[entry.name];
    this.values = this.params.map((p, i) => preset?.args[i] ?? defaultToken(p));
    this.variadic = entry.variadic ? (preset?.variadic ?? []).map((v) => ({ ...v })) : [];
    this.requestPlan(0);
  }

  private adoptSpecParams(spec: CallSpec): void {
    const fixed = spec.args.filter((a) => !a.variadic);
    const params: ParamView[] = fixed.map((a) => {
      const type = typeName(a.type);
      const name = /([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*$/.exec(a.text)?.[1] ?? `arg${a.index}`;
      return { name: name === type.split(' ').pop() ? `arg${a.index}` : name, type, kind: paramKind({ type, name }) };
    });
    this.isVariadic = isVariadicPrototype(this.prototype);
    if (!this.isVariadic) this.variadic = [];
    const same = params.length === this.params.length && params.every((p, i) => p.type === this.params[i]!.type && p.name === this.params[i]!.name);
    if (same) return;
    // A row keeps its value while its parameter keeps its type; a new or retyped parameter starts from its default.
    this.values = params.map((p, i) => (this.params[i]?.type === p.type ? this.values[i] : undefined) ?? defaultToken(p));
    this.params = params;
  }

  private onPrototype(e: Event): void {
    this.prototype = (e.target as HTMLTextAreaElement).value;
    const entry = this.entries.find((x) => x.prototype === this.prototype);
    this.custom = !entry;
    if (this.custom) {
      this.selected = undefined;
      this.isVariadic = isVariadicPrototype(this.prototype);
      this.shapePending = true;
    }
    this.requestPlan();
  }

  /** The argument tokens: one per parameter row, then the variadic rows (only for a variadic prototype). */
  tokens(): string[] {
    const fixed = this.values.slice(0, this.params.length || this.values.length);
    return [...fixed, ...(this.isVariadic ? this.variadic.map((v) => `${v.type}:${v.value}`) : [])];
  }

  draft(): CallDraft {
    if (this.uploaded) return { prototype: this.prototype.trim(), upload: this.uploaded.id, args: this.tokens() };
    return { prototype: this.prototype.trim(), library: this.custom ? undefined : this.library, args: this.tokens() };
  }

  // ---- uploaded shared objects ---------------------------------------------------------------------------------

  private async onUpload(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    this.uploading = true;
    try {
      const data = bytesToBase64(new Uint8Array(await file.arrayBuffer()));
      const info = await api.upload({ name: file.name, data });
      this.uploaded = info;
      this.query = '';
      this.dispatchEvent(new CustomEvent('upload-ready', { detail: info, bubbles: true }));
      const first = info.exports[0];
      if (first) this.selectExport(first);
      else this.fail(new Error(`${info.name} exports no functions`));
    } catch (error) {
      this.fail(error);
    } finally {
      this.uploading = false;
    }
  }

  /** Picks an export of the uploaded object: the .so has no types, so the prototype is a template to edit. */
  private selectExport(name: string): void {
    this.selected = name;
    this.library = undefined;
    this.custom = true;
    this.prototype = `int ${name}(void)`;
    this.isVariadic = false;
    this.params = [];
    this.values = [];
    this.variadic = [];
    this.requestPlan(0);
    void this.updateComplete.then(() => {
      const box = this.querySelector<HTMLTextAreaElement>('[data-testid="prototype"]');
      box?.focus();
      box?.setSelectionRange(0, box.value.length);
    });
  }

  private leaveUpload(): void {
    this.uploaded = undefined;
    this.selected = undefined;
    this.dispatchEvent(new CustomEvent('upload-ready', { detail: undefined, bubbles: true }));
    const first = this.entries.find((e) => e.name === 'snprintf') ?? this.entries[0];
    if (first) this.select(first);
  }

  private functionList() {
    const u = this.uploaded;
    if (!u) {
      const current = this.entries.findIndex((e) => e.name === this.selected);
      return html`<ul class="fn-list" aria-label="Functions" @keydown=${onRovingKey}>
          ${this.entries.map((e, i) => html`<li><button type="button" class="fn-item" data-roving data-testid="function-item-${e.name}"
              tabindex=${rovingTabIndex(i, current)} aria-current=${e.name === this.selected ? 'true' : 'false'} title=${e.prototype}
              @click=${() => this.select(e)}>
              <span>${e.name}</span>${e.variadic ? html`<span class="va" aria-label="variadic">…</span>` : nothing}
              <span class="lib">${e.library.replace(/\.so.*$/, '')}</span></button></li>`)}
          ${this.entries.length === 0 ? html`<li class="empty">No function matches.</li>` : nothing}
        </ul>`;
    }
    const q = this.query.trim().toLowerCase();
    const shown = u.exports.filter((n) => n.toLowerCase().includes(q));
    return html`<div class="upload-head" data-testid="upload-info">
        <span class="badge">${u.arch}</span><b>${u.name}</b>${u.soname && u.soname !== u.name ? html`<span class="faint">soname ${u.soname}</span>` : nothing}
        <button class="btn ghost" data-testid="upload-close" title="Back to the libc and libpcap catalog" @click=${this.leaveUpload}>× catalog</button>
      </div>
      <ul class="fn-list" aria-label="Functions of ${u.name}" @keydown=${onRovingKey}>
        ${shown.map((name, i) => html`<li><button type="button" class="fn-item" data-roving data-testid="function-item-${name}" data-kind="uploaded"
            tabindex=${rovingTabIndex(i, shown.indexOf(this.selected ?? ''))} aria-current=${name === this.selected ? 'true' : 'false'}
            title="${name} in ${u.name}: type its prototype" @click=${() => this.selectExport(name)}>
            <span>${name}</span><span class="lib">uploaded</span></button></li>`)}
        ${shown.length === 0 ? html`<li class="empty">No exported function matches.</li>` : nothing}
      </ul>`;
  }

  /** Asks the app for a new plan (debounced while typing). */
  requestPlan(delay = 250): void {
    clearTimeout(this.planTimer);
    this.planTimer = setTimeout(() => {
      if (this.prototype.trim()) this.dispatchEvent(new CustomEvent('plan-request', { detail: { ...this.draft(), shape: this.shapePending }, bubbles: true }));
    }, delay);
  }

  private setValue(i: number, value: string): void {
    this.values = this.values.map((v, j) => (j === i ? value : v));
    this.requestPlan();
  }

  private setVariadic(i: number, patch: Partial<VariadicArg>): void {
    this.variadic = this.variadic.map((v, j) => (j === i ? { ...v, ...patch } : v));
    this.requestPlan();
  }

  private addVariadic(): void {
    this.variadic = [...this.variadic, { type: 'int', value: '0' }];
    this.requestPlan();
  }

  private removeVariadic(i: number): void {
    this.variadic = this.variadic.filter((_, j) => j !== i);
    this.requestPlan();
  }

  private run(): void {
    clearTimeout(this.planTimer);
    this.dispatchEvent(new CustomEvent('run-call', { detail: this.draft(), bubbles: true }));
  }

  private fail(error: unknown): void {
    this.dispatchEvent(new CustomEvent('app-error', { detail: error, bubbles: true }));
  }

  override render() {
    const fixedCount = this.params.length;
    return html`<div class="picker">
      <section class="panel">
        <header>Function <span class="right faint">${this.uploaded ? `${this.uploaded.exports.length} exported` : `${this.entries.length} shown`}</span></header>
        <div class="search">
          <input type="search" data-testid="function-search"
            placeholder=${this.uploaded ? `Search the functions of ${this.uploaded.name}…` : 'Search libc and libpcap… (e.g. printf, strto, pcap_)'}
            .value=${this.query} @input=${this.onSearch} ?disabled=${this.disabled} aria-label="Search functions" />
          <label class="upload" title="A shared object of your own (i386 or amd64, built with -shared -fPIC; at most 8 MiB): call its functions with a prototype you type">
            <span class="btn">${this.uploading ? 'Uploading…' : 'Upload .so'}</span>
            <input type="file" data-testid="upload-input" accept=".so,application/x-sharedlib,application/octet-stream"
              ?disabled=${this.disabled || this.uploading} @change=${this.onUpload} />
            <span class="faint">your own shared object, i386 or amd64</span>
          </label>
        </div>
        ${this.functionList()}
      </section>
      <section class="panel">
        <header>Call</header>
        <div class="editor">
          <label class="proto">${this.uploaded ? html`Prototype <b>(type it: ${this.uploaded.name} has no type information)</b>` : 'Prototype (edit for a custom one)'}
            <textarea data-testid="prototype" spellcheck="false" rows="2" .value=${this.prototype} @input=${this.onPrototype}></textarea>
          </label>
          ${this.params.map((p, i) => html`<div class="arg-row">
              <span class="idx">${i + 1}</span>
              <span class="decl" title="${p.type} ${p.name}">${p.type} <b>${p.name}</b></span>
              <span class="idx"></span>
              <input type="text" spellcheck="false" data-testid="arg-${i}" aria-label="argument ${i + 1}: ${p.type} ${p.name}"
                .value=${this.values[i] ?? ''} @input=${(e: Event) => this.setValue(i, (e.target as HTMLInputElement).value)} />
              <span class="idx"></span><span class="hint">${HINTS[p.kind]}</span>
            </div>`)}
          ${this.isVariadic ? html`
            ${this.variadic.map((v, i) => html`<div class="va-row">
                <span class="idx">…${fixedCount + i + 1}</span>
                <select data-testid="variadic-type-${i}" aria-label="variadic ${i} type" .value=${v.type}
                  @change=${(e: Event) => this.setVariadic(i, { type: (e.target as HTMLSelectElement).value })}>
                  ${VARIADIC_TYPES.map((t) => html`<option value=${t} ?selected=${t === v.type}>${t}</option>`)}
                </select>
                <input type="text" spellcheck="false" data-testid="variadic-value-${i}" aria-label="variadic ${i} value" .value=${v.value}
                  @input=${(e: Event) => this.setVariadic(i, { value: (e.target as HTMLInputElement).value })} />
                <button class="btn ghost icon" title="Remove" aria-label="Remove variadic argument ${fixedCount + i + 1}" @click=${() => this.removeVariadic(i)}>×</button>
              </div>`)}
            <button class="btn" data-testid="add-variadic" @click=${this.addVariadic}>+ variadic argument</button>` : nothing}
          <div class="run-row">
            <button class="btn primary" data-testid="run" @click=${this.run} ?disabled=${this.busy || this.disabled || !this.prototype.trim()}>
              ${this.busy ? 'Running…' : html`▶ Run on ${this.arch === 'both' ? 'i386 and amd64' : this.arch}`}</button>
          </div>
          <div class="faint" style="font-size:11px">Runs ${this.uploaded ? html`${this.uploaded.name} with ` : nothing}the real Debian
            ${this.arch === 'amd64' ? 'x86-64' : this.arch === 'i386' ? 'i386' : 'i386 and x86-64'} glibc in the emulator,
            with the ABI checker and the TLS watch on, and records every instruction.</div>
        </div>
      </section>
    </div>`;
  }
}

function isVariadicPrototype(prototype: string): boolean {
  return /\.\.\.\s*\)\s*;?\s*$/.test(prototype);
}

function toView(p: CatalogParam, i: number): ParamView {
  const name = p.name || `arg${i}`;
  return { name, type: p.type, kind: paramKind({ ...p, name }) };
}

customElements.define('shim-call-picker', CallPicker);
