/**
 * An osls plugin of this repository (serverless.yml `plugins`): builds and zips the Lambda functions
 * (bin/package.ts --zips-only, the one build of bin/build.ts) before osls packages, so that
 * `npx osls deploy --stage <stage>` from a clean clone (after `npm ci`) is the whole deploy, and never
 * uploads zips older than the code. `npm run package`, the tests and the release build the zips themselves
 * first and set QUIESCE_ZIPS_BUILT=1.
 */
'use strict';

const { execFileSync } = require('node:child_process');

class QuiesceBuild {
  constructor(serverless) {
    this.serviceDir = serverless.serviceDir;
    this.hooks = { 'before:package:createDeploymentArtifacts': () => this.build() };
  }

  build() {
    if (process.env.QUIESCE_ZIPS_BUILT === '1') return;
    execFileSync(process.execPath, ['--import', 'tsx', 'bin/package.ts', '--zips-only'], { cwd: this.serviceDir, stdio: 'inherit' });
  }
}

module.exports = QuiesceBuild;
