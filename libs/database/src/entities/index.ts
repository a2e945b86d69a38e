import { InteractionEntity } from './interaction.entity';
import { ItemEntity } from './item.entity';
import { UserEntity } from './user.entity';

export { InteractionEntity, ItemEntity, UserEntity };
export type { ItemAttributes } from './item.entity';

export const ENTITIES = [UserEntity, ItemEntity, InteractionEntity];
