/** `<shim-playground>`: the whole tool — header, call picker or lessons, plan, stepper and machine state. */
import { LitElement, html, nothing } from 'lit';
import type { CallSpec } from '../../src/callspec/types.ts';
import {
  api, ApiError, isStatic, type Arch, type CallResponse, type Lesson, type LessonStep, type LessonSummary, type PlanResponse, type UploadInfo,
} from '../api.ts';
import { openSession, type Session } from '../session.ts';
import { scrollWithinPanel } from '../scroll.ts';
import type { CallDraft, CallPicker } from './picker.ts';
import type { StepAction } from './stepper.ts';
import type { TraceTools } from './trace-tools.ts';
import type { MemoryView } from './memory.ts';
import type { LessonsPane } from './lessons.ts';

/** Keys that run to the next (+) or previous (-) write, call or return. */
type RunTo = 'write+' | 'write-' | 'call+' | 'call-' | 'return+' | 'return-';
import './picker.ts';
import './plan.ts';
import './stepper.ts';
import './state.ts';
import './lessons.ts';
import { compareColumn } from './compare.ts';
import { helpPopover } from './help.ts';

type Mode = 'explore' | 'lessons';

const BOTH: Arch[] = ['i386', 'amd64'];


export class Playground extends LitElement {
  static override properties = {
    mode: { state: true },
    arch: { state: true },
    error: { state: true },
    busy: { state: true },
    spec: { state: true },
    explanations: { state: true },
    session: { state: true },
    step: { state: true },
    tokens: { state: true },
    help: { state: true },
    lessons: { state: true },
    lesson: { state: true },
    lessonIndex: { state: true },
    lessonsLoading: { state: true },
    lessonOpening: { state: true },
    compare: { state: true },
    plans: { state: true },
    results: { state: true },
    uploaded: { state: true },
  };

  declare mode: Mode;
  declare arch: Arch;
  declare error?: string;
  declare busy: boolean;
  declare spec?: CallSpec;
  declare explanations?: Record<string, string>;
  declare session?: Session;
  declare step: number;
  declare tokens: string[];
  declare help: boolean;
  declare lessons: LessonSummary[];
  declare lesson?: Lesson;
  declare lessonIndex: number;
  declare lessonsLoading: boolean;
  /** The title of the lesson being fetched (its calls are recorded on first use). */
  declare lessonOpening?: string;
  /** Compare mode: plan and run every call on i386 and amd64; `arch` is the one the stepper shows. */
  declare compare: boolean;
  declare plans: Partial<Record<Arch, PlanResponse>>;
  declare results: Partial<Record<Arch, CallResponse>>;
  /** The user's uploaded shared object the picker lists (it fixes the arch). */
  declare uploaded?: UploadInfo;

  private readonly staticSite = isStatic();
  private planSeq = 0;
  private loadSeq = 0;
  private lessonsLoaded = false;

  constructor() {
    super();
    // A link to a lesson (?lesson=<id>&step=<n>) opens Lessons, on the live server as in an export.
    this.mode = isStatic() || new URLSearchParams(location.search).has('lesson') ? 'lessons' : 'explore';
    this.arch = 'amd64';
    this.busy = false;
    this.step = 0;
    this.tokens = [];
    this.help = false;
    this.lessons = [];
    this.lessonIndex = 0;
    this.lessonsLoading = false;
    this.compare = false;
    this.plans = {};
    this.results = {};
  }

  protected override createRenderRoot() {
    return this;
  }

