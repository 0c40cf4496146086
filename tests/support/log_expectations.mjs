// How Cablecast's log must describe each ignored client mistake. Tests assert that exactly such a
// line appears after the offending frame. Kept in one place so the wording can be aligned with
// the server in one edit; the patterns are deliberately lenient (several phrasings accepted).
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
