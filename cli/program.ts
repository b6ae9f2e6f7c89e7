import { Command, CommanderError, Option } from 'commander';
import { ClusterApis } from '../lambdas/core/cluster/cluster-apis.js';
import { ClusterConnections } from '../lambdas/core/cluster/connections.js';
import type { KubeApiForCluster } from '../lambdas/core/cluster/kube-api.js';
import { HttpsKubeApi } from '../lambdas/core/cluster/kube-client.js';
import type { RolloutEventDetail } from '../lambdas/core/contracts/rollout-event.js';
import type { VerdictEventDetail } from '../lambdas/core/contracts/verdict-event.js';
import { currentRolloutReader } from '../lambdas/core/current-rollout.js';
import { createElbApi } from '../lambdas/core/routers/alb/client.js';
import { createRouters, type Routers } from '../lambdas/core/routers/index.js';
import { unverifiableReason, verifyRollout } from '../lambdas/core/verify.js';
import { parseDurationSeconds } from './duration.js';
import { eventFromFlags, readEventFile, type VerifyFlags } from './event-input.js';
import { type HistoryOptions, historyCommand } from './history-command.js';
import { endpointFromKubeconfig } from './kubeconfig.js';
import { LiveRolloutUnreadable, readLiveRollout } from './live-rollout.js';
import { type NormalizeOptions, normalizeCommand } from './normalize-command.js';
import {
  type ObservedFlags,
  observedSettings,
  observeServedTraffic,
  renderTrafficObserved,
} from './observed.js';
import { progressLine, renderVerdict } from './render.js';
import { UsageError } from './usage-error.js';
import { packageVersion } from './version.js';

export const EXIT = { Succeeded: 0, Failed: 1, Inconclusive: 2, usage: 64 } as const;

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  stdin?: NodeJS.ReadableStream;
}

interface VerifyOptions extends VerifyFlags, ObservedFlags {
  event?: string;
  kubeconfig?: string;
  context?: string;
  eksAuth?: boolean;
  timeout?: string;
  json?: boolean;
  region?: string;
  endpointUrl?: string;
}

