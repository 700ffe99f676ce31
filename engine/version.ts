/**
 * The HRM Lens version, read from package.json (the one place it is written): `hrm-lens --version`, the extension's
 * "About HRM Lens". Bundled by esbuild, which keeps only this field of the JSON.
 */
import { version } from '../package.json';

export const VERSION: string = version;
