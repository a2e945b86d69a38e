import { Field, Float, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsBoolean, IsIn, IsOptional, ValidateNested } from 'class-validator';
import { IsIntFrom, IsNumberFrom } from '../../validation/ranges';

const LOSSES = ['multinomial', 'logistic'] as const;
const ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'linear'] as const;
const INPUTS = ['binary', 'weighted'] as const;
const MAX_HIDDEN_LAYERS = 4;

@InputType({ description: 'Hyperparameter search on validation users before the training (successive halving).' })
export class TuneInput {
  @Field(() => Int, { description: 'Seconds the search may take, 10..86400 (the final training comes on top)' })
  @IsIntFrom(10, 86_400)
  budgetSeconds!: number;
}

/** Every field is optional: left out or null, the default (the model's, or TRAIN_EPOCHS / EMBEDDING_DIM / TRAIN_TUNE_BUDGET). */
@InputType({ description: 'Overrides of the training defaults (TRAIN_EPOCHS, EMBEDDING_DIM, ...); all optional.' })
export class TrainingConfigInput {
  @Field(() => Int, { nullable: true, description: '1..1000' })
  @IsOptional()
  @IsIntFrom(1, 1000)
  epochs?: number;

  @Field(() => Int, { nullable: true, description: 'User embedding size, 2..2048' })
  @IsOptional()
  @IsIntFrom(2, 2048)
  embeddingDim?: number;

  @Field(() => [Int], {
    nullable: true,
    description: `Encoder widths before the embedding, e.g. [600]; at most ${MAX_HIDDEN_LAYERS}, each 2..4096`,
  })
  @IsOptional()
  @ArrayMaxSize(MAX_HIDDEN_LAYERS, { message: `must be at most ${MAX_HIDDEN_LAYERS} widths` })
  @IsIntFrom(2, 4096, { each: true })
  hidden?: number[];

  @Field(() => Float, { nullable: true, description: 'Input dropout, 0..0.95' })
  @IsOptional()
  @IsNumberFrom(0, 0.95)
  dropout?: number;

  @Field(() => Float, { nullable: true, description: '(0, 1]' })
  @IsOptional()
  @IsNumberFrom(0, 1, { aboveMin: true })
  learningRate?: number;

  @Field(() => Float, { nullable: true, description: '0..1' })
  @IsOptional()
  @IsNumberFrom(0, 1)
  weightDecay?: number;

  @Field(() => Int, { nullable: true, description: '1..100000' })
  @IsOptional()
  @IsIntFrom(1, 100_000)
  batchSize?: number;

  @Field(() => Int, {
    nullable: true,
    description: 'Epochs without a better validation NDCG before stopping; 0 = never',
  })
  @IsOptional()
  @IsIntFrom(0, 1000)
  patience?: number;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsIntFrom(0, 2 ** 31 - 1)
  seed?: number;

  @Field({ nullable: true, description: 'multinomial (Mult-DAE) or logistic (CDAE)' })
  @IsOptional()
  @IsIn(LOSSES, { message: `must be one of ${LOSSES.join(', ')}` })
  loss?: string;

  @Field({ nullable: true, description: 'tanh, relu, sigmoid or linear' })
  @IsOptional()
  @IsIn(ACTIVATIONS, { message: `must be one of ${ACTIVATIONS.join(', ')}` })
  activation?: string;

  @Field({
    nullable: true,
    description:
      "binary: every POSITIVE event counts 1; weighted: its type's weight times its own, aged by FEEDBACK_HALF_LIFE_DAYS (default TRAIN_INPUT)",
  })
  @IsOptional()
  @IsIn(INPUTS, { message: `must be one of ${INPUTS.join(', ')}` })
  input?: string;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'false: no linear item-to-item term beside the autoencoder (default: the term when it validates better, up to ITEM_TERM_MAX_ITEMS items)',
  })
  @IsOptional()
  @IsBoolean()
  itemTerm?: boolean;

  @Field(() => Float, {
    nullable: true,
    description:
      'Above 0 and below 1: the new version starts as an experiment CANARY answering this share of the users (if it passes the gate), instead of switching everyone',
  })
  @IsOptional()
  @IsNumberFrom(0, 1, { aboveMin: true, belowMax: true })
  canary?: number;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "A deliberately worse control for experiments (true): trained on each user's items moved by a random offset of the user's own through the catalogue",
  })
  @IsOptional()
  @IsBoolean()
  shuffleItems?: boolean;

  @Field(() => TuneInput, {
    nullable: true,
    description: 'Search shape, loss, dropout, learning rate and weight decay first (default: TRAIN_TUNE_BUDGET)',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => TuneInput)
  tune?: TuneInput;
}
