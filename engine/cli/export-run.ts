/** The action of `hrm-lens export` (loaded on demand). */
import { type OfficialDtype, exportFormat, exportOfficial } from '../interop/export-official';

export interface ExportFlags {
  format: string; checkpoint?: string; out?: string; dtype: string; compiled?: boolean; json?: boolean;
}

export async function runExport(run: string, flags: ExportFlags): Promise<void> {
  exportFormat(flags.format, run);
  const r = await exportOfficial(run, {
    checkpoint: flags.checkpoint, out: flags.out, dtype: flags.dtype as OfficialDtype, compiled: flags.compiled === true,
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const c = r.config;
  process.stdout.write(`${r.source} (step ${r.step})\n`
    + `  → ${r.file} (${r.keys.length} tensors under ${r.prefix}, ${r.dtype}, ${(r.bytes / 2 ** 20).toFixed(2)} MiB)\n`
    + `  → ${r.configFile}\n`
    + `  ${r.variant.toUpperCase()} ${c.gridSize}×${c.gridSize}, hidden ${c.hidden}, heads ${c.heads}, layers H${c.H_layers}/L${c.L_layers}, `
    + `cycles H${c.H_cycles}×L${c.L_cycles}, ${c.positions}, SwiGLU ${r.swiglu.written}${r.swiglu.written !== r.swiglu.inter ? ` (${r.swiglu.inter} + zero padding)` : ''}\n`);
  for (const n of r.notes) process.stdout.write(`  note: ${n}\n`);
}
