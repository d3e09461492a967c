// `rein report`: one self-contained HTML page (inline CSS and SVG, no scripts, no network) from
// decision-log records, for operators who would rather look than read. Pure: records in, HTML out.

import type { AuditRecord, VerifyResult } from './record.js';

export interface ReportSummary {
  /** Decisions (the records of /v1/evaluate, `evaluated`, are left out of every number). */
  total: number;
  /** Records of requests only scored, not acted on (`decision.evaluated_only`: `rein serve`'s /v1/evaluate). */
  evaluated: number;
  byEffect: Record<'allow' | 'deny' | 'require_approval', number>;
  first: string | null;
  last: string | null;
  bucket: 'minute' | 'hour' | 'day';
  timeline: { start: string; allow: number; deny: number; require_approval: number }[];
  topDeny: { name: string; count: number }[];
  topApproval: { name: string; count: number }[];
  latency: { p50: number; p90: number; p99: number; max: number; samples: number } | null;
  budgets: { name: string; key: string; limit: number; points: { time: string; used: number }[]; peak: number }[];
  versions: { name: string; version: string | null; hash: string; count: number; first: string; last: string }[];
}

const BUCKET_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function top(map: Map<string, number>, n = 10): { name: string; count: number }[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([name, count]) => ({ name, count }));
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/** The numbers the page shows (also useful as JSON). */
export function summarize(records: AuditRecord[]): ReportSummary {
  const byEffect = { allow: 0, deny: 0, require_approval: 0 };
  const times = records.map((r) => Date.parse(r.time)).filter((t) => Number.isFinite(t));
  const first = times.length ? Math.min(...times) : NaN;
  const last = times.length ? Math.max(...times) : NaN;
  const span = last - first;
  const bucket: ReportSummary['bucket'] = !(span > 0) || span <= 3 * 3_600_000 ? 'minute' : span <= 7 * 86_400_000 ? 'hour' : 'day';
  const size = BUCKET_MS[bucket];
  const timeline = new Map<number, { allow: number; deny: number; require_approval: number }>();
  const deny = new Map<string, number>();
  const approval = new Map<string, number>();
  const lat: number[] = [];
  const budgets = new Map<string, ReportSummary['budgets'][number]>();
  const versions = new Map<string, ReportSummary['versions'][number]>();

  let evaluated = 0;
  for (const r of records) {
    if ((r.decision as { evaluated_only?: unknown }).evaluated_only === true) {
      evaluated++;
      continue;
    }
    const effect = r.decision.effect;
    if (effect in byEffect) byEffect[effect]++;
    const t = Date.parse(r.time);
    if (Number.isFinite(t)) {
      const b = Math.floor(t / size) * size;
      const slot = timeline.get(b) ?? { allow: 0, deny: 0, require_approval: 0 };
      if (effect in slot) slot[effect]++;
      timeline.set(b, slot);
    }
    if (effect === 'deny') for (const x of r.decision.reasons) if (x.name) deny.set(x.name, (deny.get(x.name) ?? 0) + 1);
    for (const a of r.decision.approvals) approval.set(a.name, (approval.get(a.name) ?? 0) + 1);
    if (typeof r.latency_ms === 'number') lat.push(r.latency_ms);
    for (const b of r.decision.budgets ?? []) {
      if (b.spent === null) continue; // the store failed: the counters are unknown
      const key = JSON.stringify(b.key);
      const id = `${b.name} ${key}`;
      const entry = budgets.get(id) ?? { name: b.name, key, limit: num(b.limit), points: [], peak: 0 };
      const used = num(b.spent) + num(b.reserved) + (r.decision.effect === 'allow' ? num(b.charge) : 0);
      entry.limit = num(b.limit);
      entry.points.push({ time: r.time, used });
      entry.peak = Math.max(entry.peak, used);
      budgets.set(id, entry);
    }
    const vid = `${r.policy.name}@${r.policy.hash}`;
    const v = versions.get(vid) ?? { name: r.policy.name, version: r.policy.version, hash: r.policy.hash, count: 0, first: r.time, last: r.time };
    v.count++;
    if (r.time < v.first) v.first = r.time;
    if (r.time > v.last) v.last = r.time;
    versions.set(vid, v);
  }
  lat.sort((a, b) => a - b);
  return {
    total: records.length - evaluated,
    evaluated,
    byEffect,
    first: Number.isFinite(first) ? new Date(first).toISOString() : null,
    last: Number.isFinite(last) ? new Date(last).toISOString() : null,
    bucket,
    timeline: [...timeline.entries()].sort((a, b) => a[0] - b[0]).map(([s, v]) => ({ start: new Date(s).toISOString(), ...v })),
    topDeny: top(deny),
    topApproval: top(approval),
    latency: lat.length ? { p50: pct(lat, 0.5), p90: pct(lat, 0.9), p99: pct(lat, 0.99), max: lat[lat.length - 1], samples: lat.length } : null,
    budgets: [...budgets.values()].sort((a, b) => b.peak / (b.limit || 1) - a.peak / (a.limit || 1)).slice(0, 12),
    versions: [...versions.values()].sort((a, b) => (a.first < b.first ? -1 : 1)),
  };
}

