/** KilnGpuService through the real synthesizer: defaults, every option, every error, and cdk-nag. */
import { App, Stack, Validations, type Environment } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GPU_AMI_PARAMETER, KilnGpuService, type KilnGpuServiceProps } from '../../cdk/lib/index.js';
import { makeArtifacts, type Artifacts } from './fixtures.js';

const env = { account: '123456789012', region: 'us-east-1' };
let artifacts: Artifacts;
let defaults: Template;
let options: Template;
let nagError: unknown;

function service(
  app: App,
  id: string,
  props: (stack: Stack) => Omit<KilnGpuServiceProps, 'serverDir'>,
): Stack {
  const stack = new Stack(app, id, { env });
  new KilnGpuService(stack, 'Service', { serverDir: artifacts.serverDir, ...props(stack) });
  return stack;
}

/** The launch template's user data script (a plain string: the stack's env resolves region and bucket). */
function userDataText(template: Template): string {
  const [lt] = Object.values(template.findResources('AWS::EC2::LaunchTemplate'));
  const script = lt.Properties.LaunchTemplateData.UserData['Fn::Base64'];
  expect(typeof script).toBe('string');
  return script as string;
}

beforeAll(() => {
  artifacts = makeArtifacts();
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const defaultStack = service(app, 'Defaults', () => ({}));
  const optionsStack = service(app, 'Options', (stack) => ({
    existingVpc: new ec2.Vpc(stack, 'OwnVpc', {
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs() } },
    }),
    instanceType: 'g6e.2xlarge',
    machineImage: ec2.MachineImage.genericLinux({ 'us-east-1': 'ami-0123456789abcdef0' }),
    port: 9000,
    volumeSizeGiB: 200,
    minCapacity: 2,
    maxCapacity: 6,
    targetRequestsPerInstance: 1200,
    internetFacing: false,
    existingLogBucket: s3.Bucket.fromBucketName(stack, 'Logs', 'my-alb-logs'),
    notificationsTopic: sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:us-east-1:123456789012:scaling'),
    batching: { maxBatch: 8, delayMs: 5 },
  }));
  try {
    app.synth();
  } catch (err) {
    nagError = err;
  }
  [defaults, options] = [defaultStack, optionsStack].map((s) => Template.fromStack(s));
});
afterAll(() => artifacts?.cleanup());