/** Runs one command line and resolves to the process exit code; never calls process.exit itself. */
export async function runCli(argv: string[], io: CliIo = process): Promise<number> {
  let exitCode: number = EXIT.usage;
  const program = new Command('rollout-verifier')
    .description(
      'Verify that the load balancer really carries the traffic split an Argo Rollouts step expects.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });

  program
    .command('verify')
    .description('observe the ALB until it matches the expected state or the timeout passes')
    .option(
      '--event <file|->',
      'an Argo notification body, a normalized rollout event, or the whole EventBridge event',
    )
    .option(
      '--rollout <namespace/name>',
      'the rollout: alone, read from the cluster (kubeconfig or --eks-auth) and verified as it is now; with --canary-weight, the flags form',
    )
    .option('--canary-weight <n>', 'expected canary weight')
    .option('--stable-weight <n>', 'expected stable weight (default: max weight − canary weight)')
    .option('--max-weight <n>', 'trafficRouting.maxTrafficWeight', '100')
    .option('--step <n>', 'step index, for the report', '0')
    .option(
      '--min-healthy-canary-targets <n>',
      'healthy canary targets required while it carries weight (default 1)',
    )
    .option('--load-balancer-arn <arn>', 'skip discovery: the load balancer')
    .option('--canary-target-group-arn <arn>', 'skip discovery: the canary target group')
    .option('--stable-target-group-arn <arn>', 'skip discovery: the stable target group')
    .option('--cluster <name>', 'EKS cluster name, to find the load balancer the controller created')
    .option('--ingress <name...>', 'ingress name(s) in the rollout namespace (default: the rollout name)')
    .option('--stable-service <name>', 'stable Service (default: the rollout name)')
    .option('--canary-service <name>', 'canary Service (default: <rollout>-canary)')
    .option('--service-port <port>', 'trafficRouting.alb.servicePort', '80')
    .option(
      '--timeout <duration>',
      "deadline: seconds or a duration such as 30s, 2m (default: the event's, else 30s)",
    )
    .option(
      '--kubeconfig <file>',
      'kubeconfig for the cluster API (Istio/Ambassador routes; with ALB, EndpointSlices vs registered targets). Default: $KUBECONFIG, ~/.kube/config',
    )
    .option('--context <name>', 'kubeconfig context (default: its current-context)')
    .option(
      '--eks-auth',
      'reach the --cluster EKS cluster with eks:DescribeCluster and your AWS credentials instead of a kubeconfig',
    )
    .option('--region <region>', 'AWS region (default: the AWS SDK credential chain / AWS_REGION)')
    .option('--endpoint-url <url>', 'ELBv2 endpoint (AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 also works)')
    .addOption(new Option('--json', 'print exactly the verdict event detail as JSON'))
    .option(
      '--observed [window]',
      'after a Succeeded ALB verdict, judge the split the ALB served over the last window of published CloudWatch minutes (default 5m; docs/traffic-observed.md)',
    )
    .option(
      '--tolerance <points>',
      'with --observed: share points the 95 % interval may miss the weight by (default 5)',
    )
    .option('--min-requests <n>', 'with --observed: never judge fewer requests (default 100)')
    .option(
      '--publication-delay <duration>',
      'with --observed: how long CloudWatch takes to publish a minute (default 3m)',
    )
    .option(
      '--cloudwatch-endpoint-url <url>',
      'with --observed: CloudWatch endpoint (AWS_ENDPOINT_URL_CLOUDWATCH also works)',
    )
    .action(async (options: VerifyOptions) => {
      exitCode = await verifyCommand(options, io);
    });

  program
    .command('normalize')
    .description(
      'print the rollout event the ingest endpoint makes of a notification body, or exactly why it rejects it',
    )
    .requiredOption(
      '--body <file|->',
      'the notification body Argo posts ({"trigger", "rollout"}); - reads stdin',
    )
    .option(
      '--cluster <name>',
      'cluster name to stamp on the event (the endpoint: ?cluster= or CLUSTER_NAME)',
    )
    .action(async (options: NormalizeOptions) => {
      exitCode = await normalizeCommand(options, io);
    });

  program
    .command('history')
    .description("print a rollout's kept verdicts, oldest first, from the history table or the analysis gate")
    .argument('<namespace/name>', 'the rollout')
    .option('--revision <n>', 'only this revision (rollout.argoproj.io/revision)')
    .option('--cluster <name>', 'the cluster the rollout runs in (as the webhook names it: ?cluster=)')
    .option(
      '--table <name>',
      'the verdict history table (stack output HistoryTableName), read with your AWS credentials',
    )
    .option('--url <url>', 'the analysis gate URL (stack output AnalysisGateUrl), instead of --table')
    .option(
      '--token-file <file>',
      "with --url: the cluster's webhook token (default: $ROLLOUT_VERIFIER_TOKEN)",
    )
    .option(
      '--region <region>',
      'AWS region of the table (default: the AWS SDK credential chain / AWS_REGION)',
    )
    .option('--endpoint-url <url>', 'DynamoDB endpoint (AWS_ENDPOINT_URL_DYNAMODB also works)')
    .addOption(new Option('--json', 'print {"rollout", "entries": [{source, recordedAt, verdict}]} as JSON'))
    .action(async (rollout: string, options: HistoryOptions) => {
      exitCode = await historyCommand(rollout, options, io);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : EXIT.usage;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`rollout-verifier: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}

async function verifyCommand(options: VerifyOptions, io: CliIo): Promise<number> {
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const observed = observedSettings(options);
  // --rollout without an expected weight: the Rollout is read from the cluster, as it is now.
  const readsLive =
    options.event === undefined && options.rollout !== undefined && options.canaryWeight === undefined;
  const liveAccess = readsLive ? connectCluster(options, options.cluster, region) : undefined;
  let event: RolloutEventDetail;
  try {
    event = liveAccess
      ? await readLiveRollout(liveAccess.forCluster, options.cluster, options.rollout ?? '')
      : await eventOf(options, io);
  } catch (error) {
    liveAccess?.close();
    if (!(error instanceof LiveRolloutUnreadable)) throw error;
    io.stderr.write(`rollout-verifier: ${error.message}\n`);
    return EXIT.Inconclusive;
  }
  const timeoutSeconds = options.timeout === undefined ? undefined : parseDurationSeconds(options.timeout);
  if (
    options.timeout !== undefined &&
    (timeoutSeconds === undefined || timeoutSeconds < 1 || timeoutSeconds > 900)
  ) {
    throw new UsageError(
      `--timeout: "${options.timeout}" is not a duration between 1s and 15m (e.g. 45, 30s, 2m)`,
    );
  }
  const cluster = liveAccess ?? clusterAccess(options, event, region);
  try {
    const routers = await routersFor(event, options, region, cluster?.forCluster);
    const unverifiable = unverifiableReason(event, routers);
    if (unverifiable) throw new UsageError(`nothing to verify: ${unverifiable}`);

    const progress = Boolean(io.stderr.isTTY) && !options.json;
    const verdict = await verifyRollout(
      timeoutSeconds === undefined ? event : { ...event, deadlineSeconds: timeoutSeconds },
      routers,
      {
        onAttempt: progress ? (attempt) => io.stderr.write(`\r\x1b[2K${progressLine(attempt)}`) : undefined,
        // With the cluster at hand, a rollout that moved on is told from one whose traffic is wrong.
        ...(cluster ? { currentRollout: currentRolloutReader(cluster.forCluster) } : {}),
      },
    );
    if (progress) io.stderr.write('\r\x1b[2K');
    if (observed) return await reportObserved(verdict, observed, options, region, io);
    io.stdout.write(options.json ? `${JSON.stringify(verdict, null, 2)}\n` : `${renderVerdict(verdict)}\n`);
    return EXIT[verdict.verdict];
  } finally {
    // Keep-alive connections to the cluster would keep the process running.
    cluster?.close();
  }
}

/**
 * `--observed`: the configuration verdict, then — when it Succeeded — the served split. The exit
 * code is the configuration verdict's unless it Succeeded, then the traffic look's; `--json`
 * prints `{ verdict, trafficObserved }` (trafficObserved absent when there was no look).
 */
async function reportObserved(
  verdict: VerdictEventDetail,
  settings: NonNullable<ReturnType<typeof observedSettings>>,
  options: VerifyOptions,
  region: string | undefined,
  io: CliIo,
): Promise<number> {
  const look =
    verdict.verdict === 'Succeeded'
      ? await observeServedTraffic(verdict, settings, { region, endpoint: options.cloudwatchEndpointUrl })
      : `the configuration verdict is ${verdict.verdict}`;
  const trafficObserved = typeof look === 'string' ? undefined : look;
  if (options.json) {
    io.stdout.write(
      `${JSON.stringify({ verdict, ...(trafficObserved ? { trafficObserved } : {}) }, null, 2)}\n`,
    );
  } else {
    io.stdout.write(`${renderVerdict(verdict)}\n\n`);
    io.stdout.write(
      trafficObserved ? `${renderTrafficObserved(trafficObserved)}\n` : `no traffic look: ${look}\n`,
    );
  }
  if (verdict.verdict !== 'Succeeded') return EXIT[verdict.verdict];
  return trafficObserved ? EXIT[trafficObserved.verdict] : EXIT.Inconclusive;
}

/**
 * The cluster API, when the rollout's routes live there (Istio, Ambassador) or the operator asked
 * for it (kubeconfig flags, --eks-auth: then ALB verifications also compare registrations with
 * EndpointSlices). Connected lazily, on the first read.
 */
function clusterAccess(
  options: VerifyOptions,
  event: RolloutEventDetail,
  region: string | undefined,
): ClusterAccess | undefined {
  const asked = options.kubeconfig !== undefined || options.context !== undefined || options.eksAuth === true;
  if (!asked && event.traffic.router !== 'istio' && event.traffic.router !== 'ambassador') return undefined;
  return connectCluster(options, event.cluster, region);
}

interface ClusterAccess {
  forCluster: KubeApiForCluster;
  close(): void;
}

/** Through EKS (--eks-auth: eks:DescribeCluster and a signed token) or the kubeconfig. */
function connectCluster(
  options: VerifyOptions,
  cluster: string | undefined,
  region: string | undefined,
): ClusterAccess {
  if (options.eksAuth) {
    if (!cluster) throw new UsageError('--eks-auth needs --cluster <EKS cluster name>');
    const apis = new ClusterApis(new ClusterConnections({ region }), [cluster]);
    return { forCluster: apis.forCluster, close: () => apis.close() };
  }
  let api: Promise<HttpsKubeApi> | undefined;
  return {
    forCluster: () => {
      api ??= endpointFromKubeconfig({ path: options.kubeconfig, context: options.context }).then(
        (endpoint) => new HttpsKubeApi(endpoint),
      );
      return api;
    },
    close: () =>
      void api?.then(
        (client) => client.close(),
        () => undefined,
      ),
  };
}

async function routersFor(
  event: RolloutEventDetail,
  options: VerifyOptions,
  region: string | undefined,
  forCluster: KubeApiForCluster | undefined,
): Promise<Routers> {
  // Constructing the client calls nothing: a mesh rollout needs no AWS region.
  const elb = createElbApi({ region, endpoint: options.endpointUrl });
  if (event.traffic.router === 'alb') {
    try {
      await elb.region();
    } catch {
      throw new UsageError('no AWS region: pass --region or set AWS_REGION');
    }
  }
  return createRouters({ elb, kubeFor: forCluster });
}

async function eventOf(options: VerifyOptions, io: CliIo): Promise<RolloutEventDetail> {
  if (options.event !== undefined) {
    if (options.rollout || options.canaryWeight) {
      throw new UsageError('--event and the flags form (--rollout, --canary-weight…) exclude each other');
    }
    return await readEventFile(options.event, io.stdin, options.cluster);
  }
  return eventFromFlags(options);
}
