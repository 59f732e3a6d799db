/** The playground's stylesheet (one document-level sheet: the components render into the light DOM). */
export const styles = String.raw`
:root {
  --bg: #0b0e14; --bg-2: #10141c; --panel: #131823; --panel-2: #181e2b; --border: #232b3a; --border-2: #2e384a;
  --text: #d9e1ee; --muted: #9aa6ba; --faint: #808ca1; --accent: #6cb6ff; --accent-2: #3b82f6;
  --green: #4ade80; --red: #f87171; --yellow: #fbbf24; --purple: #c4a5ff; --orange: #fb923c; --cyan: #5eead4;
  --hl: rgba(108, 182, 255, 0.14); --hl-strong: rgba(108, 182, 255, 0.28); --changed: rgba(251, 191, 36, 0.18);
  --mono: 'JetBrains Mono', 'Fira Code', ui-monospace, 'SFMono-Regular', 'DejaVu Sans Mono', Menlo, Consolas, monospace;
  --sans: Inter, ui-sans-serif, system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'DejaVu Sans', sans-serif;
  color-scheme: dark;
}
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; background: var(--bg); color: var(--text); font: 13px/1.45 var(--sans); }
button, input, select, textarea { font: inherit; color: inherit; }
code, .mono { font-family: var(--mono); font-size: 12px; }
a { color: var(--accent); }
/* Keyboard focus is always visible. */
:focus-visible { outline: 2px solid var(--accent); outline-offset: 1px; }
/* Lists of buttons: no bullets, and buttons that look like the rows they are. */
ul.fn-list, ul.list, ul.lesson-items, ol.dots { list-style: none; margin: 0; padding: 0; }
button.fn-item, button.li-lesson, button.li, button.why { font: inherit; color: inherit; background: transparent; border: 0; text-align: left; width: 100%; }
h1.brand { margin: 0; font-size: 14px; }
/* On a highlighted row the dim greys are lightened to keep 4.5:1 (WCAG AA). */
.insn.current, .srow.sp, .list .li.now, .fn-item[aria-current="true"], .li-lesson[aria-current="true"], .reg.changed { --faint: #aab4c6; --muted: #b4bdcc; }
h2.panel-h { margin: 0; font: inherit; }
::-webkit-scrollbar { width: 10px; height: 10px; }
::-webkit-scrollbar-thumb { background: #263044; border-radius: 6px; border: 2px solid var(--bg-2); }
::-webkit-scrollbar-track { background: transparent; }
* { scrollbar-color: #263044 transparent; scrollbar-width: thin; }

shim-playground { display: flex; flex-direction: column; height: 100vh; }
.app-header { display: flex; align-items: center; gap: 8px 16px; padding: 6px 16px; min-height: 48px; flex: none; flex-wrap: wrap;
  background: linear-gradient(180deg, #121826, #0e131d); border-bottom: 1px solid var(--border); }
.brand { display: flex; font-size: 14px; align-items: baseline; gap: 8px; font-weight: 650; letter-spacing: .2px; white-space: nowrap; }
.brand .logo { font-family: var(--mono); color: var(--accent); font-size: 15px; }
.brand .sub { color: var(--muted); font-weight: 400; font-size: 12px; }
.seg { display: inline-flex; border: 1px solid var(--border-2); border-radius: 8px; overflow: hidden; }
.seg button { background: transparent; border: 0; padding: 5px 12px; cursor: pointer; color: var(--muted); }
.seg button + button { border-left: 1px solid var(--border-2); }
.seg button[aria-pressed="true"] { background: var(--hl-strong); color: var(--text); }
.seg button:disabled { opacity: .4; cursor: default; }
.header-field { display: flex; align-items: center; gap: 6px; color: var(--muted); font-size: 12px; }
.spacer { flex: 1; }
select, input[type=text], input[type=search], textarea {
  background: var(--bg-2); border: 1px solid var(--border-2); border-radius: 6px; padding: 5px 8px; outline: none; }
select:focus, input:focus, textarea:focus { border-color: var(--accent-2); box-shadow: 0 0 0 2px rgba(59,130,246,.25); }
.btn { background: var(--panel-2); border: 1px solid var(--border-2); border-radius: 6px; padding: 5px 10px; cursor: pointer;
  display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; }
.btn:hover:not(:disabled) { border-color: var(--accent-2); background: #1d2536; }
.btn:disabled { opacity: .45; cursor: default; }
/* #2563eb: white on it is 5.2:1 (WCAG AA) */
.btn.primary { background: #2563eb; border-color: #2563eb; color: #fff; font-weight: 600; }
.btn.primary:hover:not(:disabled) { background: #1d4ed8; }
.btn.icon { padding: 4px 8px; font-family: var(--mono); }
.btn.ghost { background: transparent; border-color: transparent; color: var(--muted); }
.btn.ghost:hover { color: var(--text); }
kbd { font-family: var(--mono); font-size: 11px; background: var(--bg-2); border: 1px solid var(--border-2);
  border-bottom-width: 2px; border-radius: 4px; padding: 0 5px; color: var(--text); }

.error-banner { display: flex; gap: 12px; align-items: flex-start; padding: 8px 16px; background: #3a1518;
  border-bottom: 1px solid #7f2a2f; color: #fecaca; font-family: var(--mono); font-size: 12px; white-space: pre-wrap; }
.error-banner strong { font-family: var(--sans); color: var(--red); }
.error-banner .msg { flex: 1; }
.progress { height: 2px; background: linear-gradient(90deg, transparent, var(--accent), transparent); background-size: 40% 100%;
  background-repeat: no-repeat; animation: slide 1s linear infinite; }
@keyframes slide { from { background-position: -40% 0; } to { background-position: 140% 0; } }

.layout { flex: 1; min-height: 0; display: grid; grid-template-columns: minmax(250px, 300px) minmax(0, 1fr) minmax(320px, 440px); }
.col { min-height: 0; min-width: 0; overflow: auto; border-right: 1px solid var(--border); }
.col:last-child { border-right: 0; }
.col.center { display: flex; flex-direction: column; overflow: hidden; }
.col.left.lessons-mode { display: flex; flex-direction: column; overflow: hidden; }
.plan-panel { flex: none; max-height: 40%; overflow: auto; }
.panel { border-bottom: 1px solid var(--border); }
.panel > header, .panel-title { display: flex; align-items: center; gap: 8px; padding: 8px 12px; font-size: 11px; font-weight: 650;
  text-transform: uppercase; letter-spacing: .7px; color: var(--muted); background: var(--bg-2); border-bottom: 1px solid var(--border);
  position: sticky; top: 0; z-index: 1; }
.panel > header .right { margin-left: auto; text-transform: none; letter-spacing: 0; font-weight: 400; }
.panel .body { padding: 10px 12px; }
.muted { color: var(--muted); }
.faint { color: var(--faint); }
.ok { color: var(--green); }
.bad { color: var(--red); }
.warn { color: var(--yellow); }
.badge { display: inline-block; font-family: var(--mono); font-size: 10.5px; padding: 0 6px; border-radius: 10px;
  border: 1px solid var(--border-2); color: var(--muted); line-height: 17px; white-space: nowrap; }
.badge.reg { color: var(--cyan); border-color: rgba(94,234,212,.35); }
.badge.stack { color: var(--orange); border-color: rgba(251,146,60,.35); }
.badge.cls { color: var(--purple); border-color: rgba(196,165,255,.3); }
.badge.ok { color: var(--green); border-color: rgba(74,222,128,.35); }
.badge.bad { color: var(--red); border-color: rgba(248,113,113,.4); }
.badge.warn { color: var(--yellow); border-color: rgba(251,191,36,.4); }
.empty { padding: 14px 12px; color: var(--faint); font-style: italic; }

/* call picker */
.picker .search { padding: 10px 12px; display: flex; flex-direction: column; gap: 8px; }
.picker .search input { width: 100%; }
.fn-list { max-height: 230px; overflow: auto; border-top: 1px solid var(--border); border-bottom: 1px solid var(--border); }
.fn-item { display: flex; align-items: center; gap: 8px; padding: 4px 12px; cursor: pointer; font-family: var(--mono); font-size: 12px;
  border-left: 2px solid transparent; }
.fn-item:hover { background: var(--hl); }
.fn-item[aria-current="true"] { background: var(--hl-strong); border-left-color: var(--accent); }
.fn-item .lib { margin-left: auto; color: var(--faint); font-size: 10.5px; }
.fn-item[aria-current="true"] .lib { color: var(--muted); }
.fn-item .va { color: var(--purple); font-size: 10.5px; }
.picker label.upload { display: flex; align-items: center; gap: 8px; font-size: 11px; cursor: pointer; position: relative; }
.picker label.upload input[type="file"] { position: absolute; width: 1px; height: 1px; opacity: 0; pointer-events: none; }
.picker label.upload:focus-within .btn { outline: 1px solid var(--accent); }
.upload-head { display: flex; align-items: center; gap: 8px; padding: 6px 12px; font-size: 12px; border-top: 1px solid var(--border); }
.upload-head .btn { margin-left: auto; }

/* compare mode: i386 | amd64 */
.compare-panel { flex: none; max-height: 60%; overflow: auto; }
.compare { display: grid; grid-template-columns: 1fr 1fr; gap: 0; }
.compare-col { min-width: 0; overflow-x: auto; border-right: 1px solid var(--border); }
.compare-col:last-child { border-right: none; }
.compare-col.stepping { background: var(--hl); }
.compare-col .plan { font-size: 11.5px; }
.compare-col table.plan td, .compare-col table.plan th { padding: 4px 6px; }
.compare-col table.plan td.p { white-space: normal; width: auto; min-width: 90px; }
/* the class column: the location and the reason say it, and the single-arch view shows it */
.compare-col table.plan tr > :nth-child(4) { display: none; }
.compare-col .plan-head { padding: 8px 10px 4px; }
.compare-col .plan-notes { padding: 6px 10px 8px; }
.compare-head { display: flex; align-items: center; gap: 8px; padding: 6px 10px; border-bottom: 1px solid var(--border); }
.compare-head .btn { margin-left: auto; }
.compare-result { padding: 6px 10px; display: flex; flex-direction: column; gap: 4px; font-size: 12px; }
.editor { padding: 10px 12px; display: flex; flex-direction: column; gap: 10px; }
.editor label.proto { display: flex; flex-direction: column; gap: 4px; font-size: 11px; color: var(--muted); }
.editor textarea { font-family: var(--mono); font-size: 12px; resize: vertical; min-height: 54px; width: 100%; }
.arg-row { display: grid; grid-template-columns: 34px minmax(0, 1fr); gap: 2px 8px; align-items: center; }
.arg-row .idx { font-family: var(--mono); font-size: 11px; color: var(--faint); text-align: right; }
.arg-row .decl { font-family: var(--mono); font-size: 11.5px; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.arg-row .decl b { color: var(--text); font-weight: 500; }
.arg-row input { grid-column: 2; width: 100%; font-family: var(--mono); font-size: 12px; }
.arg-row .hint { grid-column: 2; font-size: 10.5px; color: var(--faint); }
.va-row { display: grid; grid-template-columns: 34px 112px minmax(0, 1fr) 26px; gap: 6px; align-items: center; }
.va-row select, .va-row input { font-family: var(--mono); font-size: 12px; min-width: 0; }
.va-row .idx { font-family: var(--mono); font-size: 11px; color: var(--purple); text-align: right; }
.run-row { display: flex; gap: 8px; align-items: center; }
.run-row .btn.primary { flex: 1; justify-content: center; padding: 7px; }

/* plan */
.plan-head { display: flex; align-items: baseline; gap: 10px; padding: 10px 14px 6px; }
.plan-head .proto { font-family: var(--mono); font-size: 13px; color: var(--text); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
table.plan { width: 100%; border-collapse: collapse; font-size: 12.5px; }
table.plan th { text-align: left; font-weight: 600; color: var(--faint); font-size: 10.5px; text-transform: uppercase; letter-spacing: .6px;
  padding: 4px 10px; border-bottom: 1px solid var(--border); }
table.plan td { padding: 5px 10px; border-bottom: 1px solid var(--border); vertical-align: top; }
table.plan td.n { font-family: var(--mono); color: var(--faint); white-space: nowrap; width: 1%; }
table.plan td.p { font-family: var(--mono); white-space: nowrap; width: 1%; }
table.plan td.loc { white-space: nowrap; width: 1%; }
table.plan tr.extra td { color: var(--muted); }
table.plan tr.variadic td.p { color: var(--purple); }
table.plan tr:hover td { background: rgba(255,255,255,.02); }
.why { cursor: pointer; color: var(--text); padding: 0; }
.why .more { color: var(--accent); font-size: 11px; margin-left: 4px; white-space: nowrap; }
.why-detail { margin-top: 6px; padding: 8px 10px; background: var(--bg-2); border: 1px solid var(--border); border-left: 2px solid var(--accent);
  border-radius: 4px; color: var(--muted); font-size: 12px; }
.why-detail p { margin: 0 0 6px; }
.why-detail p:last-child { margin: 0; }
.plan-notes { display: flex; flex-wrap: wrap; gap: 6px; padding: 8px 14px 10px; }
.note { font-family: var(--mono); font-size: 11.5px; background: var(--bg-2); border: 1px solid var(--border); border-radius: 6px; padding: 2px 8px; color: var(--muted); }
.note b { color: var(--yellow); font-weight: 500; }

/* stepper */
.stepper { display: flex; flex-direction: column; min-height: 0; flex: 1; }
.toolbar { display: flex; align-items: center; gap: 4px; padding: 8px 12px; border-bottom: 1px solid var(--border); background: var(--bg-2); flex-wrap: wrap; }
.toolbar .sep { width: 1px; height: 20px; background: var(--border-2); margin: 0 4px; }
.toolbar .counter { font-family: var(--mono); font-size: 12px; color: var(--text); margin-left: auto; white-space: nowrap; }
.toolbar .counter .faint { color: var(--faint); }
.timeline { display: flex; align-items: center; gap: 10px; padding: 6px 12px; border-bottom: 1px solid var(--border); }
.timeline .track { position: relative; flex: 1; display: flex; align-items: center; }
.timeline input[type=range] { width: 100%; accent-color: var(--accent-2); margin: 0; position: relative; z-index: 1; }
.timeline .marks { position: absolute; left: 7px; right: 7px; top: 50%; height: 12px; transform: translateY(-50%); pointer-events: none; }
.timeline .mark { position: absolute; width: 2px; height: 12px; top: 0; border-radius: 1px; }
.timeline .mark.syscall { background: var(--orange); }
.timeline .mark.entry { background: var(--green); }
.timeline .mark.ret { background: var(--purple); }
.timeline .span { position: absolute; height: 4px; top: 4px; background: rgba(74,222,128,.18); border-radius: 2px; }
.trace-tools { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; padding: 6px 12px; border-bottom: 1px solid var(--border); font-size: 12px; }
.trace-tools .tt-group { display: flex; gap: 4px; align-items: center; flex-wrap: wrap; margin: 0; }
.trace-tools input { font-family: var(--mono); font-size: 12px; width: 15em; padding: 3px 6px; }
.trace-tools .bp { display: inline-flex; align-items: center; gap: 2px; font-family: var(--mono); font-size: 11px; color: var(--red);
  border: 1px solid rgba(248,113,113,.4); border-radius: 10px; padding: 0 0 0 8px; }
.trace-tools .bp .btn { padding: 0 6px; }
.trace-tools .tt-note { color: var(--muted); }
.trace-tools .tt-note:empty { display: none; }
.predict { margin: 0 0 10px; padding: 8px 10px; border: 1px solid var(--border-2); border-radius: 8px; background: var(--panel-2); }
.predict fieldset { border: 0; margin: 0; padding: 0; }
.predict legend { padding: 0; margin-bottom: 6px; }
.predict-tag { font-size: 11px; text-transform: uppercase; letter-spacing: .6px; color: var(--purple); margin-right: 4px; }
.predict-choice { display: flex; gap: 6px; align-items: baseline; padding: 2px 4px; border-radius: 4px; cursor: pointer; }
.predict-choice.answer { background: rgba(74, 222, 128, 0.12); }
.predict-choice.wrong { background: rgba(248, 113, 113, 0.12); }
.predict-mark { color: var(--green); font-size: 11px; }
.predict-actions { display: flex; gap: 6px; margin-top: 6px; }
.predict-result { margin-top: 6px; }
.predict-result:empty { display: none; }
.predict-result.ok b { color: var(--green); }
.predict-result.bad b { color: var(--red); }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.memory-panel .body { padding: 6px 10px; font-size: 12px; }
.mem-form, .mem-actions { display: flex; gap: 4px; flex-wrap: wrap; align-items: center; margin-bottom: 4px; }
.mem-form input { font-family: var(--mono); font-size: 12px; flex: 1; min-width: 10em; padding: 3px 6px; }
.mem-note { color: var(--muted); margin: 2px 0 4px; overflow-wrap: anywhere; }
.mem-note:empty { display: none; }
table.mem { border-collapse: collapse; font-family: var(--mono); font-size: 11.5px; }
table.mem th, table.mem td { padding: 1px 6px 1px 0; text-align: left; white-space: pre; font-weight: 400; }
table.mem thead th { color: var(--muted); font-family: var(--sans); font-size: 11px; }
table.mem .mem-addr { color: var(--faint); }
table.mem .unknown { color: var(--faint); }
.memory-panel .written { background: var(--changed); color: var(--yellow); }
.memory-panel .watched { text-decoration: underline; text-decoration-color: var(--accent); text-underline-offset: 2px; }
.mem-legend { margin-top: 4px; font-size: 11px; }
.whereami { padding: 6px 12px; font-size: 12px; color: var(--muted); border-bottom: 1px solid var(--border); display: flex; gap: 14px; flex-wrap: wrap; }
.whereami b { color: var(--text); font-weight: 500; font-family: var(--mono); }
.disasm { flex: 1; overflow: auto; font-family: var(--mono); font-size: 12px; min-height: 120px; container-type: inline-size; }
/* The instruction column takes the width its text needs (min-content: the nowrap instruction); the symbol column gives way. */
.insn { display: grid; grid-template-columns: 5ch 12ch minmax(0, 1fr) minmax(min-content, 2fr); gap: 8px; padding: 1px 8px; cursor: pointer;
  white-space: nowrap; border-left: 2px solid transparent; }
.insn .bytes { display: none; }
@container (min-width: 760px) {
  .insn { grid-template-columns: 5ch 12ch minmax(0, 1fr) 18ch minmax(min-content, 2fr); gap: 10px; padding: 1px 12px; }
  .insn .bytes { display: block; }
}
.insn:hover { background: rgba(255,255,255,.03); }
.insn > span { overflow: hidden; text-overflow: ellipsis; }
.insn > span.text { overflow: visible; white-space: normal; }
.insn .text .code { white-space: nowrap; }
.insn .st { color: var(--faint); text-align: right; }
.insn .addr { color: var(--muted); }
.insn .sym { color: var(--cyan); }
.insn .bytes { color: var(--faint); }
.insn .text .mn { color: var(--accent); }
.insn .text .mn.flow { color: var(--purple); }
.insn .text .mn.sys { color: var(--orange); }
.insn.past .text .code { filter: saturate(.6); }
.insn.current { background: var(--hl-strong); border-left-color: var(--accent); opacity: 1; }
.insn.current .st { color: var(--accent); }
.insn .tag { color: var(--green); font-size: 10.5px; margin-left: 8px; white-space: normal; }
.insn.divider { cursor: default; color: var(--faint); font-size: 11px; padding: 4px 12px; grid-template-columns: 1fr; }

/* state */
.regs { display: grid; grid-template-columns: auto 1fr; gap: 0 10px; font-family: var(--mono); font-size: 12px; }
.reg { display: contents; }
.reg > span { padding: 1px 4px; }
.reg .name { color: var(--muted); text-align: right; }
.reg .val { color: var(--text); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.reg .val .lead { color: var(--faint); }
.reg .role { color: var(--cyan); font-size: 11px; margin-left: 8px; }
.reg .role.ret { color: var(--purple); }
.reg .interp { color: var(--yellow); font-size: 11px; margin-left: 8px; }
.reg.changed > span { background: var(--changed); }
.reg.changed .name { color: var(--yellow); }
.reg.changed .val .lead { color: var(--muted); }
.reg-group { grid-column: 1 / -1; color: var(--faint); font-size: 10.5px; text-transform: uppercase; letter-spacing: .6px; padding: 6px 4px 2px; font-family: var(--sans); }
.flags { color: var(--faint); font-size: 11px; margin-left: 8px; }
.flags b { color: var(--text); font-weight: 500; }
.stack-rows { font-family: var(--mono); font-size: 12px; }
.srow { display: grid; grid-template-columns: 98px 50px 128px minmax(0, 1fr); gap: 8px; padding: 1px 12px; white-space: nowrap; position: relative; }
.srow > span { overflow: hidden; text-overflow: ellipsis; }
.srow .addr { color: var(--muted); }
.srow .off { color: var(--faint); text-align: right; }
.srow .val.unknown { color: var(--faint); }
.srow .ann { color: var(--muted); font-size: 11px; }
.srow .ann .role { color: var(--orange); }
.srow .ann .ra { color: var(--purple); }
.srow .ann .hp { color: var(--cyan); }
.srow.sp { background: var(--hl-strong); }
.srow.sp .addr { color: var(--accent); }
.srow.redzone { background: repeating-linear-gradient(135deg, rgba(248,113,113,.05) 0 6px, transparent 6px 12px); }
.srow.aligned { border-top: 1px dashed rgba(131,144,166,.28); }
.srow.written .val { color: var(--yellow); }
.srow.argslot .val { color: var(--orange); }
.srow.retaddr .val { color: var(--purple); }
.legend .dash { display: inline-block; width: 14px; border-top: 1px dashed rgba(131,144,166,.6); vertical-align: 3px; margin-right: 4px; }
.legend { display: flex; gap: 12px; flex-wrap: wrap; padding: 6px 12px; font-size: 11px; color: var(--faint); border-top: 1px solid var(--border); }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; font-size: 12px; }
.kv > .k { color: var(--muted); }
.kv > .v { font-family: var(--mono); word-break: break-all; }
.list { font-family: var(--mono); font-size: 12px; }
.list .li { padding: 2px 12px; display: flex; gap: 8px; cursor: pointer; white-space: nowrap; }
.list .li.future .ok, .list .li.future .bad { color: var(--muted); }
.list .li:hover { background: rgba(255,255,255,.03); }
.list .li.future { color: var(--muted); }
.list .li.now { background: var(--hl-strong); }
.violation { border: 1px solid rgba(248,113,113,.35); background: rgba(248,113,113,.06); border-radius: 6px; padding: 8px 10px; margin-bottom: 8px; }
.violation.warning { border-color: rgba(251,191,36,.35); background: rgba(251,191,36,.06); }
.violation .head { display: flex; gap: 8px; align-items: center; font-family: var(--mono); font-size: 12px; margin-bottom: 4px; }
.violation .msg { font-size: 12px; color: var(--muted); }
.abi-ok { display: flex; align-items: center; gap: 10px; }
.abi-ok .big { font-size: 18px; color: var(--green); }
.result-line { font-family: var(--mono); font-size: 13px; margin-bottom: 8px; word-break: break-all; }
.fault-msg { font-family: var(--mono); font-size: 11.5px; white-space: pre-wrap; color: var(--muted); margin-bottom: 8px; }
.result-line .eq { color: var(--faint); }
.result-line .ret { color: var(--green); font-weight: 600; }
.outbuf { font-family: var(--mono); font-size: 12px; background: var(--bg-2); border: 1px solid var(--border); border-radius: 6px; padding: 6px 8px; margin-top: 6px; word-break: break-all; }
.outbuf .lbl { color: var(--faint); margin-right: 8px; }
.outbuf .str { color: var(--green); }

/* lessons */
.lessons .li-lesson { padding: 10px 12px; border-bottom: 1px solid var(--border); cursor: pointer; border-left: 2px solid transparent; }
.lessons .li-lesson:hover { background: var(--hl); }
.lessons .li-lesson[aria-current="true"] { border-left-color: var(--accent); background: var(--hl-strong); }
.lessons .li-lesson .t { font-weight: 600; display: block; }
.lessons .li-lesson .s { color: var(--muted); font-size: 12px; margin-top: 2px; display: block; }
.lessons { display: flex; flex-direction: column; min-height: 0; flex: 1; }
.lessons .lesson-list { overflow: auto; flex: 0 1 auto; }
.lessons .lesson-list.collapsed { flex: none; max-height: 30%; }
.lessons > .lesson-panel { flex: 1 1 auto; min-height: 0; display: flex; flex-direction: column; }
.lesson-status:empty { display: none; }
.lesson-status { padding: 8px 12px; font-size: 12px; color: var(--muted); display: flex; gap: 8px; align-items: center; border-bottom: 1px solid var(--border); }
.spinner { width: 12px; height: 12px; border-radius: 50%; border: 2px solid var(--border-2); border-top-color: var(--accent); animation: spin .8s linear infinite; flex: none; }
@keyframes spin { to { transform: rotate(360deg); } }
.lesson-view { padding: 12px; display: flex; flex-direction: column; min-height: 0; flex: 1; }
.lesson-view .text { overflow: auto; min-height: 60px; flex: 0 1 auto; }
.lesson-view h2 { font-size: 16px; margin: 4px 0 2px; }
.lesson-view h3 { font-size: 14px; margin: 12px 0 6px; color: var(--accent); }
.lesson-view .text { font-size: 13px; line-height: 1.6; }
.lesson-view .text p { margin: 0 0 10px; }
.lesson-view .text code { background: var(--bg-2); border: 1px solid var(--border); border-radius: 4px; padding: 0 4px; }
.lesson-nav { display: flex; align-items: center; gap: 8px; margin-top: 12px; flex: none; }
.lesson-nav .pos { font-family: var(--mono); color: var(--muted); margin: 0 auto; }
ol.dots { display: flex; gap: 0; margin: 6px 0; flex-wrap: wrap; }
/* each dot is a 24×16 button (a target large enough to hit) drawing an 18×4 bar */
.dots button { width: 24px; height: 16px; padding: 6px 3px; border: 0; background: transparent; cursor: pointer; display: block; }
.dots button::before { content: ''; display: block; height: 4px; border-radius: 2px; background: var(--border-2); }
.dots button.on::before { background: var(--accent); }
.dots button[aria-current="step"]::before { box-shadow: 0 0 0 1px var(--text); }
.lesson-view h2.lesson-title { margin: 0; font-size: 11px; font-weight: 400; color: var(--faint); text-transform: uppercase; letter-spacing: .6px; }

.placeholder { flex: 1; display: flex; align-items: center; justify-content: center; color: var(--faint); text-align: center; padding: 30px; }
.placeholder .big { font-size: 15px; color: var(--muted); margin-bottom: 6px; }

.popover { position: fixed; top: 54px; right: 16px; z-index: 20; width: 330px; background: var(--panel-2); border: 1px solid var(--border-2);
  border-radius: 10px; box-shadow: 0 12px 40px rgba(0,0,0,.5); padding: 12px 14px; }
.popover h4 { margin: 0 0 8px; font-size: 13px; }
.popover table { width: 100%; border-collapse: collapse; font-size: 12.5px; }
.popover td { padding: 3px 0; }
.popover td:first-child { white-space: nowrap; padding-right: 12px; }

.focus-flash { animation: flash 1.6s ease-out; }
@keyframes flash { 0%, 30% { box-shadow: inset 0 0 0 2px var(--accent); } 100% { box-shadow: inset 0 0 0 2px transparent; } }

@media (max-width: 1279px) {
  .layout { grid-template-columns: minmax(230px, 270px) minmax(0, 1fr) minmax(300px, 380px); }
  .app-header .about { display: none; }
}
/* Narrow screens: the three columns stack and the page scrolls; the listing keeps a height of its own. */
@media (max-width: 1023px) {
  shim-playground { height: auto; min-height: 100vh; }
  .layout { display: flex; flex-direction: column; }
  .col { overflow: visible; border-right: 0; border-bottom: 1px solid var(--border); }
  .col.center { overflow: visible; }
  .col.left.lessons-mode { overflow: visible; }
  .lessons .lesson-list.collapsed { max-height: 180px; }
  .plan-panel { max-height: none; }
  shim-stepper { height: 70vh; min-height: 360px; }
  .compare { grid-template-columns: minmax(0, 1fr); }
}
`;

export function installStyles(): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(styles);
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
