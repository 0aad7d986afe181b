// The genealogy graph: a layered layout (layer = signed trace depth) and its SVG drawing with clickable nodes.

import { svg } from './dom.js';

/** Fill colours: material items by the mode that made them, everything else by kind. */
export const MODE_COLOURS = { discrete: '#e3ebfb', process: '#f8e9df', repetitive: '#e0f1e7' }; // app.css's mode badges
export const KIND_COLOURS = {
  order: '#ece3f5', serial: '#f5f5fa', lot: '#f1f2f4', pallet: '#f1e4d2', customer: '#f6d9d9',
  unit: '#e3e6ea', location: '#e3e6ea', product: '#eeeeee', asset: '#eeeeee', other: '#eeeeee', more: '#ffffff',
};

export function nodeColour(node) {
  return (node.mode && MODE_COLOURS[node.mode]) || KIND_COLOURS[node.kind] || '#eeeeee';
}

const COL_W = 270;
const NODE_W = 190;
const NODE_H = 38;
const ROW_H = 50;

/**
 * Places `nodes` ({key, layer, ...}) in columns by layer and orders each column by the mean
 * position of its neighbours in the column nearer the root (a barycentre sweep outward from
 * layer 0), which keeps most edges short and uncrossed without a solver.
 * Columns longer than `maxPerLayer` keep their first nodes and end in a `more` node.
 */
export function layout(nodes, edges, { maxPerLayer = 24 } = {}) {
  const byLayer = new Map();
  for (const n of nodes) {
    if (!byLayer.has(n.layer)) byLayer.set(n.layer, []);
    byLayer.get(n.layer).push(n);
  }
  const neighbours = new Map(nodes.map((n) => [n.key, []]));
  for (const e of edges) {
    neighbours.get(e.from)?.push(e.to);
    neighbours.get(e.to)?.push(e.from);
  }
  const pos = new Map();
  const layers = [...byLayer.keys()].sort((a, b) => a - b);
  const hidden = new Set();
  const place = (layer, towardRoot) => {
    const col = byLayer.get(layer);
    const score = (n) => {
      const ps = neighbours.get(n.key).map((k) => pos.get(k)).filter((p) => p && p.layer === towardRoot);
      return ps.length ? ps.reduce((s, p) => s + p.row, 0) / ps.length : Infinity;
    };
    col.sort((a, b) => score(a) - score(b) || a.label.localeCompare(b.label));
    if (col.length > maxPerLayer) {
      const rest = col.splice(maxPerLayer - 1);
      for (const n of rest) hidden.add(n.key);
      col.push({ key: `more:${layer}`, label: `+${rest.length} more`, kind: 'more', layer, more: rest.length });
    }
    col.forEach((n, row) => pos.set(n.key, { layer, row }));
  };
  if (byLayer.has(0)) place(0, 0);
  for (const l of layers.filter((l) => l > 0)) place(l, l - 1);
  for (const l of layers.filter((l) => l < 0).reverse()) place(l, l + 1);
  for (const l of layers) if (!byLayer.get(l).every((n) => pos.has(n.key))) place(l, l);

  const tallest = Math.max(1, ...layers.map((l) => byLayer.get(l).length));
  const minLayer = layers[0] ?? 0;
  const height = tallest * ROW_H + 30;
  const placed = [];
  for (const l of layers) {
    const col = byLayer.get(l);
    // Columns hang from the top so the root stays in view when the far side is hundreds tall;
    // short columns are centred within the first screenful instead.
    const top = Math.max(0, (Math.min(height, 12 * ROW_H) - col.length * ROW_H) / 2);
    col.forEach((n, row) => {
      placed.push({ ...n, x: (l - minLayer) * COL_W + 20, y: top + row * ROW_H + (ROW_H - NODE_H) / 2 });
    });
  }
  const at = new Map(placed.map((n) => [n.key, n]));
  const layerOf = new Map(nodes.map((n) => [n.key, n.layer]));
  // Edges into a collapsed node go to its column's `more` node, once each.
  const seen = new Set();
  const shown = [];
  for (const e of edges) {
    const from = hidden.has(e.from) ? `more:${layerOf.get(e.from)}` : e.from;
    const to = hidden.has(e.to) ? `more:${layerOf.get(e.to)}` : e.to;
    if (!at.has(from) || !at.has(to) || seen.has(`${from}>${to}`)) continue;
    seen.add(`${from}>${to}`);
    shown.push(from === e.from && to === e.to ? e : { from, to });
  }
  return {
    nodes: placed,
    edges: shown,
    width: layers.length * COL_W - (COL_W - NODE_W) + 40,
    height,
    hidden: hidden.size,
  };
}

