// The control room page (bundled by esbuild with uPlot into one script; no CDN, no inline script, so
// it runs under a strict CSP). Every value from the server is written with textContent, never HTML.

import uPlot from 'uplot';
import { escapeInvisible } from '../../../../runtime/visible.js';

type Effect = 'allow' | 'deny' | 'require_approval';

interface DecisionSummary {
  seq: number;
  chain: string;
  time: string;
  effect: Effect;
  rules: string[];
  latency_ms: number | null;
  policy: string;
  errors: number;
  request_hash: string | null;
  tags: Record<string, string>;
}

interface Summary {
  totals: { n: number; allow: number; deny: number; require_approval: number; errors: number };
  rate_per_s: number;
  latency: { p50: number | null; p99: number | null; n: number };
  series: { t: number[]; allow: number[]; deny: number[]; require_approval: number[]; errors: number[]; p50: (number | null)[]; p99: (number | null)[] };
  top: Record<'deny' | 'require_approval' | 'warn', { name: string; kind: string; count: number }[]>;
  errors: { seq: number; chain: string; time: string; message: string }[];
  ceilings: {
    name: string; key: unknown[]; unit: string; limit: number | null; spent: number; reserved: number; used: number;
    window_end: string | null; burn_per_hour: number; projected_limit_at: string | null; alert: boolean; last_seq: number;
    window_kind?: string;
  }[];
  drift: {
    basis: string; threshold: number; label: { current: string; baseline: string };
    current: { allow: number; deny: number; require_approval: number; n: number } | null;
    baseline: { allow: number; deny: number; require_approval: number; n: number } | null;
    rules: { name: string; current: number; baseline: number; delta: number; flagged: boolean }[];
  };
  policies: { hash: string; name: string; version: string | null; n: number; first: string; last: string }[];
  recent: DecisionSummary[];
  chains: { chain: string; files: string[]; records: number; ok: boolean; head: { seq: number; hash: string } | null; problem: { seq: number | null; message: string } | null; last_time: string | null; anchor?: { seq: number; hash: string; time: string; alg: string; matches: boolean | null } | null }[];
  approvals_pending: number | null;
  ceilings_source?: { kind: 'redis' | 'log'; read_at: string | null; error: string | null };
  verdicts?: { approved: number; denied: number; recent: Verdict[]; claimed?: number };
  last_time: string | null;
  loading?: boolean;
}

interface Verdict {
  seq: number; chain: string; time: string; verdict: 'approved' | 'denied'; approval_id: string; rule: string;
  approver: string; group: string | null; reason: string | null; request_hash: string | null;
  /** From a chain that does not write verdicts (e.g. an agent's own log): not counted. */
  claimed?: true;
}

interface Approval {
  id: string; kind: string; rule: string; from: string | null; message: string | null; request_hash: string;
  policy: { name: string; version: string | null; hash: string }; summary: unknown; created: string; expires: string; status: string;
  /** The request the token approves, when stored; `verified`: it hashes to request_hash (the server checked). */
  request?: unknown; verified?: 'verified' | 'mismatch' | 'missing';
  verdict?: { approved: boolean; by: string; group: string | null; reason: string | null; at: string };
  /** `require approval … quorum N`: distinct approvers needed, and the votes given so far. */
  quorum?: number;
  votes?: { by: string; at: string }[];
}

const prefix = document.body.dataset.prefix ?? '/dashboard';
const state: { user: string | null; csrf: string | null; loginRequired: boolean; filter: Record<string, string>; baseline: string; liveCeilings: boolean } = {
  liveCeilings: false,
  user: null,
  csrf: null,
  loginRequired: false,
  filter: {},
  baseline: 'day',
};

// ---------------------------------------------------------------- DOM helpers

type Child = Node | string | number | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | ((e: Event) => void) | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}
const $ = (id: string) => document.getElementById(id)!;
function replace(el: HTMLElement, ...children: Child[]): void {
  el.replaceChildren(...(children.filter((c) => c !== null && c !== undefined && c !== false) as (Node | string)[]).map((c) => (typeof c === 'number' ? String(c) : c)));
}
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const pct = (n: number, of: number) => (of > 0 ? `${fmt((100 * n) / of, 1)}%` : '–');
const ms = (v: number | null) => (v === null ? '–' : v < 1 ? `${fmt(v * 1000, 0)} µs` : `${fmt(v, 2)} ms`);
const time = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–');

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.method && init.method !== 'GET') {
    headers['content-type'] = 'application/json';
    if (state.csrf) headers['x-csrf-token'] = state.csrf;
  }
  const r = await fetch(prefix + path, { ...init, headers, credentials: 'same-origin' });
  const text = await r.text();
  const body = text ? (JSON.parse(text) as unknown) : null;
  if (!r.ok) throw new Error((body as { error?: { message?: string } })?.error?.message ?? `HTTP ${r.status}`);
  return body as T;
}

