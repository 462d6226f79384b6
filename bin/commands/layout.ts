/**
 * `tskc layout TEXT`: evaluates a layout written in CuTe notation and shows where each coordinate
 * goes, the quickest way to check a layout by eye.
 */
import { Command } from 'commander';
import {
  ComposedLayout,
  type Layout,
  coalesce,
  parseComposedLayout,
  parseLayout,
} from '../../compiler/layout/index.js';
import type { Io } from '../cli.js';

/** The offsets of a rank-1 or rank-2 layout as a grid: rows are mode 0, columns mode 1. */
export function offsetGrid(l: Layout | ComposedLayout): string {
  const shape = l instanceof ComposedLayout ? l.layout : l;
  const rows = shape.mode(0).size;
  const cols = shape.rank >= 2 ? shape.size / rows : 1;
  const cells = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => String(l.at(i + j * rows))));
  const width = Math.max(...cells.flat().map((c) => c.length));
  return cells.map((row) => row.map((c) => c.padStart(width)).join(' ')).join('\n') + '\n';
}

export function layoutCommand(io: Io): Command {
  return new Command('layout')
    .description('evaluate a layout in CuTe notation, e.g. "(4,8):(8,1)" or "Sw<3,3,3> o (8,64):(64,1)"')
    .argument('<text>', 'the layout')
    .option('--no-grid', 'omit the table of offsets')
    .action((text: string, options: { grid: boolean }) => {
      const l = text.trimStart().startsWith('Sw<') ? parseComposedLayout(text) : parseLayout(text);
      const inner = l instanceof ComposedLayout ? l.layout : l;
      io.out(`layout    ${l}\n`);
      io.out(`size      ${inner.size}\n`);
      io.out(`cosize    ${inner.cosize}${l instanceof ComposedLayout ? ' (before the swizzle)' : ''}\n`);
      io.out(`coalesced ${coalesce(inner)}\n`);
      if (options.grid && inner.rank <= 2 && inner.size <= 4096) io.out(`\n${offsetGrid(l)}`);
    });
}
