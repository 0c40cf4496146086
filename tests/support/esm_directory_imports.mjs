// A Node module-resolution hook (registered with `module.register`, see
// serverless_backend.mjs) that lets ES modules import a directory: `from '../rpc'` is retried as
// `'../rpc/index.js'` when Node refuses it with ERR_UNSUPPORTED_DIR_IMPORT. @anycable/serverless-js
// ships its dist/ like that (it is written for bundlers), so plain Node cannot load it without
// this. Every other specifier resolves exactly as Node would.
//
// To load such a package yourself:
//   import {register} from 'node:module';
//   register('./esm_directory_imports.mjs', import.meta.url);   // path relative to your file
//   const pkg = await import('some-package');                   // a dynamic import, after it
// or start Node with `--import <this folder>/register_esm_directory_imports.mjs`.
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_UNSUPPORTED_DIR_IMPORT') throw error;
    return nextResolve(`${specifier}/index.js`, context);
  }
}
