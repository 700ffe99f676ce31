/** Handler of `reproduce` (engine/paper/paper-protocol.ts). Cheap to import; TF.js and the experiments load on the first call. */
import * as path from 'node:path';
import { reproduceOptionProblems } from '../paper/options';
import { checkParam, type Handler } from './handler';

export const reproduce: Handler<'reproduce'> = async (params, ctx) => {
  checkParam(typeof params.out === 'string' && path.isAbsolute(params.out), 'out must be an absolute folder path');
  const problems = reproduceOptionProblems(params);
  checkParam(problems.length === 0, problems.join('; '));
  await (await import('./engine-backend')).engineBackend();
  const { runReproduce } = await import('../paper/reproduce');
  const t0 = performance.now();
  const { dir, report } = await runReproduce(params, (p) => ctx.progress(p), ctx.signal);
  return {
    dir, markdown: path.join(dir, 'report.md'), json: path.join(dir, 'report.json'), command: report.command,
    seconds: (performance.now() - t0) / 1000,
  };
};
