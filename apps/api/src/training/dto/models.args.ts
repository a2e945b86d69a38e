import { ArgsType } from '@nestjs/graphql';
import { LimitArgs } from '../../validation/limit.args';

@ArgsType()
export class ModelsArgs extends LimitArgs(20, 100) {}
