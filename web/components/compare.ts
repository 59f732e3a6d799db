/** Compare mode's columns: one architecture's plan, result and ABI report, and the tab that puts it in the stepper. */
import { html } from 'lit';
import type { Arch, CallResponse, PlanResponse } from '../api.ts';
import './plan.ts';

/** Compare mode: the two plans side by side, each with its result and ABI report, and tabs for the stepper. */
export function compareColumn(app: { arch: Arch; plans: Partial<Record<Arch, PlanResponse>>; results: Partial<Record<Arch, CallResponse>> },
  arch: Arch, pick: (arch: Arch) => void) {
  const plan = app.plans[arch];
  const response = app.results[arch];
  const r = response?.result;
  const abi = r?.abi;
  const ret = r ? (typeof r.return === 'object' && r.return !== null ? JSON.stringify(r.return) : String(r.return ?? 'void')) : undefined;
  const outs = Object.entries(r?.out ?? {});
  return html`<div class="compare-col ${app.arch === arch ? 'stepping' : ''}" data-testid="compare-${arch}">
    <div class="compare-head"><b>${arch}</b><span class="faint">${arch === 'amd64' ? 'System V AMD64' : 'System V i386 cdecl'}</span>
      <button class="btn ${app.arch === arch ? 'primary' : ''}" data-testid="compare-tab-${arch}" aria-pressed=${String(app.arch === arch)}
        title="Show the ${arch} recording in the stepper" @click=${() => pick(arch)}>${app.arch === arch ? 'stepping' : 'step this'}</button></div>
    <shim-plan .spec=${response?.spec ?? plan?.spec} .explanations=${plan?.explanations}></shim-plan>
    ${r ? html`<div class="compare-result" data-testid="compare-result-${arch}">
        <div class="result-line">${response!.spec.function}(…) <span class="eq">=</span> <span class="ret" data-testid="compare-return-${arch}">${ret}</span>
          <span class="faint">errno</span> <span class=${r.errno ? 'bad' : ''}>${r.errno ?? 0}</span>
          <span class="faint">· ${r.instructions ?? '?'} instructions</span></div>
        ${outs.map(([i, v]) => html`<div class="outbuf"><span class="lbl">${response!.spec.args[Number(i)]?.text ?? `arg ${i}`}</span><span class="str">"${v}"</span></div>`)}
        <div data-testid="compare-abi-${arch}">${!abi ? html`<span class="faint">ABI checker off</span>`
          : abi.ok && abi.violations.length === 0 ? html`<span class="badge ok">ABI clean</span>`
          : html`<span class="badge bad">${abi.violations.length} ABI violation(s)</span>
            ${abi.violations.map((v) => html`<div class="violation ${v.severity}"><span class="badge ${v.severity === 'error' ? 'bad' : 'warn'}">${v.rule}</span> ${v.message}</div>`)}`}</div>
      </div>` : html`<div class="faint compare-result">Run the call to see the ${arch} result and ABI report.</div>`}
  </div>`;
}
