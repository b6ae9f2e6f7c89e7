import { z } from 'zod';

/**
 * The parts of networking.istio.io objects the router reads, loose: every other field is kept out
 * of the way, and a field of the wrong type is an observation error instead of a crash.
 */

const Destination = z
  .object({
    host: z.string().default(''),
    subset: z.string().nullish(),
    port: z.object({ number: z.number().nullish() }).loose().nullish(),
  })
  .loose();

export const RouteDestination = z
  .object({
    destination: Destination.nullish(),
    weight: z.number().nullish(),
  })
  .loose();
export type RouteDestination = z.infer<typeof RouteDestination>;

const HttpRoute = z
  .object({
    name: z.string().nullish(),
    route: z.array(RouteDestination).nullish(),
  })
  .loose();
export type HttpRoute = z.infer<typeof HttpRoute>;

const L4Match = z
  .object({
    port: z.number().nullish(),
    sniHosts: z.array(z.string()).nullish(),
  })
  .loose();

/** A TLS or TCP route: selected by the port (and SNI hosts) of its match blocks. */
const L4Route = z
  .object({
    match: z.array(L4Match).nullish(),
    route: z.array(RouteDestination).nullish(),
  })
  .loose();
export type L4Route = z.infer<typeof L4Route>;

export const VirtualService = z
  .object({
    spec: z
      .object({
        hosts: z.array(z.string()).nullish(),
        /** Absent or empty: the VirtualService applies to sidecars (the `mesh` gateway) only. */
        gateways: z.array(z.string()).nullish(),
        http: z.array(HttpRoute).nullish(),
        tls: z.array(L4Route).nullish(),
        tcp: z.array(L4Route).nullish(),
      })
      .loose(),
  })
  .loose();
export type VirtualService = z.infer<typeof VirtualService>;

export const DestinationRule = z
  .object({
    spec: z
      .object({
        host: z.string().nullish(),
        subsets: z
          .array(
            z
              .object({
                name: z.string(),
                labels: z.record(z.string(), z.string()).nullish(),
              })
              .loose(),
          )
          .nullish(),
      })
      .loose(),
  })
  .loose();
export type DestinationRule = z.infer<typeof DestinationRule>;

/** The label Argo keeps on each side's pods and writes into the DestinationRule subsets. */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';
