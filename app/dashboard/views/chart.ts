/**
 * An SVG chart: bars for calls, a line for money, one point per bucket, each scaled to its own maximum (named in
 * the top corners). The totals it prints and keeps in data-total-calls / data-total-revenue-cents are the sums of
 * the points it drew.
 */
import { dollars } from '../format';

export interface ChartPoint {
  at: number;
  label: string;
  calls: number;
  cents: number;
}

const NS = 'http://www.w3.org/2000/svg';
function el(name: string, attrs: Record<string, string | number>, content?: string): SVGElement {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (content !== undefined) e.textContent = content;
  return e;
}

export function drawChart(svg: SVGSVGElement, points: ChartPoint[], opts: { moneyName: string; first: string; last: string }): void {
  const width = 600;
  const top = 14;
  const bottom = 150;
  const h = bottom - top;
  const n = Math.max(1, points.length);
  const w = width / n;
  const maxCalls = Math.max(1, ...points.map((p) => p.calls));
  const maxCents = Math.max(1, ...points.map((p) => p.cents));
  svg.replaceChildren();
  svg.append(el('line', { x1: 0, x2: width, y1: bottom, y2: bottom, class: 'axis' }));
  points.forEach((p, i) => {
    if (p.calls === 0) return;
    const bh = (p.calls / maxCalls) * h;
    const bar = el('rect', { x: i * w + 1, y: bottom - bh, width: Math.max(1, w - 2), height: bh, class: 'calls' });
    bar.dataset.calls = String(p.calls);
    bar.append(el('title', {}, `${p.label}: ${p.calls} calls, ${dollars(p.cents)}`));
    svg.append(bar);
  });
  svg.append(el('polyline', { points: points.map((p, i) => `${i * w + w / 2},${bottom - (p.cents / maxCents) * h}`).join(' '), class: 'revenue' }));
  const totalCalls = points.reduce((a, p) => a + p.calls, 0);
  const totalCents = points.reduce((a, p) => a + p.cents, 0);
  svg.append(
    el('text', { x: 2, y: 10, class: 'label' }, `max ${Math.max(0, ...points.map((p) => p.calls))} calls`),
    el('text', { x: width - 2, y: 10, class: 'label end' }, `max ${dollars(Math.max(0, ...points.map((p) => p.cents)))}`),
    el('text', { x: 2, y: 164, class: 'label' }, opts.first),
    el('text', { x: width / 2, y: 164, class: 'label middle' }, `${totalCalls} calls, ${dollars(totalCents)} ${opts.moneyName.toLowerCase()}`),
    el('text', { x: width - 2, y: 164, class: 'label end' }, opts.last),
  );
  svg.dataset.totalCalls = String(totalCalls);
  svg.dataset.totalRevenueCents = String(totalCents);
}