  private readonly onKey = (e: KeyboardEvent) => this.key(e);
  private readonly onRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    this.showError(e.reason);
  };

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.onKey);
    window.addEventListener('unhandledrejection', this.onRejection);
    this.addEventListener('plan-request', (e) => void this.plan((e as CustomEvent<CallDraft>).detail));
    this.addEventListener('run-call', (e) => void this.run((e as CustomEvent<CallDraft>).detail));
    this.addEventListener('step-action', (e) => this.act((e as CustomEvent<{ action: StepAction | 'seek'; to?: number }>).detail));
    this.addEventListener('app-error', (e) => this.showError((e as CustomEvent).detail));
    this.addEventListener('open-lesson', (e) => void this.openLesson((e as CustomEvent<string>).detail));
    this.addEventListener('lesson-step', (e) => void this.lessonStep((e as CustomEvent<number>).detail));
    // A prediction answered: now show the instruction the step is about (it would have given the answer away).
    this.addEventListener('predict-reveal', () => this.applyFocus(this.lesson?.steps[this.lessonIndex]?.focus));
    this.addEventListener('upload-ready', (e) => this.onUpload((e as CustomEvent<UploadInfo | undefined>).detail));
    if (this.mode === 'lessons') void this.loadLessons(true);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('keydown', this.onKey);
    window.removeEventListener('unhandledrejection', this.onRejection);
  }

  showError(error: unknown): void {
    this.error = error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
  }

  private picker(): CallPicker | null {
    return this.querySelector('shim-call-picker');
  }

  // ---- explore -------------------------------------------------------------------------------------------------

  private comparing(): boolean {
    return this.compare && this.mode === 'explore' && !this.uploaded;
  }

  private async plan(draft: CallDraft): Promise<void> {
    const seq = ++this.planSeq;
    try {
      if (this.comparing()) {
        const both = await Promise.all(BOTH.map((arch) => api.plan({ arch, prototype: draft.prototype, args: draft.shape ? undefined : draft.args })));
        if (seq !== this.planSeq) return;
        this.plans = Object.fromEntries(BOTH.map((arch, i) => [arch, both[i]!]));
        this.spec = this.plans[this.arch]!.spec;
        this.explanations = this.plans[this.arch]!.explanations;
        this.error = undefined;
        return;
      }
      const plan = await api.plan({ arch: this.arch, prototype: draft.prototype, args: draft.shape ? undefined : draft.args, upload: draft.upload });
      if (seq !== this.planSeq) return;
      this.spec = plan.spec;
      this.explanations = plan.explanations;
      // The input changed and now makes a plan: whatever the banner said about the earlier input is past.
      this.error = undefined;
    } catch (error) {
      if (seq !== this.planSeq) return;
      this.showError(error);
      // The table must not keep showing the plan of an input that is no longer there.
      this.spec = undefined;
      this.plans = {};
    }
  }

  private async run(draft: CallDraft): Promise<void> {
    const seq = ++this.loadSeq;
    this.busy = true;
    // Nothing of the call being replaced may stay on screen under the new one (least of all if the new one fails).
    this.clearRun();
    try {
      if (this.comparing()) {
        const both = await Promise.all(BOTH.map((arch) =>
          api.call({ arch, library: draft.library, prototype: draft.prototype, args: draft.args, check: true, tls: true })));
        if (seq !== this.loadSeq) return;
        this.results = Object.fromEntries(BOTH.map((arch, i) => [arch, both[i]!]));
        this.plans = Object.fromEntries(BOTH.map((arch, i) => [arch, { ...this.plans[arch], spec: both[i]!.spec }]));
        await this.load(this.results[this.arch]!, draft.args, this.plans[this.arch]?.explanations);
        // A recording cut at the trace limit still loads; the banner says why it ends early.
        this.error = both.find((r) => r.truncated)?.truncated;
        return;
      }
      const response = await api.call({
        arch: this.arch, library: draft.library, upload: draft.upload, prototype: draft.prototype, args: draft.args, check: true, tls: true,
      });
      if (seq !== this.loadSeq) return;
      await this.load(response, draft.args);
      this.error = response.truncated;
      void this.updateComplete.then(() => this.revealTrace());
    } catch (error) {
      if (seq !== this.loadSeq) return;
      this.showError(error);
      // A guest fault comes with the recording up to the faulting instruction: show it, stopped there.
      const partial = error instanceof ApiError ? error.partial : undefined;
      if (partial && !this.comparing()) {
        await this.load(partial, draft.args);
        if (this.session) this.step = Math.max(0, this.session.player.length - 1);
        void this.updateComplete.then(() => this.revealTrace());
      }
    } finally {
      if (seq === this.loadSeq) this.busy = false;
    }
  }

  /** Forgets the last call's recording, results and state panels. */
  private clearRun(): void {
    this.session = undefined;
    this.results = {};
    this.tokens = [];
    this.step = 0;
  }

  private async load(response: CallResponse, tokens: string[], explanations?: Record<string, string>): Promise<void> {
    if (response.result?.error) throw new Error(response.result.error);
    const session = await openSession(this.arch, response);
    this.session = session;
    this.spec = response.spec;
    if (response.explanations || explanations) this.explanations = response.explanations ?? explanations;
    this.tokens = tokens;
    this.step = session.player.step;
  }

  /** On a narrow screen the panels stack and the page scrolls: bring a panel on screen if it is not. */
  private reveal(selector: string): void {
    const el = this.querySelector(selector);
    if (!el) return;
    const box = el.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) el.scrollIntoView({ block: 'start' });
  }

  private revealTrace(): void {
    this.reveal('shim-stepper');
  }

  private setArch(choice: Arch | 'both'): void {
    const compare = choice === 'both';
    const arch = compare ? this.arch : choice;
    if (arch === this.arch && compare === this.compare) return;
    this.arch = arch;
    this.compare = compare;
    this.plans = {};
    this.results = {};
    this.session = undefined;
    this.step = 0;
    this.picker()?.requestPlan(0);
  }

  /** Compare mode: which arch's recording the stepper (and the state panels) show. */
  private async stepArch(arch: Arch): Promise<void> {
    if (arch === this.arch) return;
    this.arch = arch;
    const plan = this.plans[arch];
    if (plan) {
      this.spec = plan.spec;
      this.explanations = plan.explanations;
    }
    const response = this.results[arch];
    this.session = undefined;
    this.step = 0;
    if (!response) return;
    const seq = ++this.loadSeq;
    try {
      const session = await openSession(arch, response);
      if (seq !== this.loadSeq) return;
      this.session = session;
      this.spec = response.spec;
      this.step = session.player.step;
    } catch (error) {
      this.showError(error);
    }
  }

  /** The picker loaded a shared object of the user's (or went back to the catalog: undefined). */
  private onUpload(info: UploadInfo | undefined): void {
    this.uploaded = info;
    this.plans = {};
    this.results = {};
    this.session = undefined;
    this.step = 0;
    this.error = undefined;
    if (info) this.arch = info.arch;
  }

  // ---- stepping ------------------------------------------------------------------------------------------------

  private act({ action, to }: { action: StepAction | 'seek'; to?: number }): void {
    const s = this.session;
    if (!s) return;
    const p = s.player;
    p.seek(this.step);
    switch (action) {
      case 'start': p.seek(0); break;
      case 'back': p.stepBackward(); break;
      case 'forward': p.stepForward(); break;
      case 'over': {
        const text = safeText(s, p.step);
        if (/^call\b/.test(text)) {
          const d = p.depth();
          let q = p.step + 1;
          while (q < p.length && p.depth(q) > d) q++;
          p.seek(q);
        } else p.stepForward();
        break;
      }
      case 'return': p.runToReturn(); break;
      case 'syscall': p.runToNextSyscall(); break;
      case 'end': p.seek(p.length); break;
      case 'entry': if (s.entryStep !== undefined) p.seek(s.entryStep); break;
      case 'seek': p.seek(to ?? 0); break;
    }
    this.step = p.step;
  }

  private key(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target as HTMLElement | null;
    if (target && (target.closest('input, textarea, select, [contenteditable]'))) return;
    const map: Record<string, StepAction | 'help' | 'page-up' | 'page-down' | 'escape' | 'find' | 'continue' | 'reverse' | RunTo> = {
      ArrowRight: 'forward', s: 'forward', ArrowLeft: 'back', b: 'back', o: 'over', r: 'return', y: 'syscall',
      e: 'entry', Home: 'start', End: 'end', '?': 'help', PageUp: 'page-up', PageDown: 'page-down', Escape: 'escape',
      '/': 'find', c: 'continue', C: 'reverse',
      w: 'write+', W: 'write-', n: 'call+', N: 'call-', u: 'return+', U: 'return-',
    };
    const action = map[e.key];
    if (!action) return;
    const tools = this.querySelector<TraceTools>('shim-trace-tools');
    if (action === 'find') tools?.querySelector<HTMLInputElement>('[data-testid="trace-search"]')?.focus();
    else if (action === 'continue' || action === 'reverse') tools?.continueTo(action === 'continue' ? 1 : -1);
    else if (action === 'write+' || action === 'write-') this.querySelector<MemoryView>('shim-memory')?.runToWrite(action === 'write+' ? 1 : -1);
    else if (action === 'call+' || action === 'call-' || action === 'return+' || action === 'return-') tools?.runTo(action.slice(0, -1) as 'call' | 'return', action.endsWith('+') ? 1 : -1);
    else if (action === 'help') this.help = !this.help;
    else if (action === 'escape') this.help = false;
    else if (action === 'page-up') this.act({ action: 'seek', to: this.step - 10 });
    else if (action === 'page-down') this.act({ action: 'seek', to: this.step + 10 });
    else this.act({ action });
    e.preventDefault();
  }

  // ---- lessons -------------------------------------------------------------------------------------------------

  private setMode(mode: Mode): void {
    if (mode === this.mode) return;
    this.mode = mode;
    this.session = undefined;
    this.step = 0;
    if (mode === 'lessons') {
      this.spec = undefined;
      void this.loadLessons(false);
      if (this.lesson) void this.lessonStep(this.lessonIndex);
    } else {
      history.replaceState(null, '', location.pathname);
      this.picker()?.requestPlan(0);
    }
  }

  private async loadLessons(openFirst: boolean): Promise<void> {
    if (this.lessonsLoaded) return;
    this.lessonsLoading = true;
    try {
      this.lessons = (await api.lessons()).lessons;
      this.lessonsLoaded = true;
      const params = new URLSearchParams(location.search);
      const wanted = params.get('lesson') ?? (openFirst && this.staticSite ? this.lessons[0]?.id : undefined);
      const step = Number(params.get('step') ?? '1');
      if (wanted) await this.openLesson(wanted, Number.isInteger(step) && step > 0 ? step - 1 : 0);
    } catch (error) {
      this.showError(error);
    } finally {
      this.lessonsLoading = false;
    }
  }

  private async openLesson(id: string, index = 0): Promise<void> {
    // The first opening records the lesson's calls on the server (seconds): say so while it runs.
    this.lessonOpening = this.lessons.find((l) => l.id === id)?.title ?? id;
    this.busy = true;
    try {
      this.lesson = await api.lesson(id);
      this.lessonIndex = index;
      this.lessonOpening = undefined;
      await this.updateComplete;
      this.reveal('[data-testid="lesson-view"]');
      await this.lessonStep(index);
    } catch (error) {
      this.showError(error);
    } finally {
      this.lessonOpening = undefined;
      this.busy = false;
    }
  }

  private async lessonStep(index: number): Promise<void> {
    const lesson = this.lesson;
    if (!lesson) return;
    const i = Math.max(0, Math.min(lesson.steps.length - 1, index));
    this.lessonIndex = i;
    // The address bar links to this step (?lesson=<id>&step=<n>).
    history.replaceState(null, '', `${location.pathname}?lesson=${encodeURIComponent(lesson.id)}&step=${i + 1}`);
    const step = lesson.steps[i]!;
    const seq = ++this.loadSeq;
    this.arch = step.arch ?? this.arch;
    this.busy = true;
    try {
      await this.showLessonStep(step, seq);
      if (seq === this.loadSeq) this.error = undefined;
    } catch (error) {
      if (seq === this.loadSeq) this.showError(error);
    } finally {
      if (seq === this.loadSeq) this.busy = false;
    }
  }

  private async showLessonStep(step: LessonStep, seq: number): Promise<void> {
    const plan = step.plan as { spec?: CallSpec; explanations?: Record<string, string>; prototype?: string; args?: string[] } | undefined;
    const tokens = step.call?.args ?? plan?.args ?? [];
    if (step.recording) {
      if (seq !== this.loadSeq) return;
      await this.load(step.recording, tokens, plan?.explanations);
    } else if (step.call && !this.staticSite) {
      const response = await api.call({ arch: step.arch, ...step.call, check: true, tls: true });
      if (seq !== this.loadSeq) return;
      await this.load(response, tokens, plan?.explanations);
    } else {
      this.session = undefined;
      this.step = 0;
      if (plan?.spec) {
        this.spec = plan.spec;
        this.explanations = plan.explanations;
      } else if (plan?.prototype && !this.staticSite) {
        const response = await api.plan({ arch: step.arch, prototype: plan.prototype, args: plan.args });
        if (seq !== this.loadSeq) return;
        this.spec = response.spec;
        this.explanations = response.explanations;
      } else {
        this.spec = undefined;
      }
    }
    if (seq !== this.loadSeq) return;
    if (plan?.spec && step.recording) this.explanations = plan.explanations ?? this.explanations;
    // Until its question is answered, a step opens at the start of its call rather than at the instruction it
    // discusses (the answer); the pane's predict-reveal moves there.
    const pending = step.predict !== undefined && !this.querySelector<LessonsPane>('shim-lessons')?.outcomes.has(`${this.lesson?.id}/${this.lessonIndex}`);
    const focus = step.focus as { view?: string } | undefined;
    this.applyFocus(pending && this.session ? { view: focus?.view, step: this.session.mainRun.start } : step.focus);
  }

  private applyFocus(focus: unknown): void {
    const s = this.session;
    if (!s || focus === undefined || focus === null) return;
    const f = focus as { step?: unknown; at?: unknown; view?: unknown } | number | string;
    if (typeof f === 'object' && typeof f.view === 'string') {
      const ids: Record<string, string> = { plan: 'plan-table', abi: 'abi-report' };
      const id = ids[f.view] ?? f.view;
      void this.updateComplete.then(() => {
        const el = this.querySelector(`[data-testid="${id}"]`);
        if (el instanceof HTMLElement) scrollWithinPanel(el);
        el?.classList.add('focus-flash');
        setTimeout(() => el?.classList.remove('focus-flash'), 1600);
      });
    }
    const where = typeof f === 'object' ? (f.step ?? f.at) : f;
    if (typeof where === 'number') this.act({ action: 'seek', to: where });
    else if (where === 'entry') this.act({ action: 'entry' });
    else if (where === 'return' && s.returnStep !== undefined) this.act({ action: 'seek', to: s.returnStep });
    else if (where === 'end') this.act({ action: 'end' });
  }

  // ---- view ----------------------------------------------------------------------------------------------------

  private comparePanel() {
    return html`<section class="panel compare-panel" data-testid="compare">
      <header>Calling-convention plans, side by side <span class="right faint">the stepper shows ${this.arch}</span></header>
      <div class="compare">${BOTH.map((arch) => compareColumn(this, arch, (a) => void this.stepArch(a)))}</div>
    </section>`;
  }

  override render() {
    const explore = this.mode === 'explore';
    return html`
      <header class="app-header">
        <h1 class="brand"><span class="logo" aria-hidden="true">⟨shim⟩</span><span>shimulator</span><span class="sub">ABI playground</span></h1>
        <div class="seg" role="group" aria-label="Mode">
          <button data-testid="mode-explore" aria-pressed=${String(explore)} ?disabled=${this.staticSite} @click=${() => this.setMode('explore')}>Explore</button>
          <button data-testid="mode-lessons" aria-pressed=${String(!explore)} @click=${() => this.setMode('lessons')}>Lessons</button>
        </div>
        <label class="header-field">arch
          <select data-testid="arch-select" .value=${this.comparing() ? 'both' : this.arch} ?disabled=${!explore || !!this.uploaded}
            title=${this.uploaded ? `${this.uploaded.name} is an ${this.uploaded.arch} object` : 'The architecture the call runs on'}
            @change=${(e: Event) => this.setArch((e.target as HTMLSelectElement).value as Arch | 'both')}>
            <option value="amd64" ?selected=${!this.comparing() && this.arch === 'amd64'}>amd64 (x86-64 SysV)</option>
            <option value="i386" ?selected=${!this.comparing() && this.arch === 'i386'}>i386 (cdecl)</option>
            <option value="both" ?selected=${this.comparing()}>both: i386 | amd64</option>
          </select></label>
        <span class="spacer"></span>
        ${this.staticSite ? html`<span class="badge">exported lessons · read-only</span>` : nothing}
        <span class="faint about" style="font-size:12px">glibc 2.36 · Debian bookworm · Unicorn</span>
        <button class="btn icon" data-testid="help" title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts"
          aria-expanded=${String(this.help)} @click=${() => (this.help = !this.help)}>?</button>
      </header>
      ${this.error ? html`<div class="error-banner" role="alert" data-testid="error-banner"><strong>Error</strong>
          <span class="msg">${this.error}</span><button class="btn ghost icon" data-testid="error-dismiss" title="Dismiss" aria-label="Dismiss the error" @click=${() => (this.error = undefined)}>×</button></div>` : nothing}
      ${this.busy ? html`<div class="progress"></div>` : html`<div style="height:2px"></div>`}
      <div class="layout">
        <aside class="col left ${explore ? '' : 'lessons-mode'}">
          ${this.staticSite ? nothing : html`<shim-call-picker style=${explore ? '' : 'display:none'} .arch=${this.comparing() ? 'both' : this.arch} .spec=${this.spec} .busy=${this.busy}></shim-call-picker>`}
          ${explore ? nothing : html`<shim-lessons .lessons=${this.lessons} .lesson=${this.lesson} .index=${this.lessonIndex} .loading=${this.lessonsLoading} .opening=${this.lessonOpening}></shim-lessons>`}
        </aside>
        <main class="col center">
          ${this.comparing() ? this.comparePanel() : html`<section class="panel plan-panel">
            <header>Calling-convention plan <span class="right faint">${this.spec ? `${this.spec.arch} · CallSpec` : ''}</span></header>
            <shim-plan .spec=${this.spec} .explanations=${this.explanations}></shim-plan>
          </section>`}
          <shim-stepper style="display:flex;flex-direction:column;flex:1;min-height:0" .session=${this.session} .step=${this.step}></shim-stepper>
        </main>
        <aside class="col right">
          <shim-state .session=${this.session} .step=${this.step} .tokens=${this.tokens}></shim-state>
        </aside>
      </div>
      ${this.help ? helpPopover() : nothing}`;
  }
}

function safeText(s: Session, step: number): string {
  try {
    return s.player.instruction(step)?.text ?? '';
  } catch {
    return '';
  }
}

customElements.define('shim-playground', Playground);
