// Where things are: the checkout, the built exporter.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const MAIN_JS = join(REPO_ROOT, 'dist', 'main.js');