describe('KilnGpuService defaults', () => {
  it('creates a VPC with flow logs and an Auto Scaling group of one to two g5.xlarge', () => {
    defaults.resourceCountIs('AWS::EC2::VPC', 1);
    defaults.resourceCountIs('AWS::EC2::FlowLog', 1);
    defaults.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '1',
      MaxSize: '2',
      HealthCheckType: 'ELB',
      NotificationConfigurations: Match.absent(),
    });
    defaults.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'g5.xlarge' }),
    });
  });

  it('requires IMDSv2 and encrypts the root volume, from the NVIDIA driver AMI parameter', () => {
    defaults.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpTokens: 'required' },
        BlockDeviceMappings: [
          {
            DeviceName: '/dev/sda1',
            Ebs: { Encrypted: true, VolumeSize: 100, VolumeType: 'gp3', DeleteOnTermination: true },
          },
        ],
        ImageId: { Ref: Match.stringLikeRegexp('SsmParameterValue') },
      }),
    });
    const parameters = defaults.findParameters('*', { Default: DEFAULT_GPU_AMI_PARAMETER });
    expect(Object.keys(parameters)).toHaveLength(1);
  });

  it("boots into the server folder's kiln-serve.mjs under systemd, with Node, the Vulkan loader and the NVIDIA ICD", () => {
    const script = userDataText(defaults);
    expect(script).toContain('libvulkan1');
    expect(script).toContain('libnvidia-gl-');
    expect(script).toContain('nodejs.org/dist/v20.');
    expect(script).not.toContain('npm ');
    expect(script).toMatch(/aws s3 cp --region us-east-1 s3:\/\/\S+\.zip \/tmp\/kiln-server\.zip\n/);
    expect(script).toContain('unzip -o /tmp/kiln-server.zip -d /opt/kiln\n');
    expect(script).toContain(
      'ExecStart=/usr/local/bin/node /opt/kiln/kiln-serve.mjs /opt/kiln/models/alpha /opt/kiln/models/beta --host 0.0.0.0 --port 8080 --backend auto --idle-timeout-ms 65000\n',
    );
    expect(script).toContain('systemctl enable --now kiln.service');
  });

  it('keeps idle connections longer than the load balancer does, so the balancer closes first (no 502s)', () => {
    const attributes = defaults.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer');
    const lbAttributes = Object.values(attributes).flatMap(
      (r) => (r.Properties?.LoadBalancerAttributes ?? []) as { Key: string; Value: string }[],
    );
    const set = lbAttributes.find((a) => a.Key === 'idle_timeout.timeout_seconds');
    const balancerSeconds = set ? Number(set.Value) : 60; // the ALB default
    const server = /--idle-timeout-ms (\d+)/.exec(userDataText(defaults));
    expect(Number(server?.[1])).toBeGreaterThan(balancerSeconds * 1000);
  });

  it('boots on when the NVIDIA Vulkan ICD cannot be installed (kiln serve then runs on wasm)', () => {
    const script = userDataText(defaults);
    execFileSync('bash', ['-n'], { input: script });
    // the ICD lines under the script's own shell options, with nvidia-smi and apt-get stood in for
    const icd = /^install_nvidia_icd\(\) \{$[\s\S]*?^install_nvidia_icd \|\|.*$/m.exec(script)![0];
    const boot = (nvidiaSmi: string, aptGet: string) =>
      execFileSync(
        'bash',
        [
          '-c',
          `set -euo pipefail\nnvidia-smi() { ${nvidiaSmi}; }\napt-get() { ${aptGet}; }\n${icd}\necho booted`,
        ],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
    expect(boot('return 9', 'echo "apt-get $*"')).toBe('booted\n');
    expect(boot('echo 535.183.01', 'return 100')).toBe('booted\n');
    // the -server package when the archive has it, else the desktop one
    expect(boot('echo 535.183.01', '[[ $3 != *-server ]] && echo "installed $3"')).toBe(
      'installed libnvidia-gl-535\nbooted\n',
    );
  });

  it('fronts the group with a public ALB whose target group checks /v2/health/ready', () => {
    defaults.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    defaults.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      ]),
    });
    defaults.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      Protocol: 'HTTP',
      HealthCheckPath: '/v2/health/ready',
      Matcher: { HttpCode: '200' },
    });
    defaults.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80 });
  });

  it('writes access logs to an SSE-S3, TLS-only, private bucket', () => {
    defaults.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: Match.objectLike({
        BlockPublicAcls: true,
        RestrictPublicBuckets: true,
      }),
    });
    defaults.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('tracks 600 requests per instance per minute', () => {
    defaults.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: Match.objectLike({
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
        TargetValue: 600,
      }),
    });
  });

  it("lets instances read only the server folder's object, plus Session Manager", () => {
    defaults.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 's3:GetObject',
            Effect: 'Allow',
            Resource: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('\\.zip$')])] },
          },
        ],
      },
    });
    defaults.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [
        { 'Fn::Join': ['', Match.arrayWith([':iam::aws:policy/AmazonSSMManagedInstanceCore'])] },
      ],
    });
  });
});

describe('KilnGpuService options', () => {
  it('uses the existing VPC, log bucket and AMI instead of creating them', () => {
    options.resourceCountIs('AWS::EC2::VPC', 1);
    options.resourceCountIs('AWS::S3::Bucket', 0);
    options.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ ImageId: 'ami-0123456789abcdef0', InstanceType: 'g6e.2xlarge' }),
    });
    options.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.bucket', Value: 'my-alb-logs' }]),
    });
  });

  it('takes port, batching, volume, capacity, scaling target and notifications', () => {
    options.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 9000 });
    expect(userDataText(options)).toContain(
      ' --port 9000 --backend auto --idle-timeout-ms 65000 --max-batch 8 --batch-delay-ms 5\n',
    );
    options.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ VolumeSize: 200 }) })],
      }),
    });
    options.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '2',
      MaxSize: '6',
      NotificationConfigurations: [
        Match.objectLike({ TopicARN: 'arn:aws:sns:us-east-1:123456789012:scaling' }),
      ],
    });
    options.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      TargetTrackingConfiguration: Match.objectLike({ TargetValue: 1200 }),
    });
  });
});