// ---------------------------------------------------------------- layout

function layout(): void {
  const filterInput = (name: string) =>
    h('input', { id: `filter-${name}`, placeholder: name, 'aria-label': `filter by ${name}`, list: `values-${name}`, onchange: () => applyFilters() });
  document.body.append(
    h('header', {},
      h('h1', {}, 'Rein control room'),
      h('span', { class: 'live' }, h('span', { class: 'dot', id: 'live-dot' }), h('span', { id: 'live-text' }, 'connecting…')),
      h('div', { class: 'filters' },
        filterInput('agent'), filterInput('team'), filterInput('tool'), filterInput('model'), filterInput('policy'),
        h('select', { id: 'baseline', 'aria-label': 'drift baseline', onchange: () => { state.baseline = (document.getElementById('baseline') as HTMLSelectElement).value; void refresh(); } },
          h('option', { value: 'day' }, 'vs previous day'), h('option', { value: 'policy' }, 'vs previous policy')),
      ),
      h('div', { id: 'auth', class: 'login' }),
    ),
    h('main', {},
      h('section', { class: 'w12' }, h('div', { class: 'kpis', id: 'kpis' })),
      h('section', { class: 'w6' }, h('h2', {}, 'Decisions per minute'), h('div', { class: 'chart', id: 'chart-effects' })),
      h('section', { class: 'w6' }, h('h2', {}, 'Latency p50 / p99 (ms)'), h('div', { class: 'chart', id: 'chart-latency' })),
      h('section', { class: 'w8', id: 'inbox' }, h('h2', {}, 'Approvals inbox'), h('div', { id: 'approvals' }),
        h('h3', {}, 'Verdicts in the audit log'), h('div', { id: 'verdicts' })),
      h('section', { class: 'w4' }, h('h2', {}, 'Audit chain'), h('div', { id: 'audit' })),
      h('section', { class: 'w12' }, h('h2', {}, 'Ceilings'), h('div', { id: 'ceilings' })),
      h('section', { class: 'w4' }, h('h2', {}, 'Top deny rules'), h('div', { id: 'top-deny' })),
      h('section', { class: 'w4' }, h('h2', {}, 'Top approval rules'), h('div', { id: 'top-require_approval' })),
      h('section', { class: 'w4' }, h('h2', {}, 'Top warnings'), h('div', { id: 'top-warn' })),
      h('section', { class: 'w6' }, h('h2', {}, 'Drift'), h('div', { id: 'drift' })),
      h('section', { class: 'w6' }, h('h2', {}, 'Errors'), h('div', { id: 'errors' })),
      h('section', { class: 'w12' }, h('h2', {}, 'Live decisions'), h('table', { id: 'recent' },
        h('thead', {}, h('tr', {}, h('th', {}, 'time'), h('th', {}, 'effect'), h('th', {}, 'rules'), h('th', {}, 'agent / tool'), h('th', { class: 'num' }, 'latency'), h('th', {}, 'policy'), h('th', {}, 'record'))),
        h('tbody', { id: 'recent-body' }))),
      h('section', { class: 'w12', id: 'records-section', hidden: true }, h('h2', { id: 'records-title' }, 'Records'), h('div', { id: 'records' })),
    ),
    h('div', { id: 'overlay', onclick: () => closeRecord() }),
    h('div', { class: 'record', id: 'record', role: 'dialog', 'aria-modal': 'true' }),
    ...['agent', 'team', 'tool', 'model', 'policy'].map((n) => h('datalist', { id: `values-${n}` })),
  );
}

// ---------------------------------------------------------------- auth

function renderAuth(): void {
  const el = $('auth');
  if (state.user) {
    replace(el, h('span', { class: 'muted', 'data-testid': 'user' }, `signed in as ${state.user}`), h('button', { onclick: () => void logout() }, 'Sign out'));
  } else if (state.loginRequired) {
    const msg = h('span', { class: 'msg err', id: 'login-msg' });
    replace(el,
      h('input', { id: 'login-user', placeholder: 'user', autocomplete: 'username' }),
      h('input', { id: 'login-pass', placeholder: 'password', type: 'password', autocomplete: 'current-password' }),
      h('button', { id: 'login-btn', onclick: () => void login() }, 'Sign in'),
      msg);
  } else replace(el, h('span', { class: 'muted' }, 'read-only (no logins configured)'));
}

