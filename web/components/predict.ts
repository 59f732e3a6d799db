/**
 * "Predict, then reveal": a lesson step's question with its choices (native radio buttons: arrow keys move between
 * them, Enter or the button checks). Answering — or "Show the answer" — reveals whether the pick was right, the
 * right choice, and why; the lesson then shows the step's text. The question data is in the lesson definition
 * (src/playground/lessons.ts, `Prediction`).
 */
import { LitElement, html, nothing } from 'lit';
import type { LessonStep } from '../api.ts';
import { renderInline } from './text.ts';

export type Prediction = NonNullable<LessonStep['predict']>;

/** What the student did with a question: the choice checked (undefined: the answer was shown without one). */
export interface PredictOutcome {
  choice?: number;
}

let ids = 0;

export class PredictQuestion extends LitElement {
  static override properties = {
    prediction: { attribute: false },
    outcome: { attribute: false },
    choice: { state: true },
  };

  declare prediction?: Prediction;
  /** Set once revealed (kept by the lesson pane, so that going back to the step shows it revealed). */
  declare outcome?: PredictOutcome;
  declare choice?: number;
  private readonly uid = `predict-${++ids}`;

  protected override createRenderRoot() {
    return this;
  }

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('prediction')) this.choice = this.outcome?.choice;
  }

  private reveal(choice: number | undefined): void {
    this.dispatchEvent(new CustomEvent<PredictOutcome>('predict-reveal', { detail: { choice }, bubbles: true }));
  }

  override render() {
    const q = this.prediction;
    if (!q) return nothing;
    const done = this.outcome !== undefined;
    const picked = this.outcome?.choice;
    const right = picked === q.answer;
    return html`<form class="predict" data-testid="predict" aria-labelledby="${this.uid}-q"
        @submit=${(e: Event) => { e.preventDefault(); if (this.choice !== undefined) this.reveal(this.choice); }}>
      <fieldset ?disabled=${done}>
        <legend id="${this.uid}-q"><span class="predict-tag">Predict</span> ${renderInline(q.question)}</legend>
        ${q.choices.map((c, i) => html`<label class="predict-choice ${done && i === q.answer ? 'answer' : ''} ${done && i === picked && !right ? 'wrong' : ''}">
          <input type="radio" name="${this.uid}" data-testid="predict-choice-${i}" .checked=${this.choice === i}
            @change=${() => (this.choice = i)} /> ${renderInline(c)}${done && i === q.answer ? html` <span class="predict-mark">✓ answer</span>` : nothing}</label>`)}
      </fieldset>
      ${done ? nothing : html`<div class="predict-actions">
        <button type="submit" class="btn primary" data-testid="predict-check" ?disabled=${this.choice === undefined}>Check</button>
        <button type="button" class="btn ghost" data-testid="predict-show" @click=${() => this.reveal(undefined)}>Show the answer</button>
      </div>`}
      <div role="status" class="predict-result ${done ? (picked === undefined ? '' : right ? 'ok' : 'bad') : ''}" data-testid="predict-result">${done
        ? html`<b>${picked === undefined ? 'Answer:' : right ? 'Right.' : 'Not quite.'}</b> ${picked !== undefined && right ? nothing : html`It is ${renderInline(q.choices[q.answer]!)}. `}${renderInline(q.why)}`
        : nothing}</div>
    </form>`;
  }
}

customElements.define('shim-predict', PredictQuestion);
