/**
 * The AWS Lambda adapter: the serving app behind Hono's aws-lambda handler, which answers Lambda
 * Function URL and API Gateway HTTP API (payload 2.0) events. Wiring only; the logic is in app.ts.
 */
import { handle } from 'hono/aws-lambda';
import { loadModel } from '../runtime/index.js';
import { createApp, type AppOptions } from './app.js';
import { optionsFromEnv } from './env.js';
import { NODE_SERVING_LOAD } from '../runtime-node/v8-tiers.js';

export type LambdaHandler = ReturnType<typeof handle>;

export function createLambdaHandler(options: AppOptions): LambdaHandler {
  return handle(createApp(options));
}

/** One bundle in a deployment package: a folder beside the handler module, served under `name`. */
export interface PackagedBundle {
  name: string;
  folder: string;
}

/**
 * The handler of a deployment package: loads its bundles from folders beside `moduleUrl` (the
 * handler module's import.meta.url) once per cold start; KILN_API_KEY and KILN_MAX_BODY_MB come
 * from the function's environment.
 */
export async function packagedHandler(moduleUrl: string, bundles: PackagedBundle[]): Promise<LambdaHandler> {
  const models = await Promise.all(
    bundles.map(async ({ name, folder }) => ({
      name,
      // optimized and warmed up during the function's init, so the first invocation runs optimized code
      model: await loadModel(new URL(`${folder}/`, moduleUrl), NODE_SERVING_LOAD),
    })),
  );
  return createLambdaHandler({ models, ...optionsFromEnv(process.env) });
}
