/**
 * The engine method `import` (engine/protocol.ts `EngineMethods`): convert a PyTorch-world checkpoint into a native
 * HRM Lens run folder (engine/interop/import-checkpoint.ts). Types only: this module is bundled into the extension host.
 */

export interface ImportParams {
  /** A torch.save zip (sapientinc/HRM, TRM, the paper's fork) or a safetensors file in the PyTorch key layout. */
  file: string;
  /** The run folder to write (`step-<N>.safetensors` + run.json). */
  out: string;
  /** all_config.yaml (default: the one beside `file`, if any). */
  config?: string;
  /** Attention heads, when no YAML says (shapes cannot tell). */
  heads?: number;
}

export interface ImportSummary {
  /** The native checkpoint written. */
  file: string;
  dir: string;
  source: string;
  sourceFormat: 'torch' | 'safetensors';
  configFile: string | null;
  variant: string;
  gridSize: number;
  hidden: number;
  heads: number;
  numParams: number;
  step: number;
  notes: string[];
}

export interface ImportMethods {
  /** Import a checkpoint; never executes code from the file (restricted pickle reader). */
  import: { params: ImportParams; result: ImportSummary; progress: never };
}
