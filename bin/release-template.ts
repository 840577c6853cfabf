/**
 * The released CloudFormation template: the template osls packages, made deployable for any stage and any
 * code location, for the terraform module (infra/terraform/modules/quiesce) and anyone who deploys a
 * release without osls. One definition: scripts/release.ts has osls package the service for a stand-in
 * stage, and this turns only two things into parameters:
 *   - the stage, baked into every name by osls (`quiesce-<stage>-...`): each string that holds the stand-in
 *     becomes an `Fn::Sub` of `${Stage}`;
 *   - where the Lambda code is: osls's own deployment bucket and its timestamped key become the
 *     `CodeBucket` and `CodeKeyPrefix` parameters, and the deployment bucket osls adds to the stack goes.
 * The stage's settings are parameters already (infra/stage-settings.yml); ClusterName loses its default,
 * as a stage file has none. Logical ids osls made from the stage's names say `Stage` instead. test/package/release.test.ts shows the result, given stage prod's parameters,
 * is the template `osls deploy --stage prod` deploys.
 */

/** The stage the release is packaged as: a name no real stage takes, found and replaced everywhere. */
export const STAND_IN_STAGE = 'zzqreleasestagezz';

type Json = Record<string, unknown>;

/** A CloudFormation template, as far as this transformation needs. */
export interface Template {
  Parameters?: Record<string, Json>;
  Resources: Record<string, { Type: string; Properties?: Json } & Json>;
  Outputs?: Record<string, Json>;
  [key: string]: unknown;
}

/** The parameters the release template adds to the stage settings' ones. */
export const RELEASE_PARAMETERS: Readonly<Record<string, Json>> = {
  Stage: {
    Type: 'String',
    AllowedPattern: '^[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?$',
    Description: 'The quiesce stage: every name the stack creates is made from it (infra/names.yml); the stack must be named quiesce-<Stage>',
  },
  CodeBucket: { Type: 'String', Description: 'S3 bucket holding the release\'s Lambda zips' },
  CodeKeyPrefix: { Type: 'String', Description: 'Key prefix of the zips in CodeBucket: <prefix><function>.zip' },
};

/** Strings with `${` that are not a Sub's own must be escaped when they become one (`${!`). */
const escapeForSub = (s: string): string => s.replace(/\$\{/g, '${!');

/**
 * The release template of `packaged` (osls's template for {@link STAND_IN_STAGE}).
 *
 * @throws when the stand-in is left anywhere a parameter cannot go (a key, a logical id), or osls's code
 * location is not where it is expected.
 */
export function releaseTemplate(packaged: Template, stage = STAND_IN_STAGE): Template {
  // osls derives some logical ids from names that hold the stage (the rules on the quiesce bus are
  // Quiesce<stage>...EventBridgeRule). An id cannot be a parameter: the stand-in becomes the word Stage in
  // the id and in every reference to it (Ref, GetAtt, DependsOn, ${id} in a Sub).
  let text = JSON.stringify(packaged);
  const ids = Object.keys(packaged.Resources).filter((id) => id.includes(stage)).sort((a, b) => b.length - a.length);
  for (const id of ids) text = text.replaceAll(id, id.replaceAll(stage, 'Stage'));
  const t = JSON.parse(text) as Template;
  for (const id of ['ServerlessDeploymentBucket', 'ServerlessDeploymentBucketPolicy']) delete t.Resources[id];
  if (t.Outputs) delete t.Outputs['ServerlessDeploymentBucketName'];
  // The code: osls's bucket and key -> the parameters.
  for (const [id, r] of Object.entries(t.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const code = r.Properties?.['Code'] as { S3Bucket?: unknown; S3Key?: unknown } | undefined;
    const key = typeof code?.S3Key === 'string' ? code.S3Key : '';
    const file = /\/([^/]+\.zip)$/.exec(key)?.[1];
    if (!code || !file || JSON.stringify(code.S3Bucket) !== JSON.stringify({ Ref: 'ServerlessDeploymentBucket' })) throw new Error(`${id}: code is not in osls's deployment bucket: ${JSON.stringify(code)}`);
    r.Properties = { ...r.Properties, Code: { S3Bucket: { Ref: 'CodeBucket' }, S3Key: { 'Fn::Sub': `\${CodeKeyPrefix}${file}` } } };
  }
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') return v.includes(stage) ? { 'Fn::Sub': escapeForSub(v).replaceAll(stage, '${Stage}') } : v;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}/${i}`));
    if (v === null || typeof v !== 'object') return v;
    const o = v as Json;
    const entries = Object.entries(o);
    for (const [k] of entries) if (k.includes(stage)) throw new Error(`${path}/${k}: the stage is in a key, which cannot be a parameter`);
    if (entries.length === 1 && typeof o['Fn::Sub'] === 'string') return { 'Fn::Sub': (o['Fn::Sub'] as string).replaceAll(stage, '${Stage}') };
    if (entries.length === 1 && Array.isArray(o['Fn::Sub'])) {
      const [text, vars] = o['Fn::Sub'] as [string, unknown];
      return { 'Fn::Sub': [text.replaceAll(stage, '${Stage}'), walk(vars, `${path}/Fn::Sub/1`)] };
    }
    return Object.fromEntries(entries.map(([k, x]) => [k, walk(x, `${path}/${k}`)]));
  };
  const out = walk(t, '') as Template;
  const params = { ...RELEASE_PARAMETERS, ...out.Parameters };
  // A stage file has no default cluster; neither has the release.
  const { Default: _cluster, ...cluster } = params['ClusterName'] ?? {};
  out.Parameters = { ...params, ClusterName: cluster };
  if (JSON.stringify(out).includes(stage)) throw new Error(`the stand-in stage ${stage} is still in the release template`);
  return out;
}
