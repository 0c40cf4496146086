// Makes and checks JWTs with the real libraries AnyCable apps use (npm `jose`, and
// `@anycable/serverless-js`' identificator): tests/unit/auth runs it as a script (our verifier
// must accept what they sign and they must accept what we sign); the integration tests import
// jwtRequest() to make the tokens their clients present. Script usage:
//   node jwt_tokens.mjs '<JSON array of requests>'   -> prints a JSON array of results:
//   {"op":"sign","alg":"HS256","secret":"…","claims":{…},"exp":<unix s>|"2h"}  -> token
//   {"op":"identificator","secret":"…","exp":<unix s>|"1h","identifiers":{…}}  -> token
//   {"op":"verify","secret":"…","token":"…"}  -> the payload jose verified, or {"error": code}
//   {"op":"unsecured","claims":{…}}  -> an alg "none" token (jose's UnsecuredJWT)
import * as jose from 'jose';
import {realpathSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

// The package's index re-exports directories ('./rpc'), which Node's ESM loader refuses (it was
// built for bundlers); its jwt module alone loads fine, so import that file directly.
const {identificator} =
    await import(new URL('./jwt/index.js', import.meta.resolve('@anycable/serverless-js')));

const key = (secret) => new TextEncoder().encode(secret);

/** One request as above; resolves with its result. */
export async function jwtRequest(request) {
  switch (request.op) {
    case 'sign': {
      let jwt = new jose.SignJWT(request.claims).setProtectedHeader({alg: request.alg});
      if (request.exp !== undefined) jwt = jwt.setExpirationTime(request.exp);
      return jwt.sign(key(request.secret));
    }
    case 'identificator':
      return identificator(request.secret, request.exp).generateToken(request.identifiers);
    case 'unsecured':
      return new jose.UnsecuredJWT(request.claims).encode();
    case 'verify':
      try {
        return (await jose.jwtVerify(request.token, key(request.secret))).payload;
      } catch (error) {
        return {error: error.code};
      }
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

// Run as a script (Node resolves the main module's symlinks; argv[1] keeps them).
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = [];
  for (const request of JSON.parse(process.argv[2])) results.push(await jwtRequest(request));
  console.log(JSON.stringify(results));
}
