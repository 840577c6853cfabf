/**
 * `npm run release`: the release workflow's steps (.github/workflows/release.yml runs exactly this), runnable
 * on any machine:
 *
 *   1. version   the release's version: package.json's when the commit is tagged v<version> (in CI the tag
 *                that started the workflow must be that one), else <version>-dev.g<commit> (infra/
 *                stage-settings.cjs buildVersion): a build of any other commit never claims a released
 *                version, nor its image tag
 *   2. zips      the Lambda zips (bin/package.ts: the same build as `npm run package`)
 *   3. template  the CloudFormation template of the release (bin/release-template.ts: osls packages the
 *                service, only the stage and the code's location become parameters; Version output = 1.)
 *   4. manifest  release.json (version, commit, each file with its SHA-256: what the terraform module reads)
 *                and SHA256SUMS
 *   5. image     the pod forwarder's multi-arch image (linux/amd64, linux/arm64) tagged with the version:
 *                `docker buildx`; skipped, saying so, where no container engine runs. With --push it is
 *                pushed, and a tag that already exists is refused (release tags are never overwritten)
 *   6. publish   with --publish, a GitHub release of the tag with every asset above (the gh CLI)
 *
 *   npm run release                       # steps 1-5 into dist/release/<version>/ (image: build only)
 *   npm run release -- --push --publish   # what CI does on a tag
 *
 * The kustomize bases and the terraform modules are not assets: they are the repository at the tag, used as
 * remote bases and module sources with ?ref=v<version> (docs/deploy.md, Releases).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ARTIFACT_DIR, buildZips, packageService, serviceCopy } from '../bin/package.ts';
import { releaseTemplate, STAND_IN_STAGE, type Template } from '../bin/release-template.ts';
import { packageVersion, projectHome } from '../bin/render.ts';
import { FUNCTIONS } from '../bin/build.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Options of {@link release}. */
export interface ReleaseOptions {
  /** Where the assets go (default dist/release/<version>). */
  readonly outDir?: string;
  /** Use the zips already in dist/lambda (the test suite's) instead of building them. */
  readonly reuseZips?: boolean;
  /** Build the image (default true; skipped with a message where no engine runs). */
  readonly image?: boolean;
  /** Push the image (refused when its tag exists). */
  readonly push?: boolean;
  /** Create the GitHub release with the assets. */
  readonly publish?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: (line: string) => void;
}

/** One file of a release, as release.json lists it. */
export interface ReleaseFile {
  readonly file: string;
  readonly sha256: string;
}

/** release.json: what a release is, for the terraform module and for people. */
export interface ReleaseManifest {
  readonly version: string;
  readonly commit: string | null;
  readonly image: string;
  readonly template: ReleaseFile;
  readonly functions: Readonly<Record<string, ReleaseFile>>;
}

/** What {@link release} did. */
export interface ReleaseResult {
  readonly version: string;
  readonly outDir: string;
  readonly manifest: ReleaseManifest;
  /** Every file to attach to the release. */
  readonly assets: readonly string[];
  /** Why the image was not built or pushed, when it was not. */
  readonly imageSkipped?: string;
}

/** A released version: tag vX.Y.Z. */
const RELEASE = /^\d+\.\d+\.\d+$/;