async function loadSession(): Promise<void> {
  const s = await api<{ login_required: boolean; user: string | null; csrf: string | null }>('/api/session');
  state.loginRequired = s.login_required;
  state.user = s.user;
  state.csrf = s.csrf;
  renderAuth();
}

async function login(): Promise<void> {
  const user = ($('login-user') as HTMLInputElement).value;
  const password = ($('login-pass') as HTMLInputElement).value;
  try {
    const r = await api<{ user: string; csrf: string }>('/api/login', { method: 'POST', body: JSON.stringify({ user, password }) });
    state.user = r.user;
    state.csrf = r.csrf;
    renderAuth();
    await start();
  } catch (e) {
    $('login-msg').textContent = (e as Error).message;
  }
}

async function logout(): Promise<void> {
  await api('/api/logout', { method: 'POST', body: '{}' }).catch(() => undefined);
  state.user = null;
  state.csrf = null;
  renderAuth();
}

// ---------------------------------------------------------------- charts

let effectsChart: uPlot | null = null;
let latencyChart: uPlot | null = null;
function chartWidth(id: string): number {
  return Math.max(300, $(id).clientWidth || 600);
}
function renderCharts(s: Summary): void {
  const se = s.series;
  const eff: (number | null)[][] = [se.t, se.allow, se.deny, se.require_approval];
  const lat: (number | null)[][] = [se.t, se.p50, se.p99];
  if (!effectsChart) {
    effectsChart = new uPlot(
      {
        width: chartWidth('chart-effects'),
        height: 200,
        series: [{}, { label: 'allow', stroke: '#3fb950', width: 1.5 }, { label: 'deny', stroke: '#f85149', width: 1.5 }, { label: 'approval', stroke: '#d29922', width: 1.5 }],
        axes: [{ stroke: '#8b98a5', grid: { stroke: '#26313d' } }, { stroke: '#8b98a5', grid: { stroke: '#26313d' } }],
      },
      eff,
      $('chart-effects'),
    );
    latencyChart = new uPlot(
      {
        width: chartWidth('chart-latency'),
        height: 200,
        series: [{}, { label: 'p50', stroke: '#58a6ff', width: 1.5, spanGaps: true }, { label: 'p99', stroke: '#bc8cff', width: 1.5, spanGaps: true }],
        axes: [{ stroke: '#8b98a5', grid: { stroke: '#26313d' } }, { stroke: '#8b98a5', grid: { stroke: '#26313d' } }],
      },
      lat,
      $('chart-latency'),
    );
  } else {
    effectsChart.setData(eff);
    latencyChart!.setData(lat);
  }
}

// ---------------------------------------------------------------- sections

function kpi(label: string, value: string, testid: string, cls = '', records?: Record<string, string>): HTMLElement {
  const v = h('div', { class: `v ${cls}`, 'data-testid': testid }, value);
  if (records) {
    v.classList.add('link');
    v.addEventListener('click', () => void showRecords(records, label));
  }
  return h('div', { class: 'kpi' }, v, h('div', { class: 'l' }, label));
}

let totalShown = 0;
function renderKpis(s: Summary): void {
  const t = s.totals;
  totalShown = t.n;
  replace($('kpis'),
    kpi('decisions', fmt(t.n), 'kpi-total', '', {}),
    kpi('per second (5 min)', fmt(s.rate_per_s, 2), 'kpi-rate'),
    kpi('allow', pct(t.allow, t.n), 'kpi-allow', 'effect-allow', { effect: 'allow' }),
    kpi('deny', pct(t.deny, t.n), 'kpi-deny', 'effect-deny', { effect: 'deny' }),
    kpi('approval', pct(t.require_approval, t.n), 'kpi-approval', 'effect-require_approval', { effect: 'require_approval' }),
    kpi('latency p50', ms(s.latency.p50), 'kpi-p50'),
    kpi('latency p99', ms(s.latency.p99), 'kpi-p99'),
    kpi('with errors', fmt(t.errors), 'kpi-errors', t.errors > 0 ? 'effect-deny' : '', { errors: 'true' }),
    kpi('approvals pending', s.approvals_pending === null ? '–' : fmt(s.approvals_pending), 'kpi-pending', s.approvals_pending ? 'effect-require_approval' : ''),
  );
}

function recordsLink(text: string, q: Record<string, string>, title: string): HTMLElement {
  return h('a', { class: 'link', onclick: () => void showRecords(q, title) }, text);
}

