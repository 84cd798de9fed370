/**
 * `kiln deploy --target gpu`: the server folder (gpu-build.ts: a self-contained kiln-serve.mjs, Dawn and
 * the bundles), the instance type checked against the bundles, the KilnGpu stack synthesized by the CDK
 * app and — unless a dry run — `cdk deploy`ed. The endpoint is the load balancer's address. The instances
 * serve bundles built with the webgpu target on WebGPU (Dawn over the NVIDIA Vulkan driver), others on wasm.
 */
import { join } from 'node:path';
import { cdkDeploy, cdkSynth } from './aws-cdk-app.js';
import { batchingPlanLine, checkBatching } from './batching.js';
import { readServedBundles } from './bundles.js';
import { awsRegion, requireCredentials, requireRegion } from './aws-credentials.js';
import { buildGpuServer, SERVER_SCRIPT } from './gpu-build.js';
import { DAWN_PLATFORM, findDawn } from './gpu-dawn.js';
import { checkGpuMemory, DEFAULT_INSTANCE_TYPE, gpuInstance } from './gpu-limits.js';
import { stackName } from './lambda.js';
import type { Manifest } from '../bundle/manifest.js';
import type { ServedBundle } from './bundles.js';
import type { DeployRequest, DeployResult } from './types.js';

export const DEFAULT_GPU_STACK = 'KilnGpu';
/** The GPU stack names its region in its templates (load balancer log delivery); a dry run needs one too. */
const DRY_RUN_REGION = 'us-east-1';

export async function deployGpu(request: DeployRequest): Promise<DeployResult> {
  const stack = stackName(request.name, DEFAULT_GPU_STACK);
  const instance = gpuInstance(request.instanceType ?? DEFAULT_INSTANCE_TYPE);
  const given = awsRegion(request);
  const region = request.dryRun ? (given ?? DRY_RUN_REGION) : requireRegion(request);
  if (!request.dryRun) await requireCredentials(region);
  const dawn = await findDawn();

  const { batching } = request;
  request.step('building the server folder (kiln-serve.mjs, Dawn and the bundles)');
  const bundles = await readServedBundles(request.bundleDirs);
  if (batching) checkBatching(bundles, batching);
  for (const bundle of bundles.filter((b) => !onWebGpu(b.manifest))) request.warn(wasmOnlyWarning(bundle));
  const server = await buildGpuServer(join(request.outDir, 'gpu-server'), bundles, dawn);
  const manifests = bundles.map((b) => b.manifest);
  request.step(`checking the bundles against a ${instance.type}`);
  const needed = checkGpuMemory(
    instance,
    manifests.map((m) => m.memory),
  );

  request.step('cdk synth (templates checked by cdk-nag)');
  const templates = await cdkSynth(request, {
    serverDir: server.dir,
    gpuStackName: stack,
    instanceType: instance.type,
    region,
    // cdk/bin/app.ts hands them to KilnGpuService, which adds them to the server's command line
    ...(batching && { maxBatch: String(batching.maxBatch), batchDelayMs: String(batching.delayMs) }),
  });
  const plan = [
    `stack ${stack} in ${region}${given ? '' : ' (a stand-in for the dry run: pass --region)'}: Auto Scaling group of 1–2 ${instance.type} (${instance.gpu} ${instance.gpuMemoryGiB} GB, ${instance.memoryGiB} GiB memory) in a new VPC, IMDSv2 required, encrypted volumes`,
    'Application Load Balancer on port 80 (HTTP), health check /v2/health/ready, scaling at 600 requests per instance per minute, access logs to S3',
    `server: ${SERVER_SCRIPT} (${(server.scriptBytes / 1024).toFixed(0)} KB) and Dawn for ${DAWN_PLATFORM} (webgpu ${dawn.version}, ${(dawn.bytes / 2 ** 20).toFixed(0)} MB) under systemd, on Node.js 20 from nodejs.org; no npm install on the instances`,
    ...manifests.map(
      (m) =>
        `model ${m.model.name} at /v2/models/${m.model.name}/infer, on ${onWebGpu(m) ? 'WebGPU' : 'the CPU (wasm: the bundle has no webgpu target)'}`,
    ),
    `memory: the bundles need about ${(needed / 2 ** 30).toFixed(1)} GiB of the instance's ${instance.memoryGiB} GiB`,
    ...(batching ? [batchingPlanLine(batching)] : []),
  ];
  const artifacts = [join(server.dir, SERVER_SCRIPT), ...templates];
  if (request.dryRun) return { plan, artifacts };

  request.step(`cdk deploy ${stack} (instances take minutes to boot and pass the health check)`);
  const outputs = await cdkDeploy(request, stack, region);
  return { plan, artifacts, endpoint: outputs.Endpoint };
}

/** `kiln serve --backend auto` runs a bundle on WebGPU when it was built for it (and Dawn finds the GPU). */
const onWebGpu = (manifest: Manifest) => manifest.targets.includes('webgpu');

function wasmOnlyWarning({ name, dir }: ServedBundle): string {
  return `bundle ${dir}: model "${name}" was compiled without the webgpu target, so the GPU instances will run it on the CPU (wasm); to run it on the GPU, compile it again with its other flags and --targets wasm,webgpu: kiln compile MODEL.onnx -o ${dir} ... --targets wasm,webgpu`;
}
