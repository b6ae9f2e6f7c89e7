/**
 * What moto (the pinned version) lacks or does differently from AWS for what the lab needs, each
 * found in a run and handled by the smallest stand-in for that part only. Printed with every run.
 */
export const MOTO_GAPS = [
  {
    api: 'EventBridge PutEvents → rule target (SQS)',
    gap:
      'the event delivered to a target has no "account" field: moto/events/utils.py ' +
      'EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE leaves it out (its paths map has it); AWS always sends it ' +
      "and Powertools' EventBridge envelope rejects an event without it",
    handling: "the lab's dispatcher restores account (moto's account id) before invoking the function",
  },
  {
    api: 'EventBridge rule target arn:aws:lambda:…',
    gap: 'moto delivers to log groups, archives, SQS, other buses and API destinations only (moto/events/models.py Rule.send_to_targets); its Lambda needs Docker',
    handling:
      'the rules target SQS queues and a dispatcher invokes the bundled functions (stand-in for Lambda async invocation)',
  },
  {
    api: 'ELBv2 DescribeTargetHealth',
    gap: 'a registered IP target is "healthy" at once: moto runs no health checks (AWS: "initial" for 5 checks × 30 s by default)',
    handling:
      'none: scenarios about unhealthy targets are not run in the lab (the Node-only demo covers them)',
  },
];