function clip(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Draws a laid-out graph into `host`. opts: { rootKey, onSelect(node), title(node) → string }.
 * Each node is a `<g data-test="graph-node" data-id="…">`; edges are left-to-right, the way
 * the material went.
 */
export function drawGraph(host, g, opts = {}) {
  const root = svg('svg', {
    viewBox: `0 0 ${g.width} ${g.height}`, width: g.width, height: g.height,
    class: 'genealogy-graph', 'data-test': 'genealogy-graph', 'font-size': 11,
  });
  const defs = svg('defs');
  const marker = svg('marker', { id: 'gg-arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svg('path', { d: 'M0,0L10,5L0,10z', fill: '#8a94a0' }));
  defs.append(marker);
  root.append(defs);
  const at = new Map(g.nodes.map((n) => [n.key, n]));
  const edgeLayer = svg('g', { class: 'edges' });
  const labelLayer = svg('g', { class: 'edge-labels' });
  const outs = new Map();
  for (const e of g.edges) outs.set(e.from, (outs.get(e.from) || 0) + 1);
  for (const e of g.edges) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_H / 2;
    const mx = (x1 + x2) / 2;
    edgeLayer.append(svg('path', {
      d: `M${x1},${y1}C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`, fill: 'none', stroke: '#a3acb6',
      'stroke-width': 1.2, 'marker-end': 'url(#gg-arrow)', class: `edge ${e.kind || ''}`, 'data-test': 'graph-edge',
    }));
    if (e.label) {
      // Fan-out edges share their start and fan-in edges their end: label the end that is their own.
      const nearTarget = (outs.get(e.from) || 0) > 1;
      const t = svg('text', {
        x: nearTarget ? x2 - 10 : x1 + 6, y: (nearTarget ? y2 : y1) - 4, 'text-anchor': nearTarget ? 'end' : 'start',
        fill: '#4a5560', stroke: '#fff', 'stroke-width': 3, 'paint-order': 'stroke', class: 'edge-label', 'data-test': 'edge-label',
      }, e.label);
      labelLayer.append(t);
    }
  }
  root.append(edgeLayer);
  const nodeLayer = svg('g', { class: 'nodes' });
  for (const n of g.nodes) {
    const isRoot = n.key === opts.rootKey;
    const node = svg('g', {
      class: `node kind-${n.kind}${isRoot ? ' root' : ''}`, transform: `translate(${n.x},${n.y})`,
      'data-test': n.kind === 'more' ? 'graph-more' : n.group ? 'graph-group' : 'graph-node', 'data-id': n.id || '', 'data-kind': n.kind,
      tabindex: n.kind === 'more' ? null : 0, role: n.kind === 'more' ? null : 'button',
      style: n.kind === 'more' ? null : 'cursor:pointer',
    });
    node.append(svg('rect', {
      width: NODE_W, height: NODE_H, rx: 6, fill: nodeColour(n),
      stroke: isRoot ? '#1d3f6e' : '#9aa3ad', 'stroke-width': isRoot ? 2.5 : 1,
      'stroke-dasharray': n.kind === 'more' ? '4 3' : null,
    }));
    node.append(svg('text', { x: 8, y: 15, 'font-weight': 600, fill: '#1f2933' }, clip(n.label, 24)));
    if (n.kind !== 'more') {
      node.append(svg('text', { x: 8, y: 30, fill: '#5b6470' }, clip([n.kind, n.mode, n.sub].filter(Boolean).join(' · '), 32)));
      node.append(svg('title', {}, opts.title ? opts.title(n) : n.id));
      const pick = () => opts.onSelect && opts.onSelect(n);
      node.addEventListener('click', pick);
      node.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(); } });
    }
    nodeLayer.append(node);
  }
  root.append(nodeLayer);
  root.append(labelLayer);
  host.replaceChildren(root);
  return root;
}
