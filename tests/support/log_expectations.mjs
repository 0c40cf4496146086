// How Cablecast's log must describe each ignored client mistake. Tests assert that exactly such a
// line appears after the offending frame. Kept in one place so the wording can be aligned with
// the server in one edit; the patterns are deliberately lenient (several phrasings accepted).
// And what a log must never contain: assertNoSecretsLogged.
import assert from 'node:assert/strict';

export const LOG = {
  malformedJson: /malformed|not valid json|invalid json|parse error|could not parse/i,
  notAnObject: /not an? (json )?object|must be an? object|malformed/i,
  unknownCommand: /unknown command|unrecognized command/i,
  unsubscribeUnknown: /not subscribed|unknown subscription|unable to find subscription/i,
  messageNotSubscribed: /not subscribed|unknown subscription|unable to find subscription/i,
  missingAction: /missing action|no action|unknown action|unable to process/i,
  unknownAction: /unknown action|unable to process/i,
  dataNotString: /"?data"? (is|must be|should be) (not )?a string|not a string/i,
  duplicateSubscribe: /already subscribed|duplicate/i,
  unknownChannel: /unknown channel|channel not found|subscription class not found/i,
};

/**
 * Fails unless every server logged at debug level and no line of any of their logs holds one of
 * `secrets` (keys, tokens, signed names: anything that is a credential).
 */
export function assertNoSecretsLogged(servers, secrets) {
  assert.ok(servers.length > 0);
  for (const server of servers) {
    assert.ok(server.logs.some((l) => / debug /.test(l)), 'the server logged at debug level');
    for (const line of server.logs) {
      for (const secret of secrets) assert.ok(!line.includes(secret), `a log line reveals a secret: ${line}`);
    }
  }
}
