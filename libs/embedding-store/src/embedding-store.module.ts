import { Module } from '@nestjs/common';
import { EmbeddingStoreRepository } from './embedding-store.repository';

@Module({ providers: [EmbeddingStoreRepository], exports: [EmbeddingStoreRepository] })
export class EmbeddingStoreModule {}
