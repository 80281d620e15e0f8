// The decentralization index: Lorenz curve and Nakamoto coefficients (SVG).

import { maybe, NOT_FOUND, rpc } from './rpc.js';
import { badge, big, card, empty, fmtInt, h, num, panel, s, table } from './ui.js';

function exactValue(x) {
  if (x === null || x === undefined) return null;
  if (typeof x === 'number') return x;
  if (typeof x === 'object' && typeof x.value === 'number') return x.value;
  const n = Number(x);
  return Number.isFinite(n) ? n : null;
}

function chartFrame(w, hgt, pad) {
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${w} ${hgt}`, role: 'img' });
  svg.append(s('line', { class: 'axis', x1: pad, y1: hgt - pad, x2: w - 10, y2: hgt - pad }), s('line', { class: 'axis', x1: pad, y1: 10, x2: pad, y2: hgt - pad }));
  return svg;
}

// The Lorenz curve of a distribution: entities from the smallest weight up
// on x, cumulative share of the weight on y; the diagonal is equality.
function lorenz(dist) {
  const weights = (dist.entities || []).map((e) => big(e.weight));
  const restN = Number(dist.rest_entities || 0);
  const restW = big(dist.rest_weight);
  // Entities folded into "rest" are drawn as equal shares of the rest.
  for (let i = 0; i < Math.min(restN, 1000); i++) weights.push(restW / BigInt(restN));
  weights.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const total = weights.reduce((a, b) => a + b, 0n);
  const W = 440;
  const H = 320;
  const P = 44;
  const x = (f) => P + f * (W - P - 24);
  const y = (f) => H - P - f * (H - P - 10);
  const svg = chartFrame(W, H, P);
  svg.setAttribute('aria-label', `Lorenz curve of ${dist.subsystem}`);
  svg.dataset.chart = 'lorenz';
  for (const f of [0.25, 0.5, 0.75, 1]) {
    svg.append(s('line', { class: 'grid', x1: P, y1: y(f), x2: x(1), y2: y(f) }), s('text', { x: P - 6, y: y(f) + 4, 'text-anchor': 'end' }, `${f * 100}%`));
    svg.append(s('text', { x: x(f), y: H - P + 16, 'text-anchor': 'middle' }, `${f * 100}%`));
  }
  svg.append(s('line', { class: 'equality', x1: x(0), y1: y(0), x2: x(1), y2: y(1) }));
  const n = weights.length;
  const pts = [[x(0), y(0)]];
  let cum = 0n;
  weights.forEach((wt, i) => {
    cum += wt;
    pts.push([x((i + 1) / n), y(total === 0n ? 0 : Number((cum * 1000000n) / total) / 1e6)]);
  });
  const curve = pts.map(([a, b], i) => `${i ? 'L' : 'M'}${a.toFixed(1)},${b.toFixed(1)}`).join(' ');
  svg.append(s('path', { class: 'lorenz-area', d: `${curve} L${x(1)},${y(0)} Z` }), s('path', { class: 'lorenz', d: curve }));
  for (const [a, b] of pts.slice(1)) if (n <= 50) svg.append(s('circle', { class: 'd0', cx: a.toFixed(1), cy: b.toFixed(1), r: 3 }));
  svg.append(s('text', { x: (P + W) / 2, y: H - 8, 'text-anchor': 'middle' }, `share of ${dist.subsystem} entities (smallest first), n = ${n}`));
  svg.append(s('text', { x: 12, y: H / 2, transform: `rotate(-90 12 ${H / 2})`, 'text-anchor': 'middle' }, 'share of weight'));
  return svg;
}

// Nakamoto coefficients over epochs, one line per series.
function nakamotoChart(epochs) {
  const series = [
    ['validators, ≥ 1/3 (halt)', (e) => e.subsystems?.validators?.nakamoto?.bft_halt],
    ['validators, > 1/2 (majority)', (e) => e.subsystems?.validators?.nakamoto?.majority],
    ['headline, ≥ 1/3 (all subsystems)', (e) => (e.headline || []).find((x) => x.threshold === 'bft_halt')?.value],
  ];
  const W = 560;
  const H = 320;
  const P = 44;
  const svg = chartFrame(W, H, P);
  svg.dataset.chart = 'nakamoto';
  svg.setAttribute('aria-label', 'Nakamoto coefficient over epochs');
  const vals = epochs.flatMap((e) => series.map(([, f]) => Number(f(e)))).filter((v) => Number.isFinite(v));
  const maxY = Math.max(1, ...vals);
  const e0 = Number(epochs[0].epoch);
  const e1 = Number(epochs[epochs.length - 1].epoch);
  const x = (e) => P + (e1 === e0 ? 0.5 : (e - e0) / (e1 - e0)) * (W - P - 20);
  const y = (v) => H - P - (v / maxY) * (H - P - 20);
  for (let v = 0; v <= maxY; v += Math.max(1, Math.ceil(maxY / 5))) {
    svg.append(s('line', { class: 'grid', x1: P, y1: y(v), x2: W - 10, y2: y(v) }), s('text', { x: P - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  const ticks = Math.min(epochs.length, 8);
  for (let i = 0; i < ticks; i++) {
    const e = epochs[Math.round((i * (epochs.length - 1)) / Math.max(1, ticks - 1))];
    svg.append(s('text', { x: x(Number(e.epoch)), y: H - P + 16, 'text-anchor': 'middle' }, String(e.epoch)));
  }
  series.forEach(([, f], i) => {
    const pts = epochs.map((e) => [Number(e.epoch), Number(f(e))]).filter(([, v]) => Number.isFinite(v));
    if (pts.length === 0) return;
    svg.append(s('path', { class: `s${i}`, d: pts.map(([e, v], j) => `${j ? 'L' : 'M'}${x(e).toFixed(1)},${y(v).toFixed(1)}`).join(' ') }));
    for (const [e, v] of pts) svg.append(s('circle', { class: `d${i}`, cx: x(e).toFixed(1), cy: y(v).toFixed(1), r: 3 }));
  });
  svg.append(s('text', { x: (P + W) / 2, y: H - 8, 'text-anchor': 'middle' }, 'epoch'));
  const legend = h('div', { class: 'legend' }, series.map(([name], i) => h('span', null, h('i', { class: `k${i}` }), name)));
  return [svg, legend];
}

export async function decentralizationPage(view) {
  document.title = 'Decentralization · Agora explorer';
  view.append(h('h1', null, 'Decentralization'));
  const idx = await maybe('agora_decentralization', [], [NOT_FOUND]);
  if (!idx) {
    view.append(h('div', { class: 'notfound', field: 'no-epoch' }, 'No epoch has ended yet: the decentralization index is computed at the end of each epoch.'));
    return;
  }
  const hist = await rpc('agora_decentralizationHistory', { limit: 100 });
  const names = (idx.subsystems || []).map((x) => x.name);
  const sel = h('select', { id: 'subsystem', 'aria-label': 'Subsystem' }, names.map((n) => h('option', { value: n }, n)));
  sel.value = names.includes('validators') ? 'validators' : names[0];
  const lorenzBox = h('div', { field: 'lorenz' });
  const showLorenz = async () => {
    const name = sel.value;
    const sub = (idx.subsystems || []).find((x) => x.name === name);
    const dist = await rpc('agora_decentralizationDistribution', { subsystem: name, epoch: idx.epoch });
    const gini = exactValue(sub?.metrics?.gini);
    lorenzBox.replaceChildren(lorenz(dist), h('p', { class: 'muted' }, `Gini ${gini === null ? '–' : gini.toFixed(3)} · ${fmtInt(dist.entities?.length ?? 0)} listed entities${dist.rest_entities ? ` + ${dist.rest_entities} more` : ''} · total weight ${fmtInt(dist.total)}`));
  };
  sel.addEventListener('change', () => showLorenz().catch((e) => lorenzBox.replaceChildren(empty(e.message))));
  await showLorenz();
  const epochs = (hist.epochs || []).slice().sort((a, b) => Number(a.epoch) - Number(b.epoch));
  const head = (idx.headline || []).map((x) =>
    h('tr', null, h('td', null, h('code', null, x.threshold)), h('td', null, x.rule ?? `${x.comparison} ${x.fraction}`), num(x.value ?? '–', { field: `headline-${x.threshold}` }), h('td', null, (x.subsystems || []).join(', '))),
  );
  const subs = (idx.subsystems || []).map((x) => {
    const m = x.metrics || {};
    const bft = (m.nakamoto || []).find((n) => n.name === 'bft_halt');
    const f = (v, d = 3) => {
      const n = exactValue(v);
      return n === null ? '–' : n.toFixed(d);
    };
    return h('tr', null, h('td', null, x.name, x.upper_bound ? ' ' : '', x.upper_bound ? badge('upper bound', 'warn') : null), num(fmtInt(m.entities ?? x.entities)), num(bft?.value ?? '–'), num(f(m.hhi, 0)), num(f(m.gini)), num(f(m.largest_share)));
  });
  view.append(
    h(
      'div',
      { class: 'cards' },
      card('Epoch', fmtInt(idx.epoch), 'epoch'),
      card('Blocks', `${fmtInt(idx.start_height)} – ${fmtInt(idx.end_height)}`),
      card('Nakamoto (≥ 1/3, all subsystems)', String((idx.headline || []).find((x) => x.threshold === 'bft_halt')?.value ?? '–'), 'nakamoto'),
    ),
    h('div', { class: 'grid2' }, panel(null, h('h2', null, 'Lorenz curve of ', sel), lorenzBox), panel('Nakamoto coefficient over epochs', epochs.length ? nakamotoChart(epochs) : empty('No history yet.'))),
    panel('Headline: fewest entities over all subsystems', table(['Threshold', 'Rule', '#Entities', 'Set by'], head)),
    panel('Subsystems', table(['Subsystem', '#Entities', '#Nakamoto ≥ 1/3', '#HHI', '#Gini', '#Largest share'], subs)),
  );
}
