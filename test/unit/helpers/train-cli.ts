/**
 * Running `hrm-lens` as a child process (the CLI through tsx) and reading what a training wrote: metrics.jsonl records
 * and checkpoint tensors.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readSafetensors, type SafeTensor } from '../../../engine/interop/safetensors';

const root = path.resolve(__dirname, '..', '..', '..');

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** `hrm-lens <args>`, resolved when it exits. */
export function hrmLens(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'engine', 'cli.ts'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export interface MetricsLine { step: number; loss: number; lmLoss: number; qHaltLoss: number; qContinueLoss: number; halted: number; [key: string]: unknown }

export function metricsOf(dir: string): MetricsLine[] {
  return readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as MetricsLine);
}

export async function tensorsOf(file: string): Promise<{ tensors: Map<string, SafeTensor>; metadata: Record<string, string> }> {
  return readSafetensors(file);
}

/** Largest |a − b| over two tensors of the same name and size (Infinity when the shapes differ). */
export function maxAbsDiff(a: SafeTensor, b: SafeTensor): number {
  if (a.data.length !== b.data.length || a.shape.join(',') !== b.shape.join(',')) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return worst;
}

/** Largest |x| of a tensor. */
export function maxAbs(a: SafeTensor): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(Number(a.data[i])));
  return m;
}
