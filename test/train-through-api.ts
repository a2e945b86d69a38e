import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { gql } from '@app/testing';
import { admin } from './test-env';

const RETRAIN = `mutation R($c: TrainingConfigInput, $f: Boolean) { retrain(config: $c, force: $f) { id } }`;
const JOB = `query J($id: ID!) { trainingJob(id: $id) { state error modelVersion { version status } } }`;

/** Enqueues a retrain as an admin would. */
export async function startTraining(api: NestFastifyApplication, config: object, force = true): Promise<string> {
  const res = await gql(api, RETRAIN, { c: config, f: force }, admin);
  if (!res.data) throw new Error(`retrain refused: ${JSON.stringify(res.errors)}`);
  return res.data.retrain.id;
}

/** Polls trainingJob until it completes (its model version) or fails (throws with its error). */
export async function waitForTraining(
  api: NestFastifyApplication,
  id: string,
  seconds = 300,
): Promise<{ version: number; status: string }> {
  for (let i = 0; i < seconds * 5; i++) {
    const job = (await gql(api, JOB, { id }, admin)).data!.trainingJob;
    if (job.state === 'COMPLETED') return job.modelVersion;
    if (job.state === 'FAILED') throw new Error(`training failed: ${job.error}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`training job ${id} did not finish in ${seconds} s`);
}

export async function trainToCompletion(api: NestFastifyApplication, config: object, force = true) {
  return waitForTraining(api, await startTraining(api, config, force));
}

/** Polls /health/ready until the API serves this model version (it loads a new one on the activation message). */
export async function waitForServedVersion(api: NestFastifyApplication, version: number, seconds = 30): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if ((await request(api.getHttpServer()).get('/health/ready')).body.modelVersion === version) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the API never served v${version}`);
}