function renderTop(s: Summary): void {
  for (const k of ['deny', 'require_approval', 'warn'] as const) {
    const rows = s.top[k];
    replace($(`top-${k}`),
      rows.length === 0
        ? h('div', { class: 'muted' }, 'none')
        : h('table', {}, h('tbody', {}, ...rows.map((r) => h('tr', {}, h('td', {}, r.name, ' ', h('span', { class: 'muted' }, r.kind)), h('td', { class: 'num' }, recordsLink(fmt(r.count), { rule: r.name, ...(k !== 'warn' ? { effect: k } : {}) }, `${r.name} (${k})`)))))));
  }
}

function money(v: number, unit: string): string {
  return unit === 'money' ? fmt(v, 2) : fmt(v, 0);
}

/** A progress bar (its width set through the CSSOM: a `style` attribute would break the CSP). */
function bar(frac: number, alert: boolean): HTMLElement {
  const inner = h('div', {});
  inner.style.width = `${(frac * 100).toFixed(1)}%`;
  return h('div', { class: `bar ${alert ? 'alert' : ''}` }, inner);
}

function renderCeilings(s: Summary): void {
  const src = s.ceilings_source;
  const note = src?.kind === 'redis'
    ? h('div', { class: src.error ? 'msg err' : 'muted', 'data-testid': 'ceilings-source' }, src.error ? `live counters from Redis unavailable: ${src.error}` : `live counters from Redis (every process sharing the store, settles included), read ${time(src.read_at)}`)
    : h('div', { class: 'muted', 'data-testid': 'ceilings-source' }, 'as the decisions in the log reported them');
  if (s.ceilings.length === 0) {
    replace($('ceilings'), note, h('div', { class: 'muted' }, src?.kind === 'redis' ? 'no budget counters in the current windows' : 'no budgets in the log yet'));
    return;
  }
  replace($('ceilings'), note,
    h('table', {},
      h('thead', {}, h('tr', {}, ...['budget', 'key', 'used', '', 'spent', 'reserved', 'limit', 'window ends', 'burn / h', 'limit reached at', ''].map((c, i) => h('th', { class: i >= 4 && i <= 8 ? 'num' : '' }, c)))),
      h('tbody', {}, ...s.ceilings.map((c) => {
        const limit = c.limit;
        const frac = limit === null ? 0 : limit > 0 ? Math.min(1, c.used / limit) : 1;
        return h('tr', { 'data-testid': 'ceiling-row', 'data-budget': c.name, 'data-key': c.key.map(String).join(',') },
          h('td', {}, recordsLink(c.name, { rule: c.name }, `${c.name}: decisions it refused, warned on or held`)),
          h('td', {}, c.key.length ? c.key.map(String).join(', ') : h('span', { class: 'muted' }, 'global')),
          h('td', { class: 'num' }, limit === null ? '–' : pct(c.used, limit)),
          h('td', {}, bar(frac, c.alert)),
          h('td', { class: 'num', 'data-testid': 'ceiling-spent' }, money(c.spent, c.unit)),
          h('td', { class: 'num', 'data-testid': 'ceiling-reserved' }, money(c.reserved, c.unit)),
          h('td', { class: 'num' }, limit === null ? 'unknown' : money(limit, c.unit)),
          h('td', { class: 'num', 'data-testid': 'ceiling-window' }, time(c.window_end), c.window_kind ? h('div', { class: 'muted', 'data-testid': 'ceiling-window-kind' }, c.window_kind) : null),
          h('td', { class: 'num' }, money(c.burn_per_hour, c.unit)),
          h('td', { class: 'num' }, c.projected_limit_at ? time(c.projected_limit_at) : '–'),
          h('td', {}, c.alert ? h('span', { class: 'badge alert', 'data-testid': 'ceiling-alert' }, limit !== null && c.used >= limit ? 'at limit' : 'limit before window ends') : h('span', { class: 'badge ok' }, 'ok')),
        );
      }))));
}

