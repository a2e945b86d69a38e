import { ApiKeyEntity } from './api-key.entity';
import { ExperimentEntity } from './experiment.entity';
import { InteractionEntity } from './interaction.entity';
import { ItemEntity } from './item.entity';
import { ModelVersionEntity } from './model-version.entity';
import { UserEntity } from './user.entity';

export { ApiKeyEntity, ExperimentEntity, InteractionEntity, ItemEntity, ModelVersionEntity, UserEntity };
export { ModelStatus } from './model-version.entity';
export { ExperimentOutcome } from './experiment.entity';
export type { DataSnapshot, EpochPoint, GateComparison, ModelMetrics } from './model-version.entity';
export type { ItemAttributes } from './item.entity';

export const ENTITIES = [UserEntity, ItemEntity, InteractionEntity, ModelVersionEntity, ApiKeyEntity, ExperimentEntity];