// ------------------------------------------------------------------ HTML

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const COLORS = { allow: '#2e7d32', deny: '#c62828', require_approval: '#ef6c00' } as const;

function timelineSvg(s: ReportSummary): string {
  const W = 900;
  const H = 220;
  const pad = 36;
  const n = s.timeline.length;
  if (n === 0) return '<p class="empty">no decisions</p>';
  const max = Math.max(1, ...s.timeline.map((t) => t.allow + t.deny + t.require_approval));
  const bw = (W - pad * 2) / n;
  let bars = '';
  s.timeline.forEach((t, i) => {
    let y = H - pad;
    for (const e of ['allow', 'require_approval', 'deny'] as const) {
      const h = ((H - pad * 2) * t[e]) / max;
      if (h > 0) bars += `<rect x="${(pad + i * bw + 1).toFixed(1)}" y="${(y - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[e]}"><title>${esc(t.start)} ${e}: ${t[e]}</title></rect>`;
      y -= h;
    }
  });
  const labels = [0, Math.floor((n - 1) / 2), n - 1]
    .filter((v, i, a) => a.indexOf(v) === i)
    .map((i, j, all) => `<text x="${(pad + i * bw + bw / 2).toFixed(1)}" y="${H - 12}" text-anchor="${all.length > 1 && j === 0 ? 'start' : all.length > 1 && j === all.length - 1 ? 'end' : 'middle'}">${esc(s.timeline[i].start.slice(0, s.bucket === 'day' ? 10 : 16).replace('T', ' '))}</text>`)
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="decisions over time by effect"><line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/><text x="${pad - 4}" y="${pad}" text-anchor="end">${max}</text><text x="${pad - 4}" y="${H - pad}" text-anchor="end">0</text>${bars}${labels}</svg>`;
}

function barList(items: { name: string; count: number }[], color: string, id: string): string {
  if (!items.length) return '<p class="empty">none</p>';
  const max = Math.max(...items.map((i) => i.count));
  return `<table class="bars" id="${id}">${items
    .map((i) => `<tr><td class="name">${esc(i.name)}</td><td class="bar"><div style="width:${((100 * i.count) / max).toFixed(1)}%;background:${color}"></div></td><td class="num">${i.count}</td></tr>`)
    .join('')}</table>`;
}

function budgetSvg(b: ReportSummary['budgets'][number]): string {
  const W = 420;
  const H = 120;
  const pad = 10;
  const ts = b.points.map((p) => Date.parse(p.time));
  const t0 = Math.min(...ts);
  const t1 = Math.max(...ts);
  const ymax = Math.max(b.limit, b.peak) * 1.1 || 1;
  const x = (t: number) => pad + ((W - 2 * pad) * (t1 > t0 ? (t - t0) / (t1 - t0) : 0.5));
  const y = (v: number) => H - pad - ((H - 2 * pad) * v) / ymax;
  const path = b.points.map((p, i) => `${i ? 'L' : 'M'}${x(ts[i]).toFixed(1)},${y(p.used).toFixed(1)}`).join(' ');
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="spend of ${esc(b.name)} against its ceiling"><line x1="${pad}" x2="${W - pad}" y1="${y(b.limit).toFixed(1)}" y2="${y(b.limit).toFixed(1)}" stroke="#c62828" stroke-dasharray="4 3"/><path d="${path}" fill="none" stroke="#1565c0" stroke-width="2"/></svg>`;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3));

export function renderReport(records: AuditRecord[], opts: { title?: string; verify?: VerifyResult; sources?: string[] } = {}): string {
  const s = summarize(records);
  const title = opts.title ?? 'Rein decision report';
  const v = opts.verify;
  const chain = v ? (v.ok ? `<span class="ok">chain intact</span> (${v.records} records)` : `<span class="bad">chain broken</span> at ${esc(v.problem!.source)}:${v.problem!.line}: ${esc(v.problem!.message)}`) : 'not verified';
  const share = (n: number) => (s.total ? ((100 * n) / s.total).toFixed(1) + '%' : '–');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:980px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666} .cards{display:flex;gap:12px;flex-wrap:wrap;margin-top:16px}
