import { Field, Float, InputType, Int } from '@nestjs/graphql';

@InputType({ description: 'Hyperparameter search on validation users before the training (successive halving).' })
export class TuneInput {
  @Field(() => Int, { description: 'Seconds the search may take, 10..86400 (the final training comes on top)' }) budgetSeconds!: number;
}

@InputType({ description: 'Overrides of the training defaults (TRAIN_EPOCHS, EMBEDDING_DIM, ...); all optional.' })
export class TrainingConfigInput {
  @Field(() => Int, { nullable: true, description: '1..1000' }) epochs?: number;
  @Field(() => Int, { nullable: true, description: 'User embedding size, 2..2048' }) embeddingDim?: number;
  @Field(() => [Int], { nullable: true, description: 'Encoder widths before the embedding, e.g. [600]' }) hidden?: number[];
  @Field(() => Float, { nullable: true, description: 'Input dropout, 0..0.95' }) dropout?: number;
  @Field(() => Float, { nullable: true, description: '(0, 1]' }) learningRate?: number;
  @Field(() => Float, { nullable: true, description: '>= 0' }) weightDecay?: number;
  @Field(() => Int, { nullable: true, description: '1..100000' }) batchSize?: number;
  @Field(() => Int, { nullable: true, description: 'Epochs without a better validation NDCG before stopping; 0 = never' }) patience?: number;
  @Field(() => Int, { nullable: true }) seed?: number;
  @Field({ nullable: true, description: 'multinomial (Mult-DAE) or logistic (CDAE)' }) loss?: string;
  @Field({ nullable: true, description: 'tanh, relu, sigmoid or linear' }) activation?: string;
  @Field(() => TuneInput, { nullable: true, description: 'Search shape, loss, dropout, learning rate and weight decay first (default: TRAIN_TUNE_BUDGET)' })
  tune?: TuneInput;
}
