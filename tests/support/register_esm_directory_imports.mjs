// `node --import ./tests/support/register_esm_directory_imports.mjs app.mjs`: installs the
// directory-import hook (esm_directory_imports.mjs) before app.mjs and its imports resolve.
import {register} from 'node:module';

register('./esm_directory_imports.mjs', import.meta.url);
