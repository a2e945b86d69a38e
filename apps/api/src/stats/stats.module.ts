import { Module } from '@nestjs/common';
import { DatabaseModule } from '@app/database';
import { StatsResolver } from './stats.resolver';

@Module({ imports: [DatabaseModule], providers: [StatsResolver] })
export class StatsModule {}
