/** Where an ingress's traffic split lives on AWS: found once, then re-read cheaply by ARN. */
export interface AlbTopology {
  /** `namespace/ingress`. */
  ingress: string;
  loadBalancerArn: string;
  loadBalancerName: string;
  stableTargetGroupArn: string;
  canaryTargetGroupArn?: string;
  /** Every listener rule (all listeners, default rules included) forwarding to either side. */
  rules: AlbRuleRef[];
  /** ELBv2 requests discovery spent. */
  discoveryRequests: number;
}

export interface AlbRuleRef {
  ruleArn: string;
  description: string;
}

/**
 * Discovery results per warm container. Rule and target group ARNs survive weight changes (the
 * controller modifies rules in place), so entries live until a NotFound says otherwise; the TTL
 * bounds how long a newly added listener can go unseen.
 */
export class TopologyCache {
  private readonly entries = new Map<string, { topology: AlbTopology; expiresAt: number }>();

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): AlbTopology | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.topology;
  }

  set(key: string, topology: AlbTopology): void {
    this.entries.set(key, { topology, expiresAt: this.now() + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
