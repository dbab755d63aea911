// Builds the dashboard (app/dashboard) into dist/dashboard, served by the app at /dashboard/.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));

export default {
  root: here,
  base: '/dashboard/',
  logLevel: 'warn',
  build: { outDir: path.join(here, '..', '..', 'dist', 'dashboard'), emptyOutDir: true, sourcemap: true },
};
