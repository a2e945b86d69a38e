export * from './entities';
export * from './data-source';
export * from './migrate';
export * from './database.module';
export * from './repositories/interaction.repository';
export * from './repositories/item.repository';
export * from './repositories/stats.repository';
export * from './repositories/user.repository';