function renderDrift(s: Summary): void {
  const d = s.drift;
  if (!d.current || !d.baseline) {
    replace($('drift'), h('div', { class: 'muted' }, d.basis === 'policy' ? 'one policy version so far: nothing to compare' : 'no previous day in the log yet: nothing to compare'));
    return;
  }
  const mixRow = (label: string, m: NonNullable<Summary['drift']['current']>) =>
    h('tr', {}, h('td', {}, label), h('td', { class: 'num effect-allow' }, `${fmt(m.allow, 1)}%`), h('td', { class: 'num effect-deny' }, `${fmt(m.deny, 1)}%`), h('td', { class: 'num effect-require_approval' }, `${fmt(m.require_approval, 1)}%`), h('td', { class: 'num' }, fmt(m.n)));
  replace($('drift'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'effect mix'), h('th', { class: 'num' }, 'allow'), h('th', { class: 'num' }, 'deny'), h('th', { class: 'num' }, 'approval'), h('th', { class: 'num' }, 'decisions'))),
      h('tbody', {}, mixRow(d.label.current, d.current), mixRow(d.label.baseline, d.baseline))),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'rule'), h('th', { class: 'num' }, 'hit rate now'), h('th', { class: 'num' }, 'baseline'), h('th', { class: 'num' }, 'Δ points'), h('th', {}, ''))),
      h('tbody', {}, ...d.rules.slice(0, 15).map((r) => h('tr', {}, h('td', {}, recordsLink(r.name, { rule: r.name }, r.name)), h('td', { class: 'num' }, `${fmt(r.current, 1)}%`), h('td', { class: 'num' }, `${fmt(r.baseline, 1)}%`), h('td', { class: 'num' }, `${r.delta > 0 ? '+' : ''}${fmt(r.delta, 1)}`), h('td', {}, r.flagged ? h('span', { class: 'badge flag', 'data-testid': 'drift-flag' }, `moved > ${d.threshold} pts`) : ''))))));
}

function renderAudit(s: Summary): void {
  if (s.chains.length === 0) {
    replace($('audit'), h('div', { class: 'muted' }, 'no decision log'));
    return;
  }
  replace($('audit'), ...s.chains.map((c) =>
    h('div', { class: 'card', 'data-testid': 'chain' },
      h('div', {}, h('b', {}, c.chain), ' ', c.ok ? h('span', { class: 'badge ok' }, 'intact') : h('span', { class: 'badge alert' }, 'broken')),
      c.ok
        ? h('div', {}, 'verified up to record ', recordsLink(c.head ? fmt(c.head.seq) : '–', { chain: c.chain }, `${c.chain}: latest records`))
        : h('div', {}, `broken at seq ${c.problem?.seq ?? '?'}: ${c.problem?.message ?? ''}`),
      c.anchor
        ? h('div', { 'data-testid': 'anchor' }, `signed anchor at record ${fmt(c.anchor.seq)} (${time(c.anchor.time)}, ${c.anchor.alg}): `,
            c.anchor.matches === true ? h('span', { class: 'badge ok' }, 'matches the log') : c.anchor.matches === false ? h('span', { class: 'badge alert' }, 'does not match the log') : h('span', { class: 'muted' }, 'record not read yet'))
        : null,
      c.head ? h('div', { class: 'muted' }, c.anchor ? 'head ' : 'last anchor ', h('code', {}, c.head.hash.slice(0, 23) + '…')) : null,
      h('div', { class: 'muted' }, `${fmt(c.records)} records in ${c.files.length} file${c.files.length === 1 ? '' : 's'}`),
    )));
}

function verdictRow(v: Verdict): HTMLElement {
  return h('tr', { 'data-testid': 'verdict-row', 'data-id': v.approval_id },
    h('td', {}, time(v.time)),
    v.claimed
      ? h('td', { class: 'muted', 'data-testid': 'verdict-claimed', title: 'a verdict event in a log neither the control room nor `rein approvals` writes: anyone who writes that log can write it; not counted' }, escapeInvisible(`${v.verdict}? claimed by chain ${v.chain}, not verified`))
      : h('td', { class: v.verdict === 'approved' ? 'effect-allow' : 'effect-deny' }, v.verdict),
    h('td', {}, escapeInvisible(v.rule)),
    h('td', {}, escapeInvisible(`${v.approver}${v.group ? ` (${v.group})` : ''}`)),
    h('td', {}, escapeInvisible(v.reason ?? '')),
    h('td', {}, h('a', { class: 'link', onclick: () => void openRecord(v.chain, v.seq) }, `${v.chain} #${v.seq}`)));
}

function renderVerdicts(s: Summary): void {
  const v = s.verdicts;
  if (!v || v.recent.length === 0) {
    replace($('verdicts'), h('div', { class: 'muted' }, 'no verdicts in the log'));
    return;
  }
  replace($('verdicts'),
    h('div', { class: 'muted' }, `${fmt(v.approved)} approved, ${fmt(v.denied)} denied${v.claimed ? ` (${fmt(v.claimed)} more claimed by other chains, not counted)` : ''}`),
    h('table', {}, h('tbody', {}, ...v.recent.map((x) => verdictRow(x)))));
}

