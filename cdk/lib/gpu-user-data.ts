/**
 * Boot script of a Kiln GPU instance (Ubuntu 22.04 Deep Learning AMI): Node.js 20, the Vulkan loader and
 * the NVIDIA Vulkan ICD (what Dawn drives), the server folder from S3 — kiln-serve.mjs, a self-contained
 * `kiln serve`, Dawn for Linux x64 under node_modules/webgpu and the bundles under models/ — and the
 * server as a systemd service that restarts on failure. Nothing comes from npm.
 *
 * Dawn (dawn.node) links only glibc and libstdc++, which Ubuntu 22.04 has in the versions it needs, and
 * opens libvulkan.so.1 at run time; the loader finds the NVIDIA ICD through the JSON file libnvidia-gl-*
 * installs, and the driver's /dev/nvidia* nodes are world-accessible, so the unprivileged kiln user needs
 * nothing more. Without a working Vulkan driver Dawn finds no adapter and `--backend auto` serves every
 * bundle on wasm, logging why (journalctl -u kiln) — so the ICD's install may fail without stopping the boot.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';

export interface GpuUserDataOptions {
  /** s3:// URL of the zipped server folder asset. */
  readonly serverUrl: string;
  readonly region: string;
  readonly port: number;
  /** The bundle folders' names under the server folder's models/. */
  readonly models: readonly string[];
  /** `kiln serve --max-batch`, checked by the construct. */
  readonly batching?: KilnGpuBatching;
}

/** Dynamic batching of every served model, as `kiln serve --max-batch N --batch-delay-ms D`. */
export interface KilnGpuBatching {
  /**
   * The batch every bundle's inputs and outputs were compiled to lead with (`kiln compile --shape
   * NAME=N,...`); at most 64, the requests kiln serve's queue holds.
   */
  readonly maxBatch: number;
  /** How long the first request of a batch waits for more rows. @default - kiln serve's default, 2 ms */
  readonly delayMs?: number;
}

const NODE_VERSION = 'v20.19.5';
export const SERVER_DIR = '/opt/kiln';

export function gpuUserData(options: GpuUserDataOptions): ec2.UserData {
  const modelDirs = options.models.map((name) => `${SERVER_DIR}/models/${name}`).join(' ');
  const userData = ec2.UserData.forLinux();
  userData.addCommands(
    'set -euo pipefail',
    'export DEBIAN_FRONTEND=noninteractive',
    'apt-get update',
    // the loader plus the ICD json that points it at the NVIDIA driver the AMI ships
    'apt-get install -y unzip curl xz-utils libvulkan1 vulkan-tools',
    'install_nvidia_icd() {',
    '  local driver',
    '  driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n1 | cut -d. -f1) || return 1',
    '  apt-get install -y "libnvidia-gl-${driver}-server" || apt-get install -y "libnvidia-gl-${driver}"',
    '}',
    'install_nvidia_icd || echo "kiln: warning: no NVIDIA Vulkan ICD installed; kiln serve will run the models on wasm" >&2',
    // what Vulkan sees, in the boot log (cloud-init-output.log) for whoever wonders why a model runs on wasm
    'vulkaninfo --summary || true',
    `curl -fsSL https://nodejs.org/dist/${NODE_VERSION}/node-${NODE_VERSION}-linux-x64.tar.xz | tar -xJ -C /usr/local --strip-components=1`,
    `mkdir -p ${SERVER_DIR}`,
    `aws s3 cp --region ${options.region} ${options.serverUrl} /tmp/kiln-server.zip`,
    `unzip -o /tmp/kiln-server.zip -d ${SERVER_DIR}`,
    'useradd --system --no-create-home kiln || true',
    `cat > /etc/systemd/system/kiln.service <<'UNIT'`,
    '[Unit]',
    'Description=Kiln model server',
    'After=network-online.target',
    '[Service]',
    'User=kiln',
    `ExecStart=/usr/local/bin/node ${SERVER_DIR}/kiln-serve.mjs ${modelDirs} --host 0.0.0.0 --port ${options.port} --backend auto --idle-timeout-ms ${SERVER_IDLE_TIMEOUT_MS}${batchingFlags(options.batching)}`,
    'Restart=on-failure',
    '[Install]',
    'WantedBy=multi-user.target',
    'UNIT',
    'systemctl daemon-reload',
    'systemctl enable --now kiln.service',
  );
  return userData;
}

/**
 * How long kiln serve keeps an idle kept-alive connection: longer than the load balancer's idle timeout
 * (the ALB default, 60 s), so the balancer always closes first; the other way round it may send a request
 * on a connection the server is closing and answer the client 502.
 */
export const SERVER_IDLE_TIMEOUT_MS = 65_000;

/** Without a delay, kiln serve's own default applies. */
function batchingFlags(batching: KilnGpuBatching | undefined): string {
  if (batching === undefined) return '';
  const delay = batching.delayMs === undefined ? '' : ` --batch-delay-ms ${batching.delayMs}`;
  return ` --max-batch ${batching.maxBatch}${delay}`;
}
