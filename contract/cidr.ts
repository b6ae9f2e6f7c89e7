import { isIP } from 'node:net';

/**
 * A source address block as the webhook's allow-list takes it (`203.0.113.0/24`, `2001:db8::/32`;
 * a bare address is one host). Read by the stack's settings check (lib/) and by the ingest
 * function's (lambdas/), so both accept exactly the same blocks.
 */
export function isCidr(text: string): boolean {
  const [address = '', prefix, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
}
