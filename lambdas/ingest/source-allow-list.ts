import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { isCidr } from '../../contract/cidr.js';
import { commaSeparated } from '../shared/environment.js';

/**
 * The source addresses the webhook answers at all (`ALLOWED_SOURCE_CIDRS`, e.g. the clusters' NAT
 * gateway addresses), checked before anything else: a request from elsewhere costs no token
 * comparison, no Secrets Manager read and no log line above DEBUG. It still costs an invocation:
 * only a front before Lambda (the REST API front's resource policy) keeps such a flood away from
 * the function's concurrency (docs/security.md).
 */
export class SourceAllowList {
  private readonly list = new BlockList();

  constructor(readonly cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const [address = '', prefix] = cidr.split('/');
      const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      this.list.addSubnet(address, Number(prefix ?? (family === 'ipv6' ? 128 : 32)), family);
    }
  }

  allows(sourceIp: string | undefined): boolean {
    if (sourceIp === undefined) return false;
    const family = isIP(sourceIp);
    if (family === 0) return false;
    return this.list.check(sourceIp, family === 6 ? 'ipv6' : 'ipv4');
  }
}

const Cidr = z.string().refine(isCidr, 'must be CIDR blocks such as 203.0.113.0/24 or 2001:db8::/32');

/** `ALLOWED_SOURCE_CIDRS`: comma-separated; unset or empty: any source. */
export const AllowedSourceCidrs = commaSeparated(Cidr);