function renderErrors(s: Summary): void {
  replace($('errors'), s.errors.length === 0 ? h('div', { class: 'muted' }, 'none') :
    h('table', {}, h('tbody', {}, ...s.errors.map((e) => h('tr', {}, h('td', {}, time(e.time)), h('td', {}, e.message), h('td', {}, h('a', { class: 'link', onclick: () => void openRecord(e.chain, e.seq) }, `#${e.seq}`)))))));
}

const seenTags: Record<string, Set<string>> = { agent: new Set(), team: new Set(), tool: new Set(), model: new Set(), policy: new Set() };
function recentRow(d: DecisionSummary, fresh: boolean): HTMLElement {
  for (const [k, v] of Object.entries(d.tags)) if (seenTags[k] && seenTags[k]!.size < 200 && !seenTags[k]!.has(v)) {
    seenTags[k]!.add(v);
    $(`values-${k}`).append(h('option', { value: v }));
  }
  return h('tr', { class: fresh ? 'new' : '', 'data-testid': 'recent-row', 'data-seq': String(d.seq) },
    h('td', {}, time(d.time)),
    h('td', { class: `effect-${d.effect}` }, d.effect),
    h('td', {}, d.rules.join(', ')),
    h('td', {}, [d.tags.agent, d.tags.tool].filter(Boolean).join(' / ')),
    h('td', { class: 'num' }, ms(d.latency_ms)),
    h('td', {}, d.policy),
    h('td', {}, h('a', { class: 'link', onclick: () => void openRecord(d.chain, d.seq) }, `${d.chain} #${d.seq}`)));
}
function renderRecent(s: Summary): void {
  replace($('recent-body'), ...s.recent.map((d) => recentRow(d, false)));
}

function matchesFilter(d: DecisionSummary): boolean {
  for (const [k, v] of Object.entries(state.filter)) {
    if (k === 'policy') continue;
    if (d.tags[k] !== v) return false;
  }
  return true;
}

// ---------------------------------------------------------------- records

async function showRecords(q: Record<string, string>, title: string): Promise<void> {
  const params = new URLSearchParams({ ...state.filter, ...q, limit: '50' });
  const r = await api<{ records: { chain: string; seq: number; time: string; effect: Effect | null; verdict?: string | null; rules: string[]; request_hash: string | null }[] }>(`/api/records?${params}`);
  $('records-section').hidden = false;
  $('records-title').textContent = `Records: ${title} (newest ${r.records.length})`;
  replace($('records'), h('table', {}, h('tbody', {}, ...r.records.map((x) =>
    h('tr', { 'data-testid': 'record-row' }, h('td', {}, time(x.time)), x.effect ? h('td', { class: `effect-${x.effect}` }, x.effect) : h('td', { class: x.verdict === 'approved' ? 'effect-allow' : 'effect-deny' }, `verdict: ${x.verdict ?? '?'}`), h('td', {}, x.rules.join(', ')), h('td', {}, h('a', { class: 'link', onclick: () => void openRecord(x.chain, x.seq) }, `${x.chain} #${x.seq}`)))))));
  $('records-section').scrollIntoView({ behavior: 'smooth' });
}

async function openRecord(chain: string, seq: number): Promise<void> {
  const r = await api<{ chain: string; record: unknown; explanation: string[]; verified: boolean; verdicts?: Verdict[] }>(`/api/records/${encodeURIComponent(chain)}/${seq}`);
  const verdicts = (r.verdicts ?? []).filter((v) => !(v.chain === chain && v.seq === seq));
  const el = $('record');
  replace(el,
    h('div', {}, h('b', {}, `${r.chain} #${seq}`), ' ', r.verified ? h('span', { class: 'badge ok' }, 'chain verified') : h('span', { class: 'badge alert' }, 'not verified'), ' ', h('button', { onclick: () => closeRecord() }, 'Close')),
    h('h2', {}, 'Why'),
    h('ul', { 'data-testid': 'explanation' }, ...r.explanation.map((l) => h('li', {}, l))),
    verdicts.length ? h('h2', {}, 'Verdicts on this request') : null,
    verdicts.length ? h('table', { 'data-testid': 'record-verdicts' }, h('tbody', {}, ...verdicts.map((v) => verdictRow(v)))) : null,
    h('h2', {}, 'Record'),
    h('pre', {}, JSON.stringify(r.record, null, 2)));
  el.classList.add('open');
  $('overlay').classList.add('open');
}
function closeRecord(): void {
  $('record').classList.remove('open');
  $('overlay').classList.remove('open');
}

// ---------------------------------------------------------------- approvals