.card{border:1px solid #ddd;border-radius:8px;padding:10px 14px;min-width:150px} .card b{display:block;font-size:24px}
.allow b{color:${COLORS.allow}} .deny b{color:${COLORS.deny}} .require_approval b{color:${COLORS.require_approval}}
svg{width:100%;height:auto;font-size:11px;fill:#555} table{border-collapse:collapse} td,th{padding:3px 8px;text-align:left}
.bars{width:100%} .bars .name{width:38%;font-family:ui-monospace,monospace} .bars .bar div{height:14px;border-radius:3px} .bars .num{width:60px;text-align:right}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px} .budget{border:1px solid #eee;border-radius:8px;padding:8px}
.ok{color:${COLORS.allow};font-weight:600} .bad{color:${COLORS.deny};font-weight:600} .empty{color:#888}
.legend span{display:inline-block;margin-right:14px} .legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
code{font-family:ui-monospace,monospace;font-size:12px}
</style></head><body>
<h1>${esc(title)}</h1>
<div class="meta">${s.first ? `${esc(s.first)} — ${esc(s.last)}` : 'empty log'} · ${chain}${opts.sources?.length ? ` · ${opts.sources.map(esc).join(', ')}` : ''}${s.evaluated > 0 ? ` · <span id="evaluated">${s.evaluated} evaluate-only record${s.evaluated === 1 ? '' : 's'} (scored with /v1/evaluate, not acted on) left out</span>` : ''}</div>
<div class="cards">
<div class="card" id="total"><span>decisions</span><b>${s.total}</b></div>
<div class="card allow" id="allow"><span>allowed</span><b>${s.byEffect.allow}</b>${share(s.byEffect.allow)}</div>
<div class="card deny" id="deny"><span>denied</span><b>${s.byEffect.deny}</b>${share(s.byEffect.deny)}</div>
<div class="card require_approval" id="require_approval"><span>needed approval</span><b>${s.byEffect.require_approval}</b>${share(s.byEffect.require_approval)}</div>
</div>
<h2>Decisions over time (per ${s.bucket})</h2>
<div class="legend"><span><i style="background:${COLORS.allow}"></i>allow</span><span><i style="background:${COLORS.require_approval}"></i>require approval</span><span><i style="background:${COLORS.deny}"></i>deny</span></div>
${timelineSvg(s)}
<div class="grid">
<div><h2>Top denying rules</h2>${barList(s.topDeny, COLORS.deny, 'top-deny')}</div>
<div><h2>Top approval rules</h2>${barList(s.topApproval, COLORS.require_approval, 'top-approval')}</div>
</div>
<h2>Budget spend against ceilings</h2>
${s.budgets.length ? `<div class="grid">${s.budgets.map((b) => `<div class="budget"><b>${esc(b.name)}</b> <code>${esc(b.key)}</code><br>peak ${fmt(b.peak)} of ${fmt(b.limit)} (${b.limit ? ((100 * b.peak) / b.limit).toFixed(0) : '–'}%)${budgetSvg(b)}</div>`).join('')}</div>` : '<p class="empty">no budgets in these decisions</p>'}
<h2>Evaluation latency</h2>
${s.latency ? `<table id="latency"><tr><th>p50</th><th>p90</th><th>p99</th><th>max</th><th>samples</th></tr><tr><td>${s.latency.p50} ms</td><td>${s.latency.p90} ms</td><td>${s.latency.p99} ms</td><td>${s.latency.max} ms</td><td>${s.latency.samples}</td></tr></table>` : '<p class="empty">no latency recorded</p>'}
<h2>Policy versions seen</h2>
<table id="versions"><tr><th>policy</th><th>version</th><th>hash</th><th>decisions</th><th>first</th><th>last</th></tr>
${s.versions.map((v) => `<tr><td>${esc(v.name)}</td><td>${esc(v.version ?? '–')}</td><td><code>${esc(v.hash.slice(0, 19))}…</code></td><td>${v.count}</td><td>${esc(v.first)}</td><td>${esc(v.last)}</td></tr>`).join('')}
</table>
<p class="meta">Budget amounts are in each budget's unit (currency units for money). The dashed line is the ceiling. Generated by <code>rein report</code>.</p>
</body></html>
`;
}
