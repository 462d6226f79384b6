/**
 * A bar chart as an SVG file, for the benchmark scripts: one panel per unit (GB/s, GFLOP/s), a pair of
 * bars per benchmark (tskc, and the peer measured in the same run), and a dashed line at the machine's
 * limit where there is one (the copy bandwidth). No dependencies: the SVG is written as text.
 */

export interface Bar {
  readonly label: string;
  readonly ours: number;
  /** NaN where the peer could not run: the bar is left out. */
  readonly peer: number;
}

export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly Bar[];
  /** A vertical line: the physical limit the bars are measured against. */
  readonly limit?: { readonly label: string; readonly value: number };
}

const WIDTH = 1000;
const LABEL_WIDTH = 440;
const ROW = 34;
const HEADER = 48;
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function panelSvg(p: Panel, top: number, peerName: string): { svg: string; height: number } {
  const plotWidth = WIDTH - LABEL_WIDTH - 90;
  const max = Math.max(...p.bars.flatMap((b) => [b.ours, b.peer]).filter(Number.isFinite), p.limit?.value ?? 0) || 1;
  const x = (v: number) => LABEL_WIDTH + (v / max) * plotWidth;
  const parts = [`<text x="10" y="${top + 22}" font-size="16" font-weight="bold">${escape(p.title)} (${escape(p.unit)})</text>`];
  p.bars.forEach((b, i) => {
    const y = top + HEADER + i * ROW;
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${y + 18}" font-size="11" text-anchor="end">${escape(b.label)}</text>`);
    parts.push(`<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${(x(b.ours) - LABEL_WIDTH).toFixed(1)}" height="12" fill="#2b6cb0"/>`);
    parts.push(`<text x="${(x(b.ours) + 4).toFixed(1)}" y="${y + 13}" font-size="10">${b.ours.toFixed(1)}</text>`);
    if (!Number.isFinite(b.peer)) {
      parts.push(`<text x="${LABEL_WIDTH + 4}" y="${y + 26}" font-size="10">no peer</text>`);
      return;
    }
    parts.push(`<rect x="${LABEL_WIDTH}" y="${y + 16}" width="${(x(b.peer) - LABEL_WIDTH).toFixed(1)}" height="12" fill="#a0aec0"/>`);
    parts.push(`<text x="${(x(b.peer) + 4).toFixed(1)}" y="${y + 26}" font-size="10">${b.peer.toFixed(1)}</text>`);
  });
  const bottom = top + HEADER + p.bars.length * ROW;
  if (p.limit) {
    const lx = x(p.limit.value).toFixed(1);
    parts.push(`<line x1="${lx}" y1="${top + HEADER - 8}" x2="${lx}" y2="${bottom}" stroke="#c53030" stroke-dasharray="5,4"/>`);
    parts.push(`<text x="${lx}" y="${top + HEADER - 12}" font-size="11" fill="#c53030" text-anchor="middle">${escape(p.limit.label)} ${p.limit.value.toFixed(1)}</text>`);
  }
  parts.push(`<text x="${LABEL_WIDTH}" y="${bottom + 16}" font-size="11"><tspan fill="#2b6cb0">■ tskc</tspan>  <tspan fill="#718096">■ ${escape(peerName)}</tspan></text>`);
  return { svg: parts.join('\n'), height: bottom + 30 - top };
}

/** The panels stacked in one SVG document. */
export function barChartSvg(panels: readonly Panel[], peerName: string, caption: string): string {
  let top = 0;
  const bodies = panels.map((p) => {
    const { svg, height } = panelSvg(p, top, peerName);
    top += height;
    return svg;
  });
  const height = top + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    ...bodies,
    `<text x="10" y="${height - 8}" font-size="11" fill="#4a5568">${escape(caption)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
