import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { RequiresScope } from '../auth/requires-scope.decorator';
import { IdArgs } from '../validation/id.args';
import { OptionalVersionArgs } from '../validation/version.args';
import { ActivateModelArgs } from './dto/activate-model.args';
import { ExperimentArgs } from './dto/experiment.args';
import { ModelsArgs, TrainingJobsArgs } from './dto/models.args';
import { RetrainArgs } from './dto/retrain.args';
import { ModelVersionModel } from './models/model-version.model';
import { TrainingJobModel } from './models/training-job.model';
import { ExperimentModel } from './models/experiment.model';
import { ExperimentsService } from './experiments.service';
import { TrainingService } from './training.service';

@Resolver()
export class TrainingResolver {
  constructor(
    private readonly training: TrainingService,
    private readonly experiments: ExperimentsService,
  ) {}

  @RequiresScope('admin')
  @Mutation(() => TrainingJobModel, {
    description: `Trains a new model version in the worker; while a training is queued or running, returns that job. force: activate it even if it measures worse than the live one.`,
  })
  retrain(@Args() { config, force }: RetrainArgs): Promise<TrainingJobModel> {
    return this.training.retrain(config, force);
  }

  @RequiresScope('admin')
  @Query(() => TrainingJobModel, { nullable: true, description: `A training job's state and progress.` })
  trainingJob(@Args() { id }: IdArgs): Promise<TrainingJobModel | null> {
    return this.training.job(id);
  }

  @RequiresScope('admin')
  @Query(() => [TrainingJobModel], {
    description: `Training jobs, newest first: the queued or running one (so a client that reloads finds it), then finished ones (the last 1000 completed, every failed one).`,
  })
  trainingJobs(@Args() { limit, states }: TrainingJobsArgs): Promise<TrainingJobModel[]> {
    return this.training.jobs(limit, states ?? undefined);
  }

  @RequiresScope('admin')
  @Query(() => [ModelVersionModel], { description: `Model versions, newest first.` })
  models(@Args() { limit }: ModelsArgs): Promise<ModelVersionModel[]> {
    return this.training.models(limit);
  }

  @RequiresScope('admin')
  @Query(() => ModelVersionModel, { nullable: true, description: `One version; the active one by default.` })
  model(@Args() { version }: OptionalVersionArgs): Promise<ModelVersionModel | null> {
    return this.training.model(version ?? undefined);
  }

  @RequiresScope('admin')
  @Mutation(() => ModelVersionModel, {
    description: `Makes a READY version live again (rollback), ending a running experiment; the CANARY: promotes it. With traffic: starts an experiment, the version a CANARY answering that share of the users.`,
  })
  async activateModel(@Args() { version, traffic }: ActivateModelArgs): Promise<ModelVersionModel> {
    if (traffic === undefined || traffic === null) return this.training.activate(version);
    await this.experiments.start(version, traffic);
    return (await this.training.model(version))!;
  }

  @RequiresScope('admin')
  @Query(() => ExperimentModel, {
    nullable: true,
    description: `An experiment: its arms, traffic, start and end; the running one by default (null: none runs).`,
  })
  experiment(@Args() { id }: ExperimentArgs): Promise<ExperimentModel | null> {
    return this.experiments.find(id ?? undefined);
  }

  @RequiresScope('admin')
  @Mutation(() => ExperimentModel, {
    description: `Ends the running experiment: the CANARY becomes ACTIVE for every user; the previous version is kept or retired as retention says.`,
  })
  promoteExperiment(): Promise<ExperimentModel> {
    return this.experiments.promote();
  }

  @RequiresScope('admin')
  @Mutation(() => ExperimentModel, {
    description: `Ends the running experiment: every user is answered by the ACTIVE version again; the CANARY is READY.`,
  })
  abortExperiment(): Promise<ExperimentModel> {
    return this.experiments.abort();
  }
}
