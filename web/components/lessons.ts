/** Lessons mode, left column: the list of lessons, and the current lesson's step text with next/previous. */
import { LitElement, html, nothing } from 'lit';
import type { Lesson, LessonSummary } from '../api.ts';
import { onRovingKey, rovingTabIndex } from './roving.ts';
import { renderText } from './text.ts';
import type { PredictOutcome } from './predict.ts';
import './predict.ts';

export { renderText } from './text.ts';

export class LessonsPane extends LitElement {
  static override properties = {
    lessons: { attribute: false },
    lesson: { attribute: false },
    index: { type: Number },
    loading: { type: Boolean },
    opening: { attribute: false },
    outcomes: { state: true },
  };

  declare lessons: LessonSummary[];
  declare lesson?: Lesson;
  declare index: number;
  declare loading: boolean;
  /** The lesson being fetched, while it is. */
  declare opening?: string;
  /** Revealed predictions, by `lesson/step`: the step's text shows once its question is answered. */
  declare outcomes: Map<string, PredictOutcome>;

  constructor() {
    super();
    this.lessons = [];
    this.index = 0;
    this.loading = false;
    this.outcomes = new Map();
  }

  protected override createRenderRoot() {
    return this;
  }

  private emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true }));
  }

  override render() {
    const lesson = this.lesson;
    const step = lesson?.steps[this.index];
    const key = `${lesson?.id}/${this.index}`;
    const outcome = this.outcomes.get(key);
    // The open lesson's text and its Next come first (beside the trace); the list of lessons follows, shortened.
    return html`<div class="lessons" aria-busy=${this.opening ? 'true' : 'false'}>
      <div class="lesson-status" role="status" data-testid="lesson-status">${this.opening
        ? html`<span class="spinner" aria-hidden="true"></span> Opening “${this.opening}”: recording its calls in the emulator…` : nothing}</div>
      ${lesson && step ? html`<section class="panel lesson-panel" data-testid="lesson-view">
        <div class="lesson-view">
          <h2 class="lesson-title">${lesson.title}</h2>
          <ol class="dots" aria-label="Steps of this lesson">${lesson.steps.map((st, i) => html`<li><button type="button" class=${i <= this.index ? 'on' : ''}
            data-testid="lesson-dot-${i}" aria-label="Step ${i + 1}: ${st.title}" aria-current=${i === this.index ? 'step' : 'false'}
            title="Step ${i + 1}: ${st.title}" @click=${() => this.emit('lesson-step', i)}></button></li>`)}</ol>
          <h3 data-testid="lesson-step-title">${step.title}</h3>
          <div class="faint" style="font-size:11px;margin-bottom:6px"><span class="badge">${step.arch}</span></div>
          ${step.predict ? html`<shim-predict .prediction=${step.predict} .outcome=${outcome}
            @predict-reveal=${(e: CustomEvent<PredictOutcome>) => (this.outcomes = new Map(this.outcomes).set(key, e.detail))}></shim-predict>` : nothing}
          <div class="text" data-testid="lesson-text">${step.predict && !outcome
            ? html`<p class="faint">Answer the question above (or show the answer) to read the explanation.</p>` : renderText(step.text)}</div>
          <div class="lesson-nav">
            <button class="btn" data-testid="lesson-prev" ?disabled=${this.index === 0} @click=${() => this.emit('lesson-step', this.index - 1)}>← Previous</button>
            <span class="pos" data-testid="lesson-position">${this.index + 1} / ${lesson.steps.length}</span>
            <button class="btn primary" data-testid="lesson-next" ?disabled=${this.index >= lesson.steps.length - 1} @click=${() => this.emit('lesson-step', this.index + 1)}>Next →</button>
          </div>
        </div>
      </section>` : nothing}
      <section class="panel lesson-list ${lesson ? 'collapsed' : ''}">
        <header><h2 class="panel-h">${lesson ? 'Other lessons' : 'Lessons'}</h2> <span class="right faint">${this.lessons.length}</span></header>
        <ul class="lesson-items" aria-label="Lessons" @keydown=${onRovingKey}>
          ${this.lessons.map((l, i) => html`<li><button type="button" class="li-lesson" data-roving data-testid="lesson-item-${l.id}"
              tabindex=${rovingTabIndex(i, this.lessons.findIndex((x) => x.id === lesson?.id))} aria-current=${l.id === lesson?.id ? 'true' : 'false'}
              @click=${() => this.emit('open-lesson', l.id)}>
              <span class="t">${l.title}</span>${lesson ? nothing : html`<span class="s">${l.summary}</span>`}</button></li>`)}
        </ul>
        ${this.lessons.length === 0 ? html`<div class="empty">${this.loading ? 'Loading…' : 'No lessons.'}</div>` : nothing}
      </section>
    </div>`;
  }
}

customElements.define('shim-lessons', LessonsPane);