async function loadApprovals(): Promise<void> {
  let r: { enabled: boolean; approvals: Approval[] };
  try {
    r = await api('/api/approvals');
  } catch (e) {
    replace($('approvals'), h('div', { class: 'muted' }, (e as Error).message));
    return;
  }
  if (!r.enabled) {
    replace($('approvals'), h('div', { class: 'muted' }, 'no approval queue configured (--approvals)'));
    return;
  }
  // keep what the user is typing: re-render only when the set of ids changed
  const ids = r.approvals.map((a) => a.id).join(',');
  if ($('approvals').dataset.ids === ids && ids !== '') return;
  $('approvals').dataset.ids = ids;
  if (r.approvals.length === 0) {
    replace($('approvals'), h('div', { class: 'muted', 'data-testid': 'inbox-empty' }, 'nothing waits for a human'));
    return;
  }
  replace($('approvals'), ...r.approvals.map((a) => approvalCard(a)));
}

function approvalCard(a: Approval): HTMLElement {
  const reason = h('input', { placeholder: 'reason (kept with the verdict)', 'aria-label': 'reason' });
  const msg = h('span', { class: 'msg' });
  const canAct = state.user !== null;
  const act = async (verb: 'approve' | 'deny') => {
    msg.textContent = '…';
    msg.className = 'msg';
    try {
      await api(`/api/approvals/${encodeURIComponent(a.id)}/${verb}`, { method: 'POST', body: JSON.stringify(reason.value ? { reason: reason.value } : {}) });
      msg.textContent = verb === 'deny' ? 'denied' : a.quorum !== undefined ? 'vote recorded' : 'approved';
      $('approvals').dataset.ids = '';
      setTimeout(() => void loadApprovals(), 300);
    } catch (e) {
      msg.textContent = (e as Error).message;
      msg.className = 'msg err';
    }
  };
  // What will run: for a verified record its request (an MCP call: tool, server, arguments, result);
  // otherwise the summary, as the writer of the queue describes it (review h12r1 P14).
  const check = a.verified ?? 'missing';
  const req = check === 'verified' && a.request && typeof a.request === 'object' ? (a.request as { tool?: { name?: unknown }; server?: { name?: unknown }; arguments?: unknown; phase?: unknown; result?: { text?: unknown } }) : null;
  const s = (req && req.tool && typeof req.tool === 'object'
    ? { tool: req.tool.name, server: req.server?.name, arguments: req.arguments, phase: req.phase, result: req.result?.text }
    : a.summary) as { tool?: unknown; arguments?: unknown; server?: unknown; phase?: unknown; result?: unknown } | null;
  const what = s && typeof s === 'object' && 'tool' in s ? s : null;
  const banner =
    check === 'verified'
      ? h('div', { class: 'effect-allow', 'data-testid': 'approval-verified' }, 'verified: the request below is what an approval lets run')
      : check === 'mismatch'
        ? h('div', { class: 'effect-deny', 'data-testid': 'approval-unverified' }, 'unverified: the request does not match its hash — it cannot be approved')
        : h('div', { class: 'muted', 'data-testid': 'approval-unverified' }, "unverified: no request stored; what follows is the queue writer's description");
  const canApprove = canAct && check !== 'mismatch';
  return h('div', { class: 'card', 'data-testid': 'approval-card', 'data-id': a.id },
    h('div', {}, h('b', {}, escapeInvisible(String(a.rule))), ' ', h('span', { class: 'muted' }, escapeInvisible(`${a.kind}${a.from ? ` · from ${a.from}` : ''} · ${a.id} · expires ${time(a.expires)}`))),
    a.message ? h('div', {}, escapeInvisible(String(a.message))) : null,
    a.quorum !== undefined
      ? h('div', { 'data-testid': 'approval-quorum' }, `quorum: ${a.votes?.length ?? 0} of ${a.quorum} distinct approvers`, a.votes?.length ? h('span', { class: 'muted' }, ` (${a.votes.map((v) => v.by).join(', ')})`) : null)
      : null,
    banner,
    check === 'verified' && !what ? h('pre', { 'data-testid': 'approval-request' }, escapeInvisible(JSON.stringify(a.request, null, 2) ?? 'null')) : what
      ? h('div', {}, 'runs ', h('code', { 'data-testid': 'approval-tool' }, escapeInvisible(String(what.tool))), what.server ? h('span', { class: 'muted' }, escapeInvisible(` on ${String(what.server)}`)) : null, h('pre', {}, escapeInvisible(JSON.stringify(what.arguments ?? {}, null, 2))),
          // a held result: what the approver releases to the model
          what.phase === 'result' ? h('div', {}, 'returned', h('pre', { 'data-testid': 'approval-result' }, escapeInvisible(String(what.result ?? '')))) : null)
      : h('pre', {}, escapeInvisible(JSON.stringify(a.summary, null, 2) ?? 'null')),
    h('div', { class: 'muted' }, 'request ', h('code', {}, a.request_hash)),
    h('div', { class: 'actions' },
      reason,
      h('button', { class: 'approve', 'data-testid': 'approve-btn', disabled: !canApprove, title: canApprove ? '' : canAct ? 'the request does not match its hash' : 'sign in to decide', onclick: () => void act('approve') }, 'Approve'),
      h('button', { class: 'deny', 'data-testid': 'deny-btn', disabled: !canAct, title: canAct ? '' : 'sign in to decide', onclick: () => void act('deny') }, 'Deny'),
      msg));
}

