import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { settingsFromContext } from '../lib/context.js';
import { RolloutVerifierStack } from '../lib/rollout-verifier-stack.js';

// Settings come from context: `npx cdk deploy -c clusterName=prod -c alarmEmail=ops@example.com`.
// The stack is environment-agnostic (no lookups): `cdk synth` needs neither credentials nor network.
const app = new App();
const { stackName, verifier } = settingsFromContext(app.node);
new RolloutVerifierStack(app, stackName, { verifier });

// AWS Solutions checks run on every synth; findings fail it unless acknowledged with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