const buildVersion = (createRequire(import.meta.url)(join(root, 'infra', 'stage-settings.cjs')) as { buildVersion: (dir?: string, env?: NodeJS.ProcessEnv) => string }).buildVersion;

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function sh(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/**
 * Step 1: the version, checked against the tag that started a CI run (GITHUB_REF_TYPE=tag): the tag must be
 * v<package.json version> and point at this commit, or nothing is released.
 */
export function releaseVersion(env: NodeJS.ProcessEnv = process.env): string {
  const version = buildVersion(root, { ...env, QUIESCE_VERSION: '' });
  if (env['GITHUB_REF_TYPE'] === 'tag') {
    const tag = env['GITHUB_REF_NAME'] ?? '';
    if (tag !== `v${packageVersion()}`) throw new Error(`tag ${tag} is not v${packageVersion()} (package.json): bump the version, commit, then tag`);
    if (version !== packageVersion()) throw new Error(`the tagged commit builds as ${version}, not ${packageVersion()} (uncommitted changes?)`);
    const repo = env['GITHUB_REPOSITORY'];
    if (repo && `https://github.com/${repo}` !== projectHome().repository) {
      throw new Error(`package.json repository.url names ${projectHome().repository}, but this is github.com/${repo}: the manifests would point at the wrong remote bases and image`);
    }
  }
  return version;
}

/** Step 5: the multi-arch image, or why not. */
export function buildImage(version: string, options: { push?: boolean; outDir: string; log: (l: string) => void }): string | undefined {
  const image = `${projectHome().image}:${version}`;
  if (sh('docker', ['buildx', 'version']).code !== 0 || sh('docker', ['info']).code !== 0) {
    return `no container engine (docker with buildx) runs here: the image ${image} was not built; CI builds it (.github/workflows/release.yml)`;
  }
  if (options.push && sh('docker', ['buildx', 'imagetools', 'inspect', image]).code === 0) {
    throw new Error(`${image} exists already: a released tag is never overwritten (bump the version)`);
  }
  const output = options.push ? ['--push'] : ['--output', `type=oci,dest=${join(options.outDir, `quiesce-${version}-pod-forwarder.oci.tar`)}`];
  const args = ['buildx', 'build', '--platform', 'linux/amd64,linux/arm64', '-f', 'functions/pod-forwarder/Dockerfile', '--build-arg', `VERSION=${version}`, '-t', image, ...output, '.'];
  options.log(`docker ${args.join(' ')}`);
  const r = spawnSync('docker', args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`docker buildx build failed (exit ${r.status})`);
  return undefined;
}

/** The CHANGELOG.md section of `version` (the release's notes). */
export function changelogSection(version: string, file = join(root, 'CHANGELOG.md')): string {
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(`## [${version}]`);
  if (start < 0) return `quiesce ${version}`;
  const next = text.indexOf('\n## [', start + 1);
  return text.slice(start, next < 0 ? undefined : next).trim();
}

/** Runs the steps. */
export async function release(options: ReleaseOptions = {}): Promise<ReleaseResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const version = releaseVersion(options.env);
  if ((options.push || options.publish) && !RELEASE.test(version)) throw new Error(`${version} is not a released version: push and publish only from the tag v${packageVersion()}`);
  const outDir = options.outDir ?? join(root, 'dist', 'release', version);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  log(`quiesce ${version} -> ${outDir}`);

  // 2. zips
  if (!options.reuseZips) await buildZips({ log });
  const functions: Record<string, ReleaseFile> = {};
  for (const name of FUNCTIONS) {
    const file = `quiesce-${version}-${name}.zip`;
    copyFileSync(join(ARTIFACT_DIR, `${name}.zip`), join(outDir, file));
    functions[name] = { file, sha256: sha256(join(outDir, file)) };
  }

  // 3. template: osls packages a stand-in stage in a copy of the service, with the zips just made.
  const scratch = mkdtempSync(join(tmpdir(), 'quiesce-release-'));
  try {
    const service = serviceCopy(join(scratch, 'service'), { [STAND_IN_STAGE]: { clusterName: 'stand-in', region: 'us-east-1' } });
    const packaged = await packageService({ serviceDir: service, stage: STAND_IN_STAGE, build: false, outDir: join(scratch, 'out'), env: { QUIESCE_VERSION: version } });
    const template = releaseTemplate(JSON.parse(readFileSync(packaged.templatePath, 'utf8')) as Template);
    const file = `quiesce-${version}-cloudformation.json`;
    writeFileSync(join(outDir, file), `${JSON.stringify(template, null, 2)}\n`);
    log(`template ${file} (${Object.keys(template.Resources).length} resources, ${Object.keys(template.Parameters ?? {}).length} parameters)`);

    // 4. manifest
    const commit = sh('git', ['rev-parse', 'HEAD']);
    const manifest: ReleaseManifest = {
      version,
      commit: commit.code === 0 ? commit.out : null,
      image: `${projectHome().image}:${version}`,
      template: { file, sha256: sha256(join(outDir, file)) },
      functions,
    };
    writeFileSync(join(outDir, 'release.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const files = [manifest.template.file, ...Object.values(functions).map((f) => f.file), 'release.json'];
    writeFileSync(join(outDir, 'SHA256SUMS'), files.map((f) => `${sha256(join(outDir, f))}  ${f}\n`).join(''));
    const assets = [...files, 'SHA256SUMS'].map((f) => join(outDir, f));

    // 5. image
    const imageSkipped = options.image === false ? 'not asked for (--no-image)' : buildImage(version, { push: options.push ?? false, outDir, log });
    if (imageSkipped) log(`image SKIPPED: ${imageSkipped}`);
    if (existsSync(join(outDir, `quiesce-${version}-pod-forwarder.oci.tar`))) assets.push(join(outDir, `quiesce-${version}-pod-forwarder.oci.tar`));

    // 6. publish
    if (options.publish) {
      if (imageSkipped) throw new Error(`not publishing ${version} without its image: ${imageSkipped}`);
      const notes = join(scratch, 'notes.md');
      writeFileSync(notes, changelogSection(version));
      const r = spawnSync('gh', ['release', 'create', `v${version}`, ...assets, '--verify-tag', '--title', `quiesce ${version}`, '--notes-file', notes], { cwd: root, stdio: 'inherit' });
      if (r.error || r.status !== 0) throw new Error(`gh release create failed${r.error ? `: ${r.error.message}` : ` (exit ${r.status})`}`);
    }
    log(`assets: ${assets.map((a) => basename(a)).join(', ')}`);
    return { version, outDir, manifest, assets, ...(imageSkipped ? { imageSkipped } : {}) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'no-image': { type: 'boolean', default: false }, push: { type: 'boolean', default: false }, publish: { type: 'boolean', default: false } } });
  try {
    await release({ ...(values.out ? { outDir: resolve(values.out) } : {}), image: !values['no-image'], push: values.push, publish: values.publish });
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