// ---------------------------------------------------------------- refresh and live

function applyFilters(): void {
  const f: Record<string, string> = {};
  for (const k of ['agent', 'team', 'tool', 'model', 'policy']) {
    const v = (document.getElementById(`filter-${k}`) as HTMLInputElement).value.trim();
    if (v) f[k] = v;
  }
  state.filter = f;
  void refresh();
}

let refreshing = false;
let again = false;
async function refresh(): Promise<void> {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    const params = new URLSearchParams({ ...state.filter, baseline: state.baseline });
    const s = await api<Summary>(`/api/summary?${params}`);
    renderKpis(s);
    renderCharts(s);
    renderTop(s);
    renderCeilings(s);
    state.liveCeilings = s.ceilings_source?.kind === 'redis';
    renderDrift(s);
    renderAudit(s);
    renderErrors(s);
    renderRecent(s);
    renderVerdicts(s);
    if (s.loading) {
      $('live-text').textContent = `reading the log… ${fmt(s.totals.n)} records so far`;
      window.setTimeout(() => void refresh(), 1000);
    }
    document.body.dataset.loaded = s.loading ? 'partial' : 'true';
  } catch (e) {
    $('live-text').textContent = (e as Error).message;
  } finally {
    refreshing = false;
    if (again) {
      again = false;
      setTimeout(() => void refresh(), 250);
    }
  }
}

let refreshTimer: number | null = null;
function scheduleRefresh(): void {
  // at most one summary per second while decisions stream in
  refreshTimer ??= window.setTimeout(() => {
    refreshTimer = null;
    void refresh();
  }, 1000);
}

let events: EventSource | null = null;
function live(): void {
  events?.close();
  events = new EventSource(`${prefix}/api/events`);
  events.onopen = () => {
    $('live-dot').classList.add('on');
    $('live-text').textContent = 'live';
  };
  events.onerror = () => {
    $('live-dot').classList.remove('on');
    $('live-text').textContent = 'reconnecting…';
  };
  events.addEventListener('decisions', (ev) => {
    const batch = JSON.parse((ev as MessageEvent<string>).data) as DecisionSummary[];
    const body = $('recent-body');
    for (const d of batch) {
      if (!matchesFilter(d)) continue;
      body.prepend(recentRow(d, true));
      totalShown++;
    }
    while (body.children.length > 50) body.lastElementChild!.remove();
    const k = document.querySelector('[data-testid="kpi-total"]');
    if (k && Object.keys(state.filter).length === 0) k.textContent = fmt(totalShown);
    $('live-text').textContent = `live · last ${time(batch[batch.length - 1]?.time ?? null)}`;
    scheduleRefresh();
  });
  events.addEventListener('verdict', () => scheduleRefresh());
}

async function start(): Promise<void> {
  await refresh();
  live();
  await loadApprovals();
}

async function boot(): Promise<void> {
  layout();
  await loadSession();
  if (state.loginRequired && !state.user) {
    $('live-text').textContent = 'sign in to see decisions';
    return;
  }
  await start();
}

setInterval(() => {
  if (!state.loginRequired || state.user) void loadApprovals();
}, 2000);
// Live counters move with every process's decisions and settles, most of which never reach this
// server: read them every second while the ceilings come from them.
setInterval(() => {
  if (state.liveCeilings && (!state.loginRequired || state.user)) {
    api<Pick<Summary, 'ceilings' | 'ceilings_source'>>('/api/ceilings').then((c) => renderCeilings(c as Summary), () => undefined);
  }
}, 1000);
window.addEventListener('resize', () => {
  effectsChart?.setSize({ width: chartWidth('chart-effects'), height: 200 });
  latencyChart?.setSize({ width: chartWidth('chart-latency'), height: 200 });
});
void boot();
