/** The keyboard-shortcuts popover (the `?` key or the help button). */
import { html } from 'lit';

const SHORTCUTS: [string, string][] = [
  ['→ or s', 'step one instruction'],
  ['← or b', 'step back one instruction'],
  ['o', 'step over a call'],
  ['r', 'run to return (leave the current function)'],
  ['y', 'run to the next system call'],
  ['e', 'jump to the function entry'],
  ['/', 'find in the trace (Enter: next, Shift+Enter: previous)'],
  ['c / C', 'continue to the next / previous breakpoint'],
  ['w / W', 'run to the next / previous write of what the memory view watches'],
  ['n / N', 'run to the next / previous call (entry of a callee)'],
  ['u / U', 'run to the next / previous return (back in a caller)'],
  ['Home / End', 'start / end of the trace'],
  ['PageUp / PageDown', '10 steps back / forward'],
  ['?', 'show or hide this help'],
];

export function helpPopover() {
  return html`<div class="popover" role="dialog" aria-label="Keyboard shortcuts" data-testid="help-popover">
          <h4>Keyboard shortcuts</h4>
          <table>${SHORTCUTS.map(([k, v]) => html`<tr><td>${k.split(' ').map((x) => (k.includes(' ') && /^(or|\/)$/.test(x) ? html` ${x} ` : html`<kbd>${x}</kbd>`))}</td><td class="muted">${v}</td></tr>`)}</table>
          <div class="faint" style="margin-top:8px;font-size:12px">Click any instruction, system call or the timeline to jump there.</div>
        </div>`;
}
