// Stream names signed by the real ActiveSupport::MessageVerifier (tests/support/rails_signing.rb,
// Debian's ruby-activesupport), as a Rails app signs them for `$pubsub` and Turbo Streams.
import {execFile} from 'node:child_process';
import path from 'node:path';
import {promisify} from 'node:util';
import {repoRoot} from './paths.mjs';

const run = promisify(execFile);
const script = path.join(repoRoot, 'tests', 'support', 'rails_signing.rb');

/** Runs the requests of rails_signing.rb in one Ruby process; resolves with their results. */
export async function railsSigning(requests) {
  const {stdout} = await run('ruby', [script, JSON.stringify(requests)], {timeout: 30000});
  const results = JSON.parse(stdout);
  if (!Array.isArray(results) || results.length !== requests.length) {
    throw new Error(`rails_signing.rb answered ${stdout}`);
  }
  return results;
}

/** A key string as the hex rails_signing.rb's "sign" requests take. */
export const hexKey = (key) => Buffer.from(key, 'utf8').toString('hex');

/**
 * `signed`'s digest under another payload: the name `name` encoded as Rails encodes it. What a
 * client holding one signed name sends to reach another stream.
 */
export function withPayload(signed, name) {
  const digest = signed.slice(signed.lastIndexOf('--'));
  return Buffer.from(JSON.stringify(name), 'utf8').toString('base64') + digest;
}
