/**
 * Bundle-time stand-in for `@aws-sdk/credential-provider-node` (esbuild alias, lib/bundling.ts):
 * the SDK's default credential chain reduced to its first link, the environment. In Lambda that
 * link always answers (the runtime sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN for the function's role), so the SSO, INI, process, web-identity and
 * container/instance-metadata links — ≈ 95 KB with their nested STS and SSO clients — never run
 * there. The CLI, tests and tsx runs use the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init = {}) => fromEnv(init);

/** As the package defines them: credentials with an expiration are refreshed 5 minutes ahead. */
export const credentialsWillNeedRefresh = (credentials) => credentials?.expiration !== undefined;
export const credentialsTreatedAsExpired = (credentials) =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
