/**
 * The fakes judge resource policies with the evaluator `quiesce doctor` uses on a live stage
 * (functions/_core/policy/resource-policy.ts): one evaluator, so the fake AWS and the preflight cannot
 * disagree about what a policy admits.
 */
export * from '#core/policy/resource-policy.ts';