describe('KilnGpuService errors', () => {
  const attempt =
    (props: (stack: Stack) => Omit<KilnGpuServiceProps, 'serverDir'>, stackEnv: Environment = env) =>
    () => {
      const stack = new Stack(new App(), 'S', { env: stackEnv });
      new KilnGpuService(stack, 'Service', { serverDir: artifacts.serverDir, ...props(stack) });
    };

  it('accepts only g5, g6 and g6e instance types', () => {
    for (const bad of ['p4d.24xlarge', 'g4dn.xlarge', 'g5', 'g6e.'])
      expect(attempt(() => ({ instanceType: bad }))).toThrow(
        `KilnGpuService: instanceType must be a g5, g6, g6e instance (e.g. g5.xlarge), got "${bad}"`,
      );
    for (const good of ['g5.xlarge', 'g6.12xlarge', 'g6e.48xlarge'])
      expect(attempt(() => ({ instanceType: good }))).not.toThrow();
  });

  it('rejects both halves of each existing/props pair', () => {
    expect(attempt((stack) => ({ existingVpc: new ec2.Vpc(stack, 'V'), vpcProps: { maxAzs: 3 } }))).toThrow(
      'KilnGpuService: give either existingVpc or vpcProps, not both (existingVpc is used as is; vpcProps configures a new one)',
    );
    expect(
      attempt(() => ({
        machineImage: ec2.MachineImage.latestAmazonLinux2023(),
        amiParameterName: '/my/ami',
      })),
    ).toThrow('KilnGpuService: give either machineImage or amiParameterName, not both');
    expect(
      attempt((stack) => ({
        existingLogBucket: s3.Bucket.fromBucketName(stack, 'B', 'my-logs'),
        logBucketProps: {},
      })),
    ).toThrow('KilnGpuService: give either existingLogBucket or logBucketProps, not both');
  });

  it('needs a server folder with kiln-serve.mjs and safely named bundles under models/', () => {
    const hint =
      'build it with `kiln deploy BUNDLE_DIR... --target gpu --dry-run --out OUT` and pass OUT/gpu-server';
    const empty = join(artifacts.root, 'empty');
    mkdirSync(empty, { recursive: true });
    const inServer = (serverDir: string) => () =>
      new KilnGpuService(new Stack(new App(), 'S', { env }), 'Service', { serverDir });
    expect(inServer(empty)).toThrow(`KilnGpuService: serverDir ${empty} has no kiln-serve.mjs; ${hint}`);
    writeFileSync(join(empty, 'kiln-serve.mjs'), '');
    expect(inServer(empty)).toThrow(
      `KilnGpuService: serverDir ${empty} has no models/<name>/ bundle; ${hint}`,
    );
    mkdirSync(join(empty, 'models', 'a b'), { recursive: true });
    expect(inServer(empty)).toThrow(
      `KilnGpuService: model folder name "a b" in ${empty}/models may hold only letters, digits, _ . -`,
    );
  });

  it('takes batching in whole numbers, at least one row, leaving the delay to kiln serve unless given', () => {
    for (const maxBatch of [0, 2.5, -1])
      expect(attempt(() => ({ batching: { maxBatch } }))).toThrow(
        `KilnGpuService: batching.maxBatch must be a whole number ≥ 1, got ${maxBatch}`,
      );
    for (const delayMs of [-1, 0.5])
      expect(attempt(() => ({ batching: { maxBatch: 4, delayMs } }))).toThrow(
        `KilnGpuService: batching.delayMs must be a whole number ≥ 0, got ${delayMs}`,
      );
    const stack = new Stack(new App(), 'S', { env });
    new KilnGpuService(stack, 'Service', {
      serverDir: artifacts.serverDir,
      batching: { maxBatch: 4, delayMs: 0 },
    });
    expect(userDataText(Template.fromStack(stack))).toContain(
      ' --backend auto --idle-timeout-ms 65000 --max-batch 4 --batch-delay-ms 0\n',
    );
    const noDelay = new Stack(new App(), 'S', { env });
    new KilnGpuService(noDelay, 'Service', { serverDir: artifacts.serverDir, batching: { maxBatch: 4 } });
    expect(userDataText(Template.fromStack(noDelay))).toContain(
      ' --backend auto --idle-timeout-ms 65000 --max-batch 4\n',
    );
  });

  it('rejects minCapacity above maxCapacity', () => {
    expect(attempt(() => ({ minCapacity: 3, maxCapacity: 2 }))).toThrow(
      'KilnGpuService: minCapacity (3) exceeds maxCapacity (2)',
    );
  });

  it('needs a stack with an explicit region', () => {
    expect(attempt(() => ({}), { account: env.account })).toThrow(
      'KilnGpuService: the stack needs an explicit env.region',
    );
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged with defaults or with every option', () => {
    expect(nagError).toBeUndefined();
  });
});
